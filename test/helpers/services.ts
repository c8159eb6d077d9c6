import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { S3ServerInfo } from '../../services/local-services';
import { S3Store } from '../../storage';

/** The shared services started by test/global-setup.ts. */
export function testServices() {
  const services = inject('services');
  if (!services.temporal || !services.s3 || !services.minio) throw new Error('global setup did not start the services');
  return { temporal: services.temporal, s3: services.s3, minio: services.minio };
}

/** The two real S3 servers the tests run: versitygw (the default) and MinIO (production's). */
export type S3ServerName = 'versitygw' | 'minio';

/** Connection settings of one of the test S3 servers. */
export function s3Server(name: S3ServerName = 'versitygw'): S3ServerInfo {
  const services = testServices();
  return name === 'minio' ? services.minio : services.s3;
}

/** The test S3 server a store talks to, by its endpoint (undefined for a server a test started itself). */
export function s3ServerOf(store: S3Store): S3ServerInfo | undefined {
  const services = testServices();
  const host = store.location.split('/')[2];
  return [services.s3, services.minio].find((s) => new URL(s.endpoint).host === host);
}

/** A fresh bucket on a real S3 server, so test files never see each other's objects. */
export async function freshS3Store(label: string, server: S3ServerName = 'versitygw'): Promise<S3Store> {
  const s3 = s3Server(server);
  const bucket = `t-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 30)}-${randomBytes(4).toString('hex')}`;
  const store = new S3Store({ ...s3, bucket });
  await store.ensureBucket();
  return store;
}

/** A task queue unique to one test, derived from its title, so tests never steal each other's tasks. */
export function taskQueueFor(title: string): string {
  return `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
}
