/**
 * Durability on real processes: a killed gpu worker, a restarted Temporal server, a restarted S3
 * server, and a run stopped during its downloads. Each run must finish without redoing finished work.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { parseConfig } from '../config/load';
import type { RunInputJson } from '../config/run-input';
import type { RuntimeConfig } from '../config/runtime';
import { freePort } from '../services/process';
import { startS3Server, type S3Server } from '../services/s3-server';
import { startTemporalDevServer, type TemporalDevServer } from '../services/temporal-server';
import { getJson, keys, S3Store } from '../storage';
import { learnToSee } from '../workflows/learn-to-see';
import { progressQuery, type RunProgress } from '../workflows/messages';
import { delay, loadPhotos, PHOTOS_DIR, sendBytes, startRouteServer, type Handler } from './helpers/http-fixtures';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';
import { startWorkerProcess } from './helpers/worker-process';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(label: string) {
  const dir = await mkdtemp(join(tmpdir(), `bloomsight-faults-${label}-`));
  scratch.push(dir);
  return dir;
}

const smallRun = (config: RuntimeConfig, runKey: string, train: Record<string, unknown>): RunInputJson => ({
  runKey,
  provider: 'local-folder',
  providerOptions: { path: PHOTOS_DIR },
  batchSize: 4,
  partial: { method: 'kmeans', k: 7 },
  train: { imageSize: 64, ngf: 8, ndf: 8, ...train },
  heartbeatTimeoutSeconds: 4,
  taskQueues: { io: config.temporal.taskQueues.io, cpu: config.temporal.taskQueues.cpu, gpu: config.temporal.taskQueues.gpu },
});

/** Polls the progress query until `until` holds. */
async function waitForProgress(client: Client, workflowId: string, until: (p: RunProgress) => boolean, timeoutMs = 120_000): Promise<RunProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await client.workflow.getHandle(workflowId).query(progressQuery).catch(() => undefined);
    if (progress && until(progress)) return progress;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${workflowId}: ${JSON.stringify(progress)}`);
    await sleep(250);
  }
}

/** Waits for a workflow's result, riding out a Temporal server that is briefly away. */
async function resultThroughOutages<T>(client: Client, workflowId: string, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as T;
    } catch (error) {
      if ((error as Error).name === 'WorkflowFailedError' || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

describe('a gpu worker killed with SIGKILL in the middle of training', () => {
  it('is replaced by a new worker process that resumes from the last checkpoint and finishes the run', async () => {
    const store = await freshS3Store('kill-gpu');
    const config = testConfig('kill gpu worker', store);
    const env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
    let gpu = startWorkerProcess('gpu', config);
    try {
      await gpu.ready;
      const runKey = `kill-${randomUUID().slice(0, 8)}`;
      await env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [smallRun(config, runKey, { maxSteps: 100_000, timeGoalSeconds: 25, checkpointEverySteps: 25 })],
      });
      const before = await waitForProgress(env.client, runKey, (p) => (p.training?.checkpointStep ?? 0) >= 25);
      const killedAfter = before.training!.checkpointStep!;
      gpu.child.kill('SIGKILL');
      await gpu.exited;
      gpu = startWorkerProcess('gpu', config);
      await gpu.ready;

      const result = await resultThroughOutages<{ steps: number }>(env.client, runKey);
      const record = await getJson<{ resumedFromStep?: number; steps: number }>(store, keys.run(runKey, 'train.json'));
      expect(record.resumedFromStep).toBeGreaterThanOrEqual(killedAfter);
      expect(result.steps).toBeGreaterThan(record.resumedFromStep!);
      const progress = await env.client.workflow.getHandle(runKey).query(progressQuery);
      expect(progress.training?.resumedFromStep).toBe(record.resumedFromStep);
    } finally {
      await gpu.stop();
      await env.stop();
    }
  });
});

describe('the Temporal server stopped and started again mid-run (on-disk database)', () => {
  let temporal: TemporalDevServer;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('temporal');
    temporal = await startTemporalDevServer({ dir, port: await freePort() });
  });
  afterAll(async () => {
    await temporal?.stop();
  });

  it('lets the run complete', async () => {
    const store = await freshS3Store('restart-temporal');
    const config = testConfig('restart temporal', store);
    config.temporal.address = temporal.address;
    const env = await startTestWorkers(config, store);
    try {
      const runKey = `rt-${randomUUID().slice(0, 8)}`;
      await env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [smallRun(config, runKey, { maxSteps: 100_000, timeGoalSeconds: 15, checkpointEverySteps: 25 })],
      });
      await waitForProgress(env.client, runKey, (p) => p.stage === 'train' && (p.training?.step ?? 0) > 0);
      await temporal.stop();
      await sleep(3000);
      temporal = await startTemporalDevServer({ dir, port: Number(temporal.address.split(':')[1]) });
      const result = await resultThroughOutages<{ steps: number; exportKey: string }>(env.client, runKey);
      expect(result.steps).toBeGreaterThan(0);
      expect(await store.exists(result.exportKey)).toBe(true);
    } finally {
      await env.stop();
    }
  });
});

describe('the S3 server stopped and started again mid-run', () => {
  let s3: S3Server;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('s3');
    s3 = await startS3Server({ dir, port: await freePort() });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('makes activities retry, and the run completes', async () => {
    const store = new S3Store({ endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, bucket: 'restart-s3' });
    await store.ensureBucket();
    const config = parseConfig({ ...testConfig('restart s3', store), store: { kind: 's3', endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, bucket: 'restart-s3' } });
    const env = await startTestWorkers(config, store);
    try {
      const runKey = `rs-${randomUUID().slice(0, 8)}`;
      await env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [smallRun(config, runKey, { maxSteps: 100_000, timeGoalSeconds: 15, checkpointEverySteps: 20 })],
      });
      await waitForProgress(env.client, runKey, (p) => (p.training?.checkpointStep ?? 0) > 0);
      await s3.stop();
      await sleep(5000); // checkpoints and heartbeats fail meanwhile
      s3 = await startS3Server({ dir, port: Number(new URL(s3.endpoint).port), accessKey: s3.accessKey, secretKey: s3.secretKey });
      const result = await resultThroughOutages<{ exportKey: string; steps: number }>(env.client, runKey);
      expect(await store.exists(result.exportKey)).toBe(true);
    } finally {
      await env.stop();
    }
  });
});

describe('a run stopped during its downloads', () => {
  it('is resumed by starting the same run key again, with zero new downloads for finished batches', async () => {
    const photos = await loadPhotos();
    const routes: Record<string, Handler> = Object.fromEntries(
      photos.map((p) => [`/${p.name}`, async (_req, res) => {
        await delay(400); // slow enough to stop the run between batches
        sendBytes(res, p.bytes, 'image/jpeg');
      }] as [string, Handler]),
    );
    const server = await startRouteServer(routes);
    const store = await freshS3Store('resume-download');
    const config = testConfig('resume download', store);
    config.download.allowHosts = [new URL(server.origin).host];
    const env = await startTestWorkers(config, store);
    try {
      const listKey = 'inputs/urls.txt';
      await store.put(listKey, Buffer.from(photos.map((p) => server.url(`/${p.name}`)).join('\n')));
      const runKey = `rd-${randomUUID().slice(0, 8)}`;
      const input = { ...smallRun(config, runKey, { maxSteps: 10, checkpointEverySteps: 5 }), provider: 'url-list' as const, providerOptions: { key: listKey }, batchSize: 2, parallelBatches: 1 };
      const first = await env.client.workflow.start(learnToSee, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: runKey, args: [input] });
      await waitForProgress(env.client, runKey, (p) => p.dataset.batchesDone >= 2);
      await first.terminate('simulated failure during the download stage');
      await sleep(1000); // let the in-flight batch attempt notice
      const finished = photos.slice(0, 4).map((p) => server.hits(`/${p.name}`));
      expect(finished).toEqual([1, 1, 1, 1]);

      const second = await env.client.workflow.start(learnToSee, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: runKey, args: [input] });
      const result = await second.result();
      expect(result.pairs).toBe(8);
      expect(photos.slice(0, 4).map((p) => server.hits(`/${p.name}`))).toEqual([1, 1, 1, 1]); // finished batches: zero new downloads
      for (const p of photos.slice(4)) expect(server.hits(`/${p.name}`)).toBeGreaterThanOrEqual(1);
    } finally {
      await env.stop();
      await server.close();
    }
  });
});

