import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalServices, type LocalServicesInfo } from '../services/local-services';

declare module 'vitest' {
  export interface ProvidedContext {
    services: LocalServicesInfo;
  }
}

/** Starts one real Temporal dev server and one real S3 server for every test file, and stops them after. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-test-services-'));
  const log = (line: string) => console.log(`[services] ${line}`);
  const services = await startLocalServices({ dir, log });
  project.provide('services', services.info);
  return async () => {
    await services.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
