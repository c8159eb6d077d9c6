/**
 * The training loop: steps until the step limit or the time goal, checkpoints every N steps or T
 * seconds, reports progress, stops on an AbortSignal, and yields to the event loop after every step
 * so heartbeats and cancellation keep running in the same process.
 *
 * Reproducibility: weight init, data order, jitter and dropout masks are all keyed by (seed, step or
 * sample position), and a checkpoint restores weights, both optimisers' moments and step counts, and
 * the data cursor bit for bit. So a resumed run computes the same next step as an uninterrupted one,
 * provided the same backend and thread settings (libtensorflow's multi-threaded reductions could in
 * principle reorder float sums; on this CPU build they have been deterministic). Not reproduced
 * across backends (native vs pure-JS kernels round differently) nor after the pair set changes.
 */
import * as tf from '@tensorflow/tfjs';
import type { Store } from '../storage';
import { loadLatestCheckpoint, saveCheckpoint, type CheckpointRef, type LossRecord, type SkippedCheckpoint } from './checkpoint';
import { PairDataset, type DataOrderState, type ImagePair } from './data';
import { checkMemory, defaultMemoryBudget, type MemoryEstimate } from './memory';
import { resolveTrainOptions, type Provenance, type TrainOptions, type TrainOptionsInput } from './options';
import { activeBackend } from './backend';
import { Pix2Pix, type EngineName, type StepLosses, type WeightValues } from './pix2pix';
import { TrainingAbortedError, TrainingDivergedError, IncompatibleCheckpointError } from './errors';
export { TrainingAbortedError, TrainingDivergedError, IncompatibleCheckpointError };

export interface TrainRequest {
  /** Raw (validated here) or already resolved options. */
  options: TrainOptionsInput | TrainOptions;
  pairs: ImagePair[];
  store: Store;
  modelId: string;
  /** Names this writer (e.g. the activity attempt); checkpoints go to attempt-scoped folders. */
  attempt: string;
  provenance?: Provenance;
  /** 'resume' (default): continue from the newest complete checkpoint, if any. 'fresh': ignore them. */
  start?: 'resume' | 'fresh';
  /** The step engine; default: the one initBackend chose for this process. */
  engine?: EngineName;
  /** Fine-tuning: generator weights to start from (see loadExportedGeneratorWeights); unused when resuming. */
  initialGenerator?: WeightValues;
  signal?: AbortSignal;
  onProgress?: (progress: TrainProgress) => void | Promise<void>;
  /**
   * Read before every step (the activity updates it from its workflow): `stop` ends training like the
   * step limit, with a final checkpoint; `timeGoalSeconds` replaces the time goal from then on.
   */
  control?: () => { stop?: boolean; timeGoalSeconds?: number };
  onCheckpoint?: (ref: CheckpointRef) => void | Promise<void>;
  /** Skipped broken checkpoints, a changed pair set, ... */
  onWarning?: (message: string) => void;
}

/** The shortest span the reported throughput is measured over. */
const RATE_WINDOW_MS = 2000;

export interface TrainProgress {
  step: number;
  maxSteps: number;
  losses: StepLosses;
  /** Over the last 2-4 seconds of training (since the start, before that). */
  imagesPerSecond: number;
  /** Training time over all attempts. */
  elapsedSeconds: number;
  timeGoalSeconds: number;
  /** Until the step limit or the time goal, whichever comes first. */
  etaSeconds: number;
  lastCheckpoint?: CheckpointRef;
  /** The checkpoint step this attempt started from, if it resumed. */
  resumedFromStep?: number;
}

export type StopReason = 'max-steps' | 'time-goal' | 'requested';

export interface TrainResult {
  /** The trained model, still in memory: export it, then dispose() it. */
  model: Pix2Pix;
  options: TrainOptions;
  step: number;
  stoppedBy: StopReason;
  finalLosses: StepLosses | undefined;
  lossHistory: LossRecord[];
  trainingSeconds: number;
  /** Mean over this attempt's steps. */
  imagesPerSecond: number;
  lastCheckpoint: CheckpointRef | undefined;
  resumedFrom: CheckpointRef | undefined;
  skippedCheckpoints: SkippedCheckpoint[];
  memoryEstimate: MemoryEstimate;
}

/** Options a resumed run may change: only how long and how often, never what is trained. */
const LOOP_CONTROL = ['maxSteps', 'timeGoalSeconds', 'checkpointEverySteps', 'checkpointEverySeconds', 'progressEverySteps', 'keepCheckpoints', 'memoryBudgetBytes'] as const;

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function train(request: TrainRequest): Promise<TrainResult> {
  const { store, modelId, attempt, signal } = request;
  const warn = request.onWarning ?? ((message: string) => console.warn(`[train] ${message}`));
  let options = resolveTrainOptions(request.options as TrainOptionsInput);
  const loadSize = options.jitter.enabled ? Math.round(options.imageSize * options.jitter.resizeRatio) : options.imageSize;
  const memoryEstimate = checkMemory(options, options.memoryBudgetBytes ?? defaultMemoryBudget(), request.pairs.length * loadSize * loadSize * 6);
  if (signal?.aborted) throw new TrainingAbortedError(0, undefined, signal.reason);

  const resumed = request.start === 'fresh' ? undefined : await loadLatestCheckpoint(store, modelId, (s) => warn(`skipping checkpoint ${s.dir}: ${s.reason}`));
  if (resumed) options = compatibleOptions(resumed.content.options, options);

  const dataset = await PairDataset.load(request.pairs, options.imageSize, options.jitter, options.seed);
  const model = new Pix2Pix(options, request.engine ?? activeBackend().engine);
  let cursor = 0;
  let trainingSeconds = 0;
  let lossHistory: LossRecord[] = [];
  try {
    if (resumed) {
      model.restore(resumed.content.snapshot);
      cursor = resumed.content.data.cursor;
      trainingSeconds = resumed.content.trainingSeconds;
      lossHistory = resumed.content.lossHistory;
      if (resumed.content.data.pairCount !== dataset.size) {
        warn(`checkpoint was trained on ${resumed.content.data.pairCount} pairs, now ${dataset.size}: the data order differs from an uninterrupted run`);
      }
    } else if (request.initialGenerator) {
      model.setWeights('generator', request.initialGenerator);
    }
    const run = new Run(request, options, model, dataset, cursor, trainingSeconds, lossHistory, resumed?.ref);
    const outcome = await run.loop();
    return { ...outcome, model, options, resumedFrom: resumed?.ref, skippedCheckpoints: resumed?.skipped ?? [], memoryEstimate };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function compatibleOptions(saved: TrainOptions, requested: TrainOptions): TrainOptions {
  const merged: TrainOptions = { ...saved };
  for (const key of LOOP_CONTROL) (merged as Record<string, unknown>)[key] = requested[key];
  const differs = (Object.keys(saved) as Array<keyof TrainOptions>).filter(
    (key) => !(LOOP_CONTROL as readonly string[]).includes(key) && key !== 'preset' && JSON.stringify(saved[key]) !== JSON.stringify(requested[key]),
  );
  if (differs.length > 0) {
    throw new IncompatibleCheckpointError(
      `the newest checkpoint was trained with other options (${differs.map((k) => `${k}: ${JSON.stringify(saved[k])} vs ${JSON.stringify(requested[k])}`).join('; ')}); ` +
        `start fresh or use another model id`,
    );
  }
  return merged;
}

class Run {
  private lastCheckpoint: CheckpointRef | undefined;
  private lastCheckpointStep: number;
  private lastCheckpointTime = performance.now();
  private window: StepLosses[] = [];
  private finalLosses: StepLosses | undefined;
  private progressMark: { time: number; step: number } = { time: performance.now(), step: 0 };
  private readonly resumedFromStep: number | undefined;
  private timeGoalSeconds: number;

  constructor(
    private readonly request: TrainRequest,
    private readonly options: TrainOptions,
    private readonly model: Pix2Pix,
    private readonly dataset: PairDataset,
    private cursor: number,
    private trainingSeconds: number,
    private readonly lossHistory: LossRecord[],
    resumedFrom: CheckpointRef | undefined,
  ) {
    this.lastCheckpoint = resumedFrom;
    this.resumedFromStep = resumedFrom?.step;
    this.timeGoalSeconds = options.timeGoalSeconds;
    this.lastCheckpointStep = model.step;
    this.progressMark.step = model.step;
  }

  async loop(): Promise<Pick<TrainResult, 'step' | 'stoppedBy' | 'finalLosses' | 'lossHistory' | 'trainingSeconds' | 'imagesPerSecond' | 'lastCheckpoint'>> {
    const { options, model, request } = this;
    const startStep = model.step;
    const started = performance.now();
    // Training time = time spent in steps. Checkpoint writes, progress callbacks and yields do not
    // count, so the value a checkpoint saves is exactly the one the time goal was last checked
    // against: a run stopped by its time goal resumes already at the goal.
    let stoppedBy: StopReason;
    for (;;) {
      if (request.signal?.aborted) {
        throw new TrainingAbortedError(model.step, this.lastCheckpoint, request.signal.reason);
      }
      if (model.step >= options.maxSteps) {
        stoppedBy = 'max-steps';
        break;
      }
      const control = request.control?.();
      if (control?.timeGoalSeconds !== undefined) this.timeGoalSeconds = control.timeGoalSeconds;
      if (control?.stop) {
        stoppedBy = 'requested';
        break;
      }
      if (this.trainingSeconds >= this.timeGoalSeconds) {
        stoppedBy = 'time-goal';
        break;
      }
      const stepStart = performance.now();
      const losses = this.step();
      this.trainingSeconds += (performance.now() - stepStart) / 1000;
      if (this.checkpointDue()) await this.checkpoint();
      if ((model.step - startStep) % options.progressEverySteps === 0 && request.onProgress) {
        await request.onProgress(this.progress(losses, this.trainingSeconds));
      }
      await yieldToEventLoop();
    }
    const seconds = (performance.now() - started) / 1000;
    if (this.lastCheckpoint?.step !== model.step) await this.checkpoint();
    return {
      step: model.step,
      stoppedBy,
      finalLosses: this.finalLosses,
      lossHistory: this.lossHistory,
      trainingSeconds: this.trainingSeconds,
      imagesPerSecond: seconds > 0 ? ((model.step - startStep) * options.batchSize) / seconds : 0,
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  private step(): StepLosses {
    const { model, options } = this;
    const batch = this.dataset.batch(this.cursor, options.batchSize);
    let losses: StepLosses;
    try {
      losses = model.readLosses(model.trainStep(batch));
    } finally {
      tf.dispose([batch.input, batch.target]);
    }
    this.cursor += options.batchSize;
    if (![losses.gGan, losses.gL1, losses.dReal, losses.dFake].every(Number.isFinite)) throw new TrainingDivergedError(model.step, losses);
    this.finalLosses = losses;
    this.window.push(losses);
    if (this.window.length >= options.historyEverySteps) this.flushHistory();
    return losses;
  }

  private flushHistory(): void {
    if (this.window.length === 0) return;
    const mean = (pick: (l: StepLosses) => number) => this.window.reduce((sum, l) => sum + pick(l), 0) / this.window.length;
    this.lossHistory.push({ step: this.model.step, gGan: mean((l) => l.gGan), gL1: mean((l) => l.gL1), g: mean((l) => l.g), d: mean((l) => l.d) });
    this.window = [];
  }

  private checkpointDue(): boolean {
    return (
      this.model.step - this.lastCheckpointStep >= this.options.checkpointEverySteps ||
      (performance.now() - this.lastCheckpointTime) / 1000 >= this.options.checkpointEverySeconds
    );
  }

  private async checkpoint(): Promise<void> {
    const { model, options, request } = this;
    this.flushHistory();
    const data: DataOrderState = { cursor: this.cursor, seed: options.seed, pairCount: this.dataset.size };
    const { generator, discriminator } = model.networks;
    const shapes = (weights: typeof generator.weights) => new Map(weights.map((w) => [w.name, [...w.shape]]));
    const ref = await saveCheckpoint(
      request.store,
      request.modelId,
      request.attempt,
      {
        snapshot: await model.snapshotAsync(),
        options,
        data,
        lossHistory: this.lossHistory,
        trainingSeconds: this.trainingSeconds,
        provenance: request.provenance,
        backend: tf.getBackend(),
      },
      {
        keep: options.keepCheckpoints,
        shapes: { generator: shapes(generator.weights), discriminator: shapes(discriminator.weights) },
        trainable: { generator: generator.trainable.map((w) => w.name), discriminator: discriminator.trainable.map((w) => w.name) },
      },
    );
    this.lastCheckpoint = ref;
    this.lastCheckpointStep = model.step;
    this.lastCheckpointTime = performance.now();
    await request.onCheckpoint?.(ref);
  }

  private progress(losses: StepLosses, elapsedSeconds: number): TrainProgress {
    const { model, options } = this;
    // Throughput since a mark that moves on every RATE_WINDOW_MS: over 2-4 s, never one noisy step.
    const now = performance.now();
    const seconds = (now - this.progressMark.time) / 1000;
    const steps = model.step - this.progressMark.step;
    if (now - this.progressMark.time >= RATE_WINDOW_MS) this.progressMark = { time: now, step: model.step };
    const imagesPerSecond = seconds > 0 ? (steps * options.batchSize) / seconds : 0;
    const stepsLeft = options.maxSteps - model.step;
    const byTime = Math.max(0, this.timeGoalSeconds - elapsedSeconds);
    const bySteps = imagesPerSecond > 0 ? (stepsLeft * options.batchSize) / imagesPerSecond : Infinity;
    return {
      step: model.step,
      maxSteps: options.maxSteps,
      losses,
      imagesPerSecond,
      elapsedSeconds,
      timeGoalSeconds: this.timeGoalSeconds,
      etaSeconds: Math.min(byTime, bySteps),
      lastCheckpoint: this.lastCheckpoint,
      resumedFromStep: this.resumedFromStep,
    };
  }
}
