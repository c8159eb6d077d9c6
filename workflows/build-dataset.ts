import { continueAsNew, getExternalWorkflowHandle, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { BuildDatasetInputSchema, type BuildDatasetInput, type BuildDatasetInputJson } from '../config/dataset-input';
import { datasetBatchSignal, type DatasetBatchReport } from './messages';
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { parseInput } from './validate';

export { BuildDatasetInputSchema, type BuildDatasetInput, type BuildDatasetInputJson };

export interface BuildDatasetResult {
  datasetId: string;
  manifestKey: string;
  pairs: number;
  found: number;
  batches: number;
  downloaded: number;
  failed: number;
}

const retry = retryPolicy({ initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 });

/**
 * Builds one dataset version: scrape once (results saved before any download), then for each batch of
 * `batchSize` items download (io) → conform → partial information (cpu), `parallelBatches` batches in
 * flight, spread over every worker polling the queues. Each batch activity skips what it already finished.
 * The history grows with the number of batches, so the workflow continues as new when Temporal suggests it.
 */
export async function buildDataset(rawInput: BuildDatasetInputJson): Promise<BuildDatasetResult> {
  const input: BuildDatasetInput = parseInput(BuildDatasetInputSchema, rawInput, 'dataset input');
  const heartbeatTimeout = (input.heartbeatTimeoutSeconds ?? 120) * 1000;
  const io = proxyQueue('io', input.taskQueues, { startToCloseTimeout: '30 minutes', heartbeatTimeout, retry });
  const cpu = proxyQueue('cpu', input.taskQueues, { startToCloseTimeout: '30 minutes', heartbeatTimeout, retry });
  const parent = input.reportTo ? getExternalWorkflowHandle(input.reportTo) : undefined;

  const scrape = input.resume ?? {
    ...(await io.scrapeImages({
      runKey: input.runKey,
      query: input.query,
      provider: input.provider,
      providerOptions: input.providerOptions,
      maxItems: input.maxItems,
    })),
    nextBatch: 0,
  };
  const batches = Math.ceil(scrape.found / input.batchSize);

  let next = scrape.nextBatch;
  const inFlight = new Set<Promise<void>>();
  const runBatch = async (batch: number) => {
    const common = { runKey: input.runKey, batch };
    const downloaded = await io.downloadBatch({ ...common, searchKey: scrape.searchKey, batchSize: input.batchSize, baseDatasetId: input.baseDatasetId });
    await cpu.conformBatch({ ...common, imageSize: input.imageSize, fit: input.fit });
    const pairs = await cpu.partialBatch({ ...common, imageSize: input.imageSize, partial: input.partial });
    const report: DatasetBatchReport = { batches, downloaded: downloaded.downloaded, duplicates: downloaded.duplicates, failed: downloaded.failed, pairs: pairs.pairs };
    await parent?.signal(datasetBatchSignal, report);
  };
  while (next < batches) {
    if (workflowInfo().continueAsNewSuggested) {
      await Promise.all(inFlight);
      await continueAsNew<typeof buildDataset>({ ...input, resume: { searchKey: scrape.searchKey, found: scrape.found, nextBatch: next } });
    }
    const task = runBatch(next++).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= input.parallelBatches) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  const manifest = await cpu.writeDatasetManifest({ runKey: input.runKey, batches, imageSize: input.imageSize, partial: input.partial, baseDatasetId: input.baseDatasetId });
  return { ...manifest, found: scrape.found, batches };
}
