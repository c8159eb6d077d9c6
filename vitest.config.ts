import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One real Temporal server and one real S3 server for the whole run (see test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    // Forks, not threads: the Temporal worker's native bridge and tfjs-node misbehave in worker threads.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
