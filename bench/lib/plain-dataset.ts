import { MockActivityEnvironment } from '@temporalio/testing';
import { createCpuActivities } from '../../activities/cpu';
import { createIoActivities } from '../../activities/io';
import type { RuntimeConfig } from '../../config/runtime';
import type { Store } from '../../storage';
import type { BuildDatasetInput } from '../../workflows/build-dataset';

/**
 * The dataset stages without Temporal: the same activity functions the workers run, called in a
 * plain loop with the same batching and concurrency as buildDataset (a mock context only gives them
 * heartbeat()). The baseline that bench/orchestration compares the workflow against.
 */
export async function runPlainDataset(store: Store, config: RuntimeConfig, spec: BuildDatasetInput) {
  const io = createIoActivities({ store, config });
  const cpu = createCpuActivities({ store, config });
  const env = new MockActivityEnvironment();
  const call = <A, R>(fn: (input: A) => Promise<R>, input: A) => env.run(fn, input) as Promise<R>;
  const scrape = await call(io.scrapeImages, { runKey: spec.runKey, query: spec.query, provider: spec.provider, providerOptions: spec.providerOptions, maxItems: spec.maxItems });
  const batches = Math.ceil(scrape.found / spec.batchSize);
  let next = 0;
  const lane = async () => {
    while (next < batches) {
      const batch = next++;
      await call(io.downloadBatch, { runKey: spec.runKey, batch, searchKey: scrape.searchKey, batchSize: spec.batchSize });
      await call(cpu.conformBatch, { runKey: spec.runKey, batch, imageSize: spec.imageSize, fit: spec.fit });
      await call(cpu.partialBatch, { runKey: spec.runKey, batch, imageSize: spec.imageSize, partial: spec.partial });
    }
  };
  await Promise.all(Array.from({ length: spec.parallelBatches }, lane));
  return call(cpu.writeDatasetManifest, { runKey: spec.runKey, batches, imageSize: spec.imageSize, partial: spec.partial });
}

/** The dataset the benches build: `count` URLs from a list at inputs/urls.txt → 256x256 k-means pairs. */
export function benchDatasetSpec(runKey: string, count: number, batchSize: number, parallelBatches: number): BuildDatasetInput {
  return {
    runKey,
    query: 'bench',
    provider: 'url-list',
    providerOptions: { key: 'inputs/urls.txt' },
    maxItems: count,
    imageSize: 256,
    fit: 'centre',
    partial: { method: 'kmeans', k: 7, paint: 'palette', blurSigma: 0, seed: 0x5eed },
    batchSize,
    parallelBatches,
    taskQueues: { io: 'bench-io', cpu: 'bench-cpu', gpu: 'bench-gpu' },
  };
}
