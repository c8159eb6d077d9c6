/**
 * Durability on real processes: a gpu worker, the Temporal server and the S3 server each SIGKILLed in
 * the middle of training (and the servers started again on the same data), and a run stopped during its
 * downloads. Each run must finish having lost at most one checkpoint interval of training per kill and
 * without asking again for any work that had finished. A recording proxy in front of the S3 server
 * shows what training stored and read, so the steps a kill cost are bounded from the traffic itself.
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
import { activityRuns, stepsRedoneAfterKills } from './helpers/chaos/evidence';
import { S3Proxy } from './helpers/chaos/s3-proxy';
import { delay, loadPhotos, PHOTOS_DIR, sendBytes, startRouteServer, type Handler } from './helpers/http-fixtures';
import { freshS3Store, testServices } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';
import { startWorkerProcess } from './helpers/worker-process';

const INTERVAL = 20;

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
  train: { imageSize: 64, ngf: 8, ndf: 8, checkpointEverySteps: INTERVAL, ...train },
  heartbeatTimeoutSeconds: 4,
  taskQueues: { io: config.temporal.taskQueues.io, cpu: config.temporal.taskQueues.cpu, gpu: config.temporal.taskQueues.gpu },
});

/** A bucket reached through a recording proxy in front of `s3` (default: the shared test server). */
async function proxiedStore(label: string, s3?: S3Server) {
  const server = s3 ?? { ...testServices().s3 };
  const upstream = new URL(server.endpoint);
  const proxy = new S3Proxy({ host: upstream.hostname, port: Number(upstream.port) });
  await proxy.listen();
  const bucket = (await freshS3Store(label)).location.split('/').pop()!;
  const store = new S3Store({ endpoint: proxy.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, region: server.region, bucket });
  await store.ensureBucket();
  const config = testConfig(label, store);
  config.store = parseConfig({ store: { kind: 's3', endpoint: proxy.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, bucket } }).store;
  return { proxy, store, bucket, config };
}

/** Waits until the proxy saw the manifest of a checkpoint of at least `step` stored. */
async function checkpointStored(proxy: S3Proxy, bucket: string, runKey: string, step: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`^models/${runKey}/checkpoints/(\\d+)-[^/]+/manifest\\.json$`);
  while (!proxy.log.some((r) => r.bucket === bucket && r.status === 200 && Number(pattern.exec(r.key)?.[1] ?? -1) >= step)) {
    if (Date.now() > deadline) throw new Error(`no checkpoint >= ${step} of ${runKey} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

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

/**
 * The two promises of durability after a kill at `killedAt`: training lost at most one checkpoint
 * interval (and resumed from the newest complete checkpoint), and no finished work was asked for again:
 * every activity was scheduled once, and only the ones named in `retried` needed a second attempt.
 */
async function expectDurable(client: Client, proxy: S3Proxy, bucket: string, runKey: string, killedAt: number, retried: readonly string[]) {
  const { perKill, unexplained } = stepsRedoneAfterKills(proxy.log, { bucket, modelId: runKey, interval: INTERVAL }, [{ time: killedAt }]);
  const lost = perKill[0];
  expect(unexplained, 'training was interrupted only by the kill').toEqual([]);
  if (lost) {
    expect(lost.redone, JSON.stringify(lost)).toBeLessThanOrEqual(INTERVAL);
    expect(lost.resumedFrom, `resumed from the newest complete checkpoint: ${JSON.stringify(lost)}`).toBe(lost.lastCheckpoint);
  }

  const runs = await activityRuns(client, [runKey, `${runKey}--dataset`]);
  expect(runs.length).toBeGreaterThanOrEqual(8); // scrape, 2 x (download, conform, partial), manifest, train, export, report
  expect(runs.filter((r) => r.scheduled !== 1 || !r.completed)).toEqual([]);
  expect(runs.filter((r) => r.attempt > 1 && !retried.includes(r.activityType)).map((r) => `${r.activityType} attempt ${r.attempt}`)).toEqual([]);
  return { lost, runs };
}

describe('a gpu worker killed with SIGKILL in the middle of training', () => {
  it('is replaced by a new worker process that resumes from the newest checkpoint, losing at most one interval', async () => {
    const { proxy, store, bucket, config } = await proxiedStore('kill-gpu');
    const env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
    let gpu = startWorkerProcess('gpu', config);
    try {
      await gpu.ready;
      const runKey = `kill-${randomUUID().slice(0, 8)}`;
      await env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [smallRun(config, runKey, { maxSteps: 300, timeGoalSeconds: 3600 })],
      });
      await checkpointStored(proxy, bucket, runKey, 2 * INTERVAL);
      await sleep(150); // between two checkpoints
      const killedAt = Date.now();
      gpu.child.kill('SIGKILL');
      await gpu.exited;
      gpu = startWorkerProcess('gpu', config);
      await gpu.ready;

      const result = await resultThroughOutages<{ steps: number }>(env.client, runKey);
      expect(result.steps).toBe(300);
      const { lost, runs } = await expectDurable(env.client, proxy, bucket, runKey, killedAt, ['trainModel']);
      expect(lost?.resumedFrom).toBeGreaterThanOrEqual(2 * INTERVAL);
      const record = await getJson<{ resumedFromStep?: number }>(store, keys.runRecord(runKey, 'train'));
      expect(record.resumedFromStep).toBe(lost?.resumedFrom);
      expect(runs.find((r) => r.activityType === 'trainModel')?.attempt).toBe(2);
    } finally {
      await gpu.stop();
      await env.stop();
      await proxy.close();
    }
  });
});

describe('the Temporal server SIGKILLed mid-training and started again on its database', () => {
  let temporal: TemporalDevServer;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('temporal');
    temporal = await startTemporalDevServer({ dir, port: await freePort() });
  });
  afterAll(async () => {
    await temporal?.stop();
  });

  it('lets the run complete, losing at most one checkpoint interval and redoing no finished work', async () => {
    const { proxy, store, bucket, config } = await proxiedStore('kill-temporal');
    config.temporal.address = temporal.address;
    const env = await startTestWorkers(config, store);
    try {
      const runKey = `kt-${randomUUID().slice(0, 8)}`;
      await env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [smallRun(config, runKey, { maxSteps: 600, timeGoalSeconds: 3600 })],
      });
      await checkpointStored(proxy, bucket, runKey, INTERVAL);
      const killedAt = Date.now();
      temporal.process.child.kill('SIGKILL');
      await new Promise((resolve) => temporal.process.child.once('exit', resolve));
      await sleep(3000);
      temporal = await startTemporalDevServer({ dir, port: Number(temporal.address.split(':')[1]) });
      const result = await resultThroughOutages<{ steps: number; exportKey: string }>(env.client, runKey);
      expect(result.steps).toBe(600);
      expect(await store.exists(result.exportKey)).toBe(true);
      // Training may have gone on through the outage or been retried after its heartbeat timed out.
      await expectDurable(env.client, proxy, bucket, runKey, killedAt, ['trainModel']);
    } finally {
      await env.stop();
      await proxy.close();
    }
  });
});

describe('the S3 server SIGKILLed mid-training and started again on its data', () => {
  let s3: S3Server;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('s3');
    s3 = await startS3Server({ dir, port: await freePort() });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('makes activities retry, and the run completes, losing at most one checkpoint interval and redoing no finished work', async () => {
    const upstream = new URL(s3.endpoint);
    const proxy = new S3Proxy({ host: upstream.hostname, port: Number(upstream.port) });
    await proxy.listen();
    const bucket = 'kill-s3';
    const store = new S3Store({ endpoint: proxy.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, bucket });
    await store.ensureBucket();
    const config = parseConfig({ ...testConfig('kill s3', store), store: { kind: 's3', endpoint: proxy.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, bucket } });
    const env = await startTestWorkers(config, store);
    try {
      const runKey = `ks-${randomUUID().slice(0, 8)}`;
      await env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [smallRun(config, runKey, { maxSteps: 300, timeGoalSeconds: 3600 })],
      });
      await checkpointStored(proxy, bucket, runKey, INTERVAL);
      const killedAt = Date.now();
      s3.process.child.kill('SIGKILL');
      await new Promise((resolve) => s3.process.child.once('exit', resolve));
      await sleep(3000); // checkpoints fail meanwhile
      s3 = await startS3Server({ dir, port: Number(upstream.port), accessKey: s3.accessKey, secretKey: s3.secretKey });
      const result = await resultThroughOutages<{ exportKey: string; steps: number }>(env.client, runKey);
      expect(result.steps).toBe(300);
      expect(await store.exists(result.exportKey)).toBe(true);
      const { lost } = await expectDurable(env.client, proxy, bucket, runKey, killedAt, ['trainModel']);
      expect(lost, 'a checkpoint write failed while the store was away, so training was retried').toBeDefined();
    } finally {
      await env.stop();
      await proxy.close();
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
