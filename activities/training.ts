import { randomBytes } from 'node:crypto';
import { CancelledFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import type { RuntimeConfig } from '../config/runtime';
import { splitPair } from '../imaging';
import type { PartialParams } from '../imaging/partial-params';
import { loadLatestCheckpoint } from '../model/checkpoint';
import type { ImagePair } from '../model/data';
import { exportGenerator } from '../model/export';
import { loadExportedGeneratorWeights } from '../model/infer';
import { networkOptions, resolveTrainOptions, type TrainOptionsInput } from '../model/options';
import { train, type TrainProgress } from '../model/train';
import { getJson, keys, putJson, type Store } from '../storage';
import { reportTrainingUpdate, type TrainingControl, type TrainingProgress } from '../workflows/messages';
import { DatasetManifestSchema, readIfPresent } from './dataset-records';
import { ExportError, WorkerShutdownError } from './errors';
import { heartbeater } from './heartbeat';
import { workerBackend } from './model-runtime';
import { trainingMetrics } from './metrics';

export { ExportError };

const TrainRecordSchema = z.object({
  modelId: z.string(),
  steps: z.number(),
  stoppedBy: z.string(),
  trainingSeconds: z.number(),
  checkpointDir: z.string().optional(),
  resumedFromStep: z.number().optional(),
  fineTunedFrom: z.string().optional(),
});
export type TrainRecord = z.infer<typeof TrainRecordSchema>;

/**
 * Draining a worker (SIGTERM) must not cost training steps. The SDK cancels running activities with
 * WORKER_SHUTDOWN once the shutdown grace time is over; training then stops after the step it is in,
 * with a checkpoint of that step (the library's `stop` control), and the attempt fails retryably, so
 * the retry resumes exactly there. Any other cancellation (the workflow's, a heartbeat timeout) aborts
 * at once, as before.
 */
function drainOnWorkerShutdown(cancellation: AbortSignal): { signal: AbortSignal; readonly draining: boolean } {
  const abort = new AbortController();
  let draining = false;
  const onCancel = () => {
    const reason: unknown = cancellation.reason;
    if (reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN') draining = true;
    else abort.abort(reason);
  };
  if (cancellation.aborted) onCancel();
  else cancellation.addEventListener('abort', onCancel, { once: true });
  return {
    signal: abort.signal,
    get draining() {
      return draining;
    },
  };
}

/**
 * How often training reports to its workflow (progress query, stop and time-goal changes): every 5 s
 * at first, then every 1/120 of the time trained so far, so a day of training adds a few hundred
 * updates to the history, not tens of thousands.
 */
const reportIntervalMs = (trainingMs: number) => Math.max(5_000, trainingMs / 120);

/** Training and inference: the activities of the gpu queue. */
export function createTrainingActivities(store: Store, config: RuntimeConfig) {
  return {
    /**
     * Trains pix2pix on a dataset until the time goal or the step limit, from the newest complete
     * checkpoint if there is one. Heartbeats every step; reports to the workflow every few seconds
     * (its reply carries stop requests and time-goal changes). A finished training is recorded, so a
     * resumed run skips it.
     */
    async trainModel(input: { runKey: string; modelId: string; datasetId: string; options: TrainOptionsInput; fineTuneFrom?: string }): Promise<TrainRecord> {
      const recordKey = keys.runRecord(input.runKey, 'train');
      const done = await readIfPresent(store, recordKey, TrainRecordSchema);
      if (done) return done;

      const context = Context.current();
      const hb = heartbeater(0);
      await workerBackend(config);
      const manifest = await getJson(store, keys.datasetManifest(input.datasetId), DatasetManifestSchema);
      const pairs: ImagePair[] = [];
      const heldOut = new Set(manifest.heldOut);
      for (const [i, pair] of manifest.pairs.filter((p) => !heldOut.has(p.sha256)).entries()) {
        const { a, b } = await splitPair(await store.get(pair.key));
        pairs.push({ input: a, target: b });
        hb.beat({ loading: i + 1, of: manifest.pairs.length });
      }
      const initialGenerator = input.fineTuneFrom ? (await loadExportedGeneratorWeights(store, input.fineTuneFrom)).weights : undefined;

      // The workflow that scheduled this activity receives the progress reports.
      const workflowId = context.info.workflowExecution?.workflowId;
      const workflow = workflowId ? context.client.workflow.getHandle(workflowId) : undefined;
      const options = resolveTrainOptions(input.options);
      let control: TrainingControl = { stop: false, timeGoalSeconds: options.timeGoalSeconds };
      let lastReport = 0;
      let reporting: Promise<void> | undefined;
      const metrics = trainingMetrics();
      const report = (progress: TrainProgress) => {
        const details: TrainingProgress = {
          step: progress.step,
          maxSteps: progress.maxSteps,
          elapsedSeconds: progress.elapsedSeconds,
          timeGoalSeconds: progress.timeGoalSeconds,
          imagesPerSecond: progress.imagesPerSecond,
          etaSeconds: progress.etaSeconds,
          losses: { gGan: progress.losses.gGan, gL1: progress.losses.gL1, d: progress.losses.d },
          checkpointStep: progress.lastCheckpoint?.step,
          resumedFromStep: progress.resumedFromStep,
        };
        // Heartbeat details are what a retry on another worker (and `temporal workflow describe`) sees.
        context.heartbeat(details);
        metrics.progress(details);
        if (!workflow || reporting || Date.now() - lastReport < reportIntervalMs(progress.elapsedSeconds * 1000)) return;
        lastReport = Date.now();
        reporting = workflow
          .executeUpdate(reportTrainingUpdate, { args: [details] })
          .then((reply) => void (control = reply))
          .catch((error: unknown) => console.warn(`[bloomsight gpu] progress report failed: ${(error as Error).message}`))
          .finally(() => (reporting = undefined));
      };

      const drain = drainOnWorkerShutdown(context.cancellationSignal);
      const result = await train({
        options,
        pairs,
        store,
        modelId: input.modelId,
        // Attempt-scoped checkpoint folders: a timed-out attempt still running cannot overwrite its retry's work.
        attempt: `a${context.info.attempt}-${randomBytes(3).toString('hex')}`,
        provenance: { datasetId: input.datasetId, partialInformation: { method: String(manifest.partial.method), params: manifest.partial } },
        initialGenerator,
        signal: drain.signal,
        control: () => (drain.draining ? { ...control, stop: true } : control),
        onProgress: report,
        onWarning: (message) => console.warn(`[bloomsight gpu] ${message}`),
      });
      await reporting;
      if (drain.draining) {
        result.model.dispose();
        throw new WorkerShutdownError(`this worker is shutting down: step ${result.step} is checkpointed (${result.lastCheckpoint?.dir}); training continues from it on another worker`);
      }
      const record: TrainRecord = {
        modelId: input.modelId,
        steps: result.step,
        stoppedBy: result.stoppedBy,
        trainingSeconds: result.trainingSeconds,
        checkpointDir: result.lastCheckpoint?.dir,
        resumedFromStep: result.resumedFrom?.step,
        fineTunedFrom: input.fineTuneFrom,
      };
      result.model.dispose();
      await putJson(store, recordKey, record);
      return record;
    },

    /**
     * Exports the generator of the newest complete checkpoint (generator.onnx, TF.js layers format, metadata.json),
     * unless an export of that very step exists already.
     */
    async exportModel(input: { modelId: string; datasetId: string; partial: PartialParams }): Promise<{ exportKey: string; steps: number }> {
      // Heartbeats between steps: a worker killed while exporting is noticed within the heartbeat timeout.
      const hb = heartbeater(0);
      await workerBackend(config);
      const exportKey = `${keys.exportDir(input.modelId)}/metadata.json`;
      const latest = await loadLatestCheckpoint(store, input.modelId);
      hb.beat({ loaded: latest?.ref.dir });
      if (!latest) throw new ExportError(`model ${input.modelId} has no complete checkpoint to export`);
      const existing = await readIfPresent(store, exportKey, z.object({ steps: z.number() }).passthrough());
      if (existing?.steps === latest.content.snapshot.step) return { exportKey, steps: existing.steps };

      const options = latest.content.options;
      hb.beat({ exporting: latest.ref.dir });
      await exportGenerator(store, input.modelId, latest.content.snapshot.generator, networkOptions(options), {
        provenance: latest.content.provenance ?? { datasetId: input.datasetId, partialInformation: { method: input.partial.method, params: input.partial } },
        steps: latest.content.snapshot.step,
        lossHistory: latest.content.lossHistory,
        // The history's last entry holds the final (averaged) losses; per-step D real/fake parts are not checkpointed.
        trainingSeconds: latest.content.trainingSeconds,
        trainOptions: options,
      });
      return { exportKey, steps: latest.content.snapshot.step };
    },
  };
}

export type TrainingActivities = ReturnType<typeof createTrainingActivities>;
