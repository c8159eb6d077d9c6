import { executeChild, patched, proxyActivities, setHandler, workflowInfo, log } from '@temporalio/workflow';
import { LegacyRunInputSchema, RunInputSchema, type RunInput, type RunInputJson } from '../config/run-input';
import { resolveTrainOptions } from '../model/options';
import { buildDataset } from './build-dataset';
import { renderVideo } from './render-video';
import { countDatasetBatches, emptyDatasetProgress, handleTraining } from './handlers';
import type { RunProgress } from './messages';
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { parseInput, runKeyFromWorkflowId } from './validate';

export interface LearnToSeeResult {
  runKey: string;
  datasetId: string;
  modelId: string;
  exportKey: string;
  steps: number;
  pairs: number;
  render?: { mp4Key: string; gifKey: string };
  reportKey: string;
}

/** Marks runs whose input was checked against the trust boundary (provider options, limits) at their start. */
export const TRUST_BOUNDARY_PATCH = 'run-input-trust-boundary';

/**
 * The whole pipeline: query → dataset (child workflow) → train → export → render.
 * Starting the same run key again resumes: every stage finds its finished outputs in the store.
 */
export async function learnToSee(rawInput: RunInputJson): Promise<LearnToSeeResult> {
  const withKey = { ...(rawInput ?? {}), runKey: rawInput?.runKey ?? runKeyFromWorkflowId(workflowInfo().workflowId) };
  // Runs started before the trust boundary replay with the input shape they were started with (failing
  // them here would break their replay); the io worker refuses what they may no longer ask for.
  const schema = patched(TRUST_BOUNDARY_PATCH) ? RunInputSchema : LegacyRunInputSchema;
  const input = parseInput(schema, withKey, 'run input') as RunInput;
  const train = resolveTrainOptions(input.train);
  const modelId = input.runKey;

  const progress: RunProgress = {
    runKey: input.runKey,
    stage: 'dataset',
    dataset: emptyDatasetProgress(),
    modelId,
  };
  handleTraining(progress, train.timeGoalSeconds);
  countDatasetBatches(progress.dataset);

  const io = proxyQueue('io', input.taskQueues, { startToCloseTimeout: '1 minute', retry: retryPolicy({ maximumAttempts: 10 }) });
  const gpu = proxyQueue('gpu', input.taskQueues, {
    startToCloseTimeout: '24 hours',
    // Training heartbeats every few steps; a worker that dies is noticed within this.
    heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
    // Training resumes from its last checkpoint and deterministic failures are not retried at all, so
    // what is left is a lost worker or a store or server away: try again soon (a failed attempt costs
    // one listing), and never wait long however many workers a long run has lost.
    retry: retryPolicy({ initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 20 }),
  });

  const reports = proxyQueue('gpu', input.taskQueues, {
    startToCloseTimeout: '30 minutes',
    // Without it a worker killed while writing the report would be waited for until the 30 minutes pass.
    heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
    retry: retryPolicy({ maximumAttempts: 5 }),
  });

  try {
    const line = input.line ? await io.readLine({ line: input.line }) : undefined;
    const dataset = await executeChild(buildDataset, {
      workflowId: `${workflowInfo().workflowId}--dataset`,
      args: [
        {
          runKey: input.runKey,
          query: input.query,
          provider: input.provider,
          providerOptions: input.providerOptions,
          maxItems: input.maxItems,
          imageSize: train.imageSize,
          fit: input.fit,
          partial: input.partial,
          batchSize: input.batchSize,
          parallelBatches: input.parallelBatches,
          taskQueues: input.taskQueues,
          baseDatasetId: line?.datasetId,
          reportTo: workflowInfo().workflowId,
          heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
        },
      ],
    });
    progress.datasetId = dataset.datasetId;
    progress.dataset.found = dataset.found;
    progress.dataset.pairs = dataset.pairs;

    progress.stage = 'train';
    const fineTuneFrom = input.fineTuneFrom === 'latest' ? line?.modelId : input.fineTuneFrom;
    const trained = await gpu.trainModel({ runKey: input.runKey, modelId, datasetId: dataset.datasetId, options: input.train, fineTuneFrom });

    progress.stage = 'export';
    const exported = await gpu.exportModel({ modelId, datasetId: dataset.datasetId, partial: input.partial });
    progress.exportKey = exported.exportKey;
    if (input.line) await io.recordLine({ line: input.line, datasetId: dataset.datasetId, modelId, exportKey: exported.exportKey });

    let render: LearnToSeeResult['render'];
    if (input.video) {
      progress.stage = 'render';
      const rendered = await executeChild(renderVideo, {
        workflowId: `${workflowInfo().workflowId}--render`,
        args: [{ modelId, video: input.video, renderId: input.runKey, taskQueues: input.taskQueues, heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds }],
      });
      render = { mp4Key: rendered.mp4Key, gifKey: rendered.gifKey };
      progress.render = { chunks: rendered.chunks, chunksDone: rendered.chunks, outputKey: rendered.mp4Key };
    }

    progress.stage = 'report';
    const { reportKey } = await reports.writeReport({
      runKey: input.runKey,
      modelId,
      datasetId: dataset.datasetId,
      batches: dataset.batches,
      found: dataset.found,
      parameters: input as unknown as Record<string, unknown>,
      renderId: input.video ? input.runKey : undefined,
    });
    progress.reportKey = reportKey;

    progress.stage = 'done';
    log.info('run finished', { runKey: input.runKey, steps: trained.steps, pairs: dataset.pairs });
    return { runKey: input.runKey, datasetId: dataset.datasetId, modelId, exportKey: exported.exportKey, steps: trained.steps, pairs: dataset.pairs, render, reportKey };
  } catch (error) {
    progress.stage = 'failed';
    progress.error = (error as Error).message;
    throw error;
  }
}
