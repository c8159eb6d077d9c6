import { setHandler } from '@temporalio/workflow';
import {
  changeTimeGoalUpdate,
  datasetBatchSignal,
  progressQuery,
  reportTrainingUpdate,
  setTimeGoalSignal,
  stopTrainingSignal,
  type RunProgress,
  type TrainingControl,
} from './messages';

/** The counts of a dataset nothing has been reported for yet. */
export function emptyDatasetProgress(): RunProgress['dataset'] {
  return { found: 0, batches: 0, batchesDone: 0, downloaded: 0, duplicates: 0, failed: 0, pairs: 0 };
}

/** Adds each batch buildDataset reports to `dataset`. */
export function countDatasetBatches(dataset: RunProgress['dataset']): void {
  setHandler(datasetBatchSignal, (batch) => {
    dataset.batches = batch.batches;
    dataset.batchesDone += 1;
    dataset.downloaded += batch.downloaded;
    dataset.duplicates += batch.duplicates;
    dataset.failed += batch.failed;
    dataset.pairs += batch.pairs;
  });
}

/**
 * What a workflow that trains answers: the progress query, stopTraining, setTimeGoal (signal and
 * update), and the training activity's reports, whose reply carries the control back to it.
 */
export function handleTraining(progress: RunProgress, timeGoalSeconds: number): TrainingControl {
  const control: TrainingControl = { stop: false, timeGoalSeconds };
  setHandler(progressQuery, () => progress);
  setHandler(stopTrainingSignal, () => void (control.stop = true));
  setHandler(setTimeGoalSignal, (seconds) => void (control.timeGoalSeconds = seconds));
  setHandler(changeTimeGoalUpdate, (seconds) => ({ ...control, timeGoalSeconds: (control.timeGoalSeconds = seconds) }), {
    validator: (seconds) => {
      if (!(typeof seconds === 'number' && seconds > 0)) throw new Error('time goal must be a positive number of seconds');
    },
  });
  setHandler(reportTrainingUpdate, (report) => {
    progress.training = { ...report, timeGoalSeconds: control.timeGoalSeconds };
    return control;
  });
  return control;
}
