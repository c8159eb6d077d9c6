import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { RuntimeConfig } from '../config/runtime';
import { ExportMetadataSchema } from '../model/export';
import { getJson, keys, type Store } from '../storage';
import { makePanClip, probeVideo } from '../video';
import { learnToSee } from '../workflows/learn-to-see';
import { changeTimeGoalUpdate, progressQuery, stopTrainingSignal } from '../workflows/messages';
import { PHOTOS_DIR } from './helpers/http-fixtures';
import { freshS3Store, s3Server } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';

describe('learnToSee end to end on the real Temporal server and S3 store', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  let scratch: string;
  beforeAll(async () => {
    store = await freshS3Store('pipeline');
    config = testConfig('pipeline e2e', store);
    env = await startTestWorkers(config, store);
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-pipeline-'));
  });
  afterAll(async () => {
    await env?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('goes from bundled photos to a dataset, checkpoints, an export, a rendered clip and a report', async () => {
    await wholeRun(store, env, config, scratch);
  });

  it('obeys a stopTraining signal and a time-goal update while training, then exports', async () => {
    const { io, cpu, gpu } = config.temporal.taskQueues;
    const start = (runKey: string) =>
      env.client.workflow.start(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: runKey,
        args: [{ runKey, provider: 'local-folder', providerOptions: { path: PHOTOS_DIR }, train: { imageSize: 64, ngf: 8, ndf: 8, timeGoalSeconds: 3600 }, taskQueues: { io, cpu, gpu } }],
      });
    const training = async (handle: Awaited<ReturnType<typeof start>>) => {
      for (let i = 0; i < 600; i++) {
        if (((await handle.query(progressQuery)).training?.step ?? 0) > 0) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('training never reported progress');
    };

    const stopped = await start(`stop-${randomUUID().slice(0, 8)}`);
    await training(stopped);
    await stopped.signal(stopTrainingSignal);
    const stoppedResult = await stopped.result();
    expect((await getJson<{ stoppedBy: string }>(store, keys.runRecord(stoppedResult.runKey, 'train'))).stoppedBy).toBe('requested');
    expect(await store.exists(stoppedResult.exportKey)).toBe(true);

    const shortened = await start(`goal-${randomUUID().slice(0, 8)}`);
    await training(shortened);
    const control = await shortened.executeUpdate(changeTimeGoalUpdate, { args: [2] });
    expect(control.timeGoalSeconds).toBe(2);
    const shortenedResult = await shortened.result();
    const record = await getJson<{ stoppedBy: string; trainingSeconds: number }>(store, keys.runRecord(shortenedResult.runKey, 'train'));
    expect(record.stoppedBy).toBe('time-goal');
    expect(record.trainingSeconds).toBeLessThan(60);
  });

  it('rejects invalid input at once, naming the field, without retrying', async () => {
    const error = await env.client.workflow
      .execute(learnToSee, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: `bad-${randomUUID()}`,
        args: [{ runKey: 'Bad Key!', maxItems: -3, train: { imageSize: 100 } } as never],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as Error & { type?: string; nonRetryable?: boolean };
    expect(cause.type).toBe('InvalidRunInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/runKey/);
    expect(cause.message).toMatch(/maxItems/);
    expect(cause.message).toMatch(/train\.imageSize/);
  });
});

// MinIO is the store the design names for production; versitygw is the default local server.
describe('learnToSee end to end on MinIO', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: RuntimeConfig;
  let scratch: string;
  beforeAll(async () => {
    store = await freshS3Store('pipeline-minio', 'minio');
    config = testConfig('pipeline minio', store);
    expect(config.store).toMatchObject({ kind: 's3', endpoint: s3Server('minio').endpoint });
    env = await startTestWorkers(config, store);
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-pipeline-minio-'));
  });
  afterAll(async () => {
    await env?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('goes from bundled photos to a dataset, checkpoints, an export, a rendered clip and a report', async () => {
    await wholeRun(store, env, config, scratch);
  });
});

/**
 * The whole pipeline on bundled photos: dataset, checkpoints, export, rendered clip and report, all
 * read back from the store. Also checks the key-layout rule that MinIO would not enforce by itself:
 * no object is the folder of another (versitygw and the local-disk store refuse that; MinIO stores it).
 */
async function wholeRun(store: Store, env: Awaited<ReturnType<typeof startTestWorkers>>, config: RuntimeConfig, scratch: string): Promise<void> {
    const clip = join(scratch, 'clip.mp4');
    await makePanClip([join(PHOTOS_DIR, 'garden.jpg'), join(PHOTOS_DIR, 'raindrops.jpg')], clip, { seconds: 2, fps: 8 });
    await store.putFile('inputs/clip.mp4', clip);
    const runKey = `e2e-${randomUUID().slice(0, 8)}`;
    const { io, cpu, gpu } = config.temporal.taskQueues;
    const handle = await env.client.workflow.start(learnToSee, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: runKey,
      args: [
        {
          runKey,
          provider: 'local-folder',
          providerOptions: { path: PHOTOS_DIR },
          batchSize: 3,
          partial: { method: 'kmeans', k: 7 },
          train: { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 40, checkpointEverySteps: 15, timeGoalSeconds: 600 },
          video: 'inputs/clip.mp4',
          taskQueues: { io, cpu, gpu },
        },
      ],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ runKey, pairs: 8, steps: 40, modelId: runKey });

    const progress = await handle.query(progressQuery);
    expect(progress.stage).toBe('done');
    expect(progress.dataset).toMatchObject({ batches: 3, batchesDone: 3, downloaded: 8, pairs: 8 });
    expect(progress.training?.step).toBeGreaterThan(0);

    const checkpoints = await store.list(`models/${runKey}/checkpoints/`);
    expect(checkpoints.filter((o) => o.key.endsWith('/manifest.json')).length).toBeGreaterThanOrEqual(2);
    const metadata = await getJson(store, `${keys.exportDir(runKey)}/metadata.json`, ExportMetadataSchema);
    expect(metadata).toMatchObject({ steps: 40, imageSize: 64, datasetId: result.datasetId, partialInformation: { method: 'kmeans' } });

    const video = join(scratch, 'render.mp4');
    await store.getFile(result.render!.mp4Key, video);
    const info = await probeVideo(video);
    expect([info.width, info.height]).toEqual([128, 64]);
    expect(info.frameCount).toBe(16);
    expect(await store.exists(result.render!.gifKey)).toBe(true);

    const report = (await store.get(result.reportKey)).toString();
    expect(report).toContain(runKey);
    expect(report).toContain('clip.mp4');
  
  const written = (await store.list('')).map((o) => o.key);
  const folders = new Set(written.flatMap((key) => key.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  expect(written.filter((key) => folders.has(key))).toEqual([]);
}
