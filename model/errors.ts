/**
 * Every error the model library throws, in a module that imports nothing at run time (no tfjs), so
 * that workflows, the camera page and the cpu worker can name or construct them without loading
 * TensorFlow. Each class says when it is thrown; activities let them through as they are (Temporal
 * takes the error's `name` as its type).
 */
import type { CheckpointRef } from './checkpoint';
import type { MemoryEstimate, SizeOptions, SmallerConfiguration } from './memory';
import type { StepLosses } from './pix2pix';

/** Thrown when the training pairs are unusable: none at all, or images of the wrong size. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** Thrown by train when its AbortSignal fires (checked before every step); the last checkpoint stays. */
export class TrainingAbortedError extends Error {
  override readonly name = 'TrainingAbortedError';
  constructor(
    readonly step: number,
    readonly lastCheckpoint: CheckpointRef | undefined,
    readonly reason: unknown,
  ) {
    super(`training aborted at step ${step}${lastCheckpoint ? ` (last checkpoint: step ${lastCheckpoint.step})` : ' (no checkpoint yet)'}`);
  }
}

/** Thrown by train when a loss becomes NaN or infinite; nothing after the last checkpoint is saved. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';
  constructor(
    readonly step: number,
    readonly losses: StepLosses,
  ) {
    super(`training diverged at step ${step}: losses ${JSON.stringify(losses)}`);
  }
}

/** Thrown by train when resuming a checkpoint made with different network or optimiser options. */
export class IncompatibleCheckpointError extends Error {
  override readonly name = 'IncompatibleCheckpointError';
}

/** Thrown when a checkpoint part is missing, damaged or does not match its manifest. */
export class CheckpointCorruptError extends Error {
  override readonly name = 'CheckpointCorruptError';
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`checkpoint ${dir} is unusable: ${reason}`);
  }
}

/** Thrown when saved weights do not fit the networks (missing names, other sizes): another model. */
export class WeightMismatchError extends Error {
  override readonly name = 'WeightMismatchError';
}

/** Thrown when saved optimiser state does not match the parameters (another model). */
export class OptimizerStateMismatchError extends Error {
  override readonly name = 'OptimizerStateMismatchError';
}

/** Thrown by loadExport when the model has no complete export (metadata.json is written last). */
export class ExportNotFoundError extends Error {
  override readonly name = 'ExportNotFoundError';
  constructor(
    readonly modelId: string,
    readonly metadataKey: string,
  ) {
    super(`model ${modelId} has no complete export (no ${metadataKey})`);
  }
}

/** Thrown by loadExport when export files are missing, damaged, or do not match metadata.json. */
export class ExportCorruptError extends Error {
  override readonly name = 'ExportCorruptError';
}

/** Thrown by translate* when inputs do not have the export's image size. */
export class InferenceInputError extends Error {
  override readonly name = 'InferenceInputError';
}

/**
 * Thrown by checkMemory (and so by train) before training starts when the estimate exceeds the
 * budget. Carries the estimate and, when one fits, a smaller configuration to use instead.
 */
export class ModelTooLargeError extends Error {
  override readonly name = 'ModelTooLargeError';
  constructor(
    readonly options: SizeOptions,
    readonly estimate: MemoryEstimate,
    readonly budgetBytes: number,
    readonly suggestion: SmallerConfiguration | undefined,
  ) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    const describe = (o: SizeOptions) => `${o.imageSize}x${o.imageSize}, ngf=${o.ngf}, ndf=${o.ndf}, batch ${o.batchSize}`;
    const advice = suggestion
      ? `try ${suggestion.preset ? `preset '${suggestion.preset}' (` : '('}${describe(suggestion.options)}), estimated ${gib(suggestion.estimate.totalBytes)}`
      : 'no smaller configuration fits either: raise memoryBudgetBytes or use a machine with more memory';
    super(
      `model too large: ${describe(options)} needs about ${gib(estimate.totalBytes)} ` +
        `(parameters and optimiser ${gib(estimate.parameterBytes)}, activations ${gib(estimate.activationBytes)}, ` +
        `data ${gib(estimate.dataBytes)}, runtime ${gib(estimate.overheadBytes)}) but the budget is ${gib(budgetBytes)}; ${advice}`,
    );
  }
}
