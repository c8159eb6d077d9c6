import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { S3Store } from '../../storage';

/** The shared services started by test/global-setup.ts. */
export function testServices() {
  const services = inject('services');
  if (!services.temporal || !services.s3) throw new Error('global setup did not start the services');
  return { temporal: services.temporal, s3: services.s3 };
}

/** A fresh bucket on the real S3 server, so test files never see each other's objects. */
export async function freshS3Store(label: string): Promise<S3Store> {
  const { s3 } = testServices();
  const bucket = `t-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 30)}-${randomBytes(4).toString('hex')}`;
  const store = new S3Store({ ...s3, bucket });
  await store.ensureBucket();
  return store;
}

/** A task queue unique to one test, derived from its title, so tests never steal each other's tasks. */
export function taskQueueFor(title: string): string {
  return `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
}
