import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findBinary } from '../services/binaries';
import { startLocalServices, type LocalServicesInfo } from '../services/local-services';

declare module 'vitest' {
  export interface ProvidedContext {
    services: LocalServicesInfo;
  }
}

/**
 * Starts one real Temporal dev server (with its Web UI) and two real S3 servers, versitygw and MinIO,
 * for every test file, and stops them after.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-test-services-'));
  const log = (line: string) => console.log(`[services] ${line}`);
  if (!(await findBinary('minio', 'BLOOMSIGHT_MINIO_BIN'))) log(`building MinIO's server once (about 5 minutes; \`bash scripts/setup.sh --tests\` does it ahead)`);
  const services = await startLocalServices({ dir, log, minio: true });
  project.provide('services', services.info);
  return async () => {
    await services.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
