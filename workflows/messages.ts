import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** Where a run is, as the `progress` query returns it (and `bloomsight status` shows it). */
export interface RunProgress {
  runKey: string;
  stage: 'dataset' | 'train' | 'export' | 'render' | 'report' | 'done' | 'failed';
  dataset: { found: number; batches: number; batchesDone: number; downloaded: number; duplicates: number; failed: number; pairs: number };
  training?: TrainingProgress;
  datasetId?: string;
  modelId?: string;
  exportKey?: string;
  render?: { chunks: number; chunksDone: number; outputKey?: string };
  reportKey?: string;
  error?: string;
}

export interface TrainingProgress {
  step: number;
  maxSteps: number;
  elapsedSeconds: number;
  timeGoalSeconds: number;
  imagesPerSecond: number;
  etaSeconds: number;
  losses: { gGan: number; gL1: number; d: number };
  checkpointStep?: number;
  resumedFromStep?: number;
}

/** What the training activity learns back each time it reports progress. */
export interface TrainingControl {
  stop: boolean;
  timeGoalSeconds: number;
}

export interface DatasetBatchReport {
  /** Batches in the whole dataset, so progress can show a fraction. */
  batches: number;
  downloaded: number;
  duplicates: number;
  failed: number;
  pairs: number;
}

export const progressQuery = defineQuery<RunProgress>('progress');
/** Stop training at the next step, keep the checkpoint, and go on to export. */
export const stopTrainingSignal = defineSignal('stopTraining');
/** Change the training time goal (seconds of training, counted across resumes). */
export const setTimeGoalSignal = defineSignal<[number]>('setTimeGoal');
export const changeTimeGoalUpdate = defineUpdate<TrainingControl, [number]>('changeTimeGoal');
/** Sent by the training activity; the reply carries stop requests and time-goal changes back to it. */
export const reportTrainingUpdate = defineUpdate<TrainingControl, [TrainingProgress]>('reportTraining');
/** Sent by the dataset child workflow after each batch. */
export const datasetBatchSignal = defineSignal<[DatasetBatchReport]>('datasetBatch');
