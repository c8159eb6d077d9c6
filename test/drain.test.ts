/**
 * Draining a gpu worker during a long training (a deploy): SIGTERM, and after the shutdown grace time
 * the training checkpoints the step it reached and hands over; the next gpu worker continues from
 * exactly that step. docs/deploying.md describes the procedure.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeConfig } from '../config/runtime';
import { getJson, keys, type Store } from '../storage';
import { learnToSee } from '../workflows/learn-to-see';
import { progressQuery, stopTrainingSignal, type RunProgress } from '../workflows/messages';
import { PHOTOS_DIR } from './helpers/http-fixtures';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

describe('a gpu worker drained by SIGTERM in the middle of training', () => {
  let store: Store;
  let config: RuntimeConfig;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  const gpuWorkers: WorkerProcess[] = [];
  beforeAll(async () => {
    store = await freshS3Store('drain');
    config = testConfig('drain', store);
    env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
  });
  afterAll(async () => {
    await Promise.all(gpuWorkers.map((w) => w.stop('SIGKILL')));
    await env?.stop();
  });

  const gpuWorker = () => {
    const worker = startWorkerProcess('gpu', config, { BLOOMSIGHT_WORKERS__GPU__SHUTDOWN_GRACE_SECONDS: '2' });
    gpuWorkers.push(worker);
    return worker;
  };
  const progress = (runKey: string) => env.client.workflow.getHandle(runKey).query(progressQuery);
  async function until(runKey: string, test: (p: RunProgress) => boolean): Promise<RunProgress> {
    for (let i = 0; i < 600; i++) {
      const p = await progress(runKey);
      if (test(p)) return p;
      await sleep(200);
    }
    throw new Error(`timed out: ${JSON.stringify(await progress(runKey))}`);
  }

  it('checkpoints the step it reached and the next worker continues from exactly that step', async () => {
    const runKey = `drain-${randomUUID().slice(0, 8)}`;
    const { io, cpu, gpu } = config.temporal.taskQueues;
    // Checkpoints only every 100000 steps or 10 minutes: without the drain, everything trained here would be lost.
    const train = { imageSize: 64, ngf: 8, ndf: 8, timeGoalSeconds: 3600, checkpointEverySteps: 100_000, checkpointEverySeconds: 600 };
    const first = gpuWorker();
    await first.ready;
    const handle = await env.client.workflow.start(learnToSee, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: runKey,
      args: [{ runKey, provider: 'local-folder', providerOptions: { path: PHOTOS_DIR }, batchSize: 4, train, taskQueues: { io, cpu, gpu } }],
    });
    const before = await until(runKey, (p) => (p.training?.step ?? 0) >= 3);
    expect(before.training?.checkpointStep).toBeUndefined();

    const stoppedAt = Date.now();
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    const checkpoints = (await store.list(`models/${runKey}/checkpoints/`)).filter((o) => o.key.endsWith('/manifest.json'));
    expect(checkpoints).toHaveLength(1);
    const drainedStep = Number(checkpoints[0]!.key.split('/')[3]!.split('-')[0]);
    // Training went on during the grace time, then stopped after a whole step and saved it.
    expect(drainedStep).toBeGreaterThanOrEqual(before.training!.step);

    const second = gpuWorker();
    await second.ready;
    const resumed = await until(runKey, (p) => p.training?.resumedFromStep !== undefined);
    expect(resumed.training!.resumedFromStep).toBe(drainedStep);
    await handle.signal(stopTrainingSignal);
    const result = await handle.result();
    const record = await getJson<{ resumedFromStep?: number; steps: number }>(store, keys.runRecord(runKey, 'train'));
    expect(record.resumedFromStep).toBe(drainedStep);
    expect(result.steps).toBeGreaterThanOrEqual(drainedStep);

    // The first attempt ended as a retryable hand-over (retries leave no event in the history; the worker logs it).
    expect(first.output()).toContain(`WorkerShutdownError: this worker is shutting down: step ${drainedStep} is checkpointed`);
  });
});
