import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { TrainVariantInputSchema, type TrainVariantInputJson } from '../config/train-variant-input';
import { emptyDatasetProgress, handleTraining } from './handlers';
import type { RunProgress } from './messages';
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { parseInput } from './validate';

export { TrainVariantInputSchema, type TrainVariantInputJson };


export interface TrainVariantResult {
  modelId: string;
  datasetId: string;
  /** Pairs made for this variant; 0 when another run or variant had made them all. */
  pairsComputed: number;
  exportKey: string;
  steps: number;
  trainingSeconds: number;
  stoppedBy: string;
}

/**
 * One variant of a comparison: its dataset derived from the shared one (cpu), training (gpu, on
 * whichever gpu worker is free) and export. The child workflow of compareVariants; it answers the
 * same progress query, stopTraining signal and time-goal messages as a run, so
 * `bloomsight status <comparison>--<variant>` shows its training. Every stage finds finished work
 * in the store: started again, a trained variant costs three quick activities.
 */
export async function trainVariant(rawInput: TrainVariantInputJson): Promise<TrainVariantResult> {
  const input = parseInput(TrainVariantInputSchema, rawInput, 'variant input');
  const { modelId } = input;
  const progress: RunProgress = {
    runKey: modelId,
    stage: 'dataset',
    dataset: emptyDatasetProgress(),
    modelId,
  };
  handleTraining(progress, input.train.timeGoalSeconds);

  const cpu = proxyQueue('cpu', input.taskQueues, {
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
    retry: retryPolicy({ initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 }),
  });
  // As learnToSee's training: heartbeats every few steps, so a worker that dies is noticed within the timeout.
  const gpu = proxyQueue('gpu', input.taskQueues, {
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
    retry: retryPolicy({ initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 20 }),
  });

  try {
    const dataset = await cpu.deriveDataset({ runKey: modelId, baseDatasetId: input.baseDatasetId, imageSize: input.train.imageSize, partial: input.partial });
    progress.datasetId = dataset.datasetId;
    progress.dataset.pairs = dataset.pairs;

    progress.stage = 'train';
    const trained = await gpu.trainModel({ runKey: modelId, modelId, datasetId: dataset.datasetId, options: input.train });

    progress.stage = 'export';
    const exported = await gpu.exportModel({ modelId, datasetId: dataset.datasetId, partial: input.partial });
    progress.exportKey = exported.exportKey;
    progress.stage = 'done';
    return {
      modelId,
      datasetId: dataset.datasetId,
      pairsComputed: dataset.computed,
      exportKey: exported.exportKey,
      steps: exported.steps,
      trainingSeconds: trained.trainingSeconds,
      stoppedBy: trained.stoppedBy,
    };
  } catch (error) {
    progress.stage = 'failed';
    progress.error = `${workflowInfo().workflowId}: ${(error as Error).message}`;
    throw error;
  }
}
