/**
 * What users type: the Temporal CLI starting a run with JSON input, and bloomsight's own commands
 * (schedule, status, run) as real processes against the real server.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetManifestSchema } from '../activities/dataset-records';
import { temporalBinary } from '../services/binaries';
import { getJson, keys, type Store } from '../storage';
import { makePanClip, probeVideo } from '../video';
import { loadPhotos, PHOTOS_DIR, sendBytes, startRouteServer, type Handler, type TestServer } from './helpers/http-fixtures';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';
import { configEnv } from './helpers/worker-process';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

describe('bloomsight from the command line', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  let server: TestServer;
  let photos: Awaited<ReturnType<typeof loadPhotos>>;
  const bloomsight = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...configEnv(config) } });

  beforeAll(async () => {
    photos = await loadPhotos();
    server = await startRouteServer(Object.fromEntries(photos.map((p) => [`/${p.name}`, ((_req, res) => sendBytes(res, p.bytes, 'image/jpeg')) as Handler])));
    store = await freshS3Store('cli');
    config = testConfig('cli', store);
    config.download.allowHosts = [new URL(server.origin).host];
    env = await startTestWorkers(config, store);
  });
  afterAll(async () => {
    await env?.stop();
    await server?.close();
  });

  let trainedModel: string | undefined;
  const tinyTrain = { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 12, checkpointEverySteps: 6 };
  const queues = () => ({ io: config.temporal.taskQueues.io, cpu: config.temporal.taskQueues.cpu, gpu: config.temporal.taskQueues.gpu });

  it('the Temporal CLI starts a run from JSON input, and `bloomsight status` reports it', async () => {
    const listKey = `inputs/${randomUUID()}.txt`;
    await store.put(listKey, Buffer.from(photos.slice(0, 4).map((p) => server.url(`/${p.name}`)).join('\n')));
    const workflowId = `cli-${randomUUID().slice(0, 8)}`;
    const input = { provider: 'url-list', providerOptions: { key: listKey }, train: tinyTrain, taskQueues: queues() };
    await run(await temporalBinary(), [
      'workflow', 'start', '--address', config.temporal.address, '--namespace', config.temporal.namespace,
      '--type', 'learnToSee', '--task-queue', config.temporal.taskQueues.pipeline, '--workflow-id', workflowId,
      '--input', JSON.stringify(input),
    ]);
    const result = await env.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ runKey: workflowId, pairs: 4, steps: 12 });

    const { stdout } = await bloomsight('status', workflowId);
    expect(stdout).toContain(`workflow ${workflowId}: COMPLETED`);
    expect(stdout).toMatch(/4 downloaded, 0 duplicates, 0 failed, 4 pairs/);

    // `temporal workflow reset` replays the run from its start on current code: every stage finds its work in the store.
    const hits = photos.slice(0, 4).map((p) => server.hits(`/${p.name}`));
    const trainRecord = await store.stat(keys.runRecord(workflowId, 'train'));
    await run(await temporalBinary(), [
      'workflow', 'reset', '--address', config.temporal.address, '--namespace', config.temporal.namespace,
      '--workflow-id', workflowId, '--type', 'FirstWorkflowTask', '--reason', 'test: reset replays from the store',
    ]);
    const again = await env.client.workflow.getHandle(workflowId).result();
    trainedModel = workflowId;
    expect(again).toMatchObject({ runKey: workflowId, datasetId: result.datasetId, steps: 12 });
    expect(photos.slice(0, 4).map((p) => server.hits(`/${p.name}`))).toEqual(hits);
    expect(await store.stat(keys.runRecord(workflowId, 'train'))).toEqual(trainRecord);
  });

  it('a schedule created by bloomsight triggers a retraining run that adds only new images and fine-tunes from the previous model', async () => {
    const line = `line-${randomUUID().slice(0, 6)}`;
    const listKey = `inputs/${line}.txt`;
    const urls = photos.map((p) => server.url(`/${p.name}`));
    await store.put(listKey, Buffer.from(urls.slice(0, 5).join('\n')));
    const input = { provider: 'url-list', providerOptions: { key: listKey }, train: tinyTrain };

    // The first version of the line, started by `bloomsight run`.
    const firstKey = `${line}-v1`;
    const started = await bloomsight('run', '--input', JSON.stringify({ ...input, runKey: firstKey, line }), '--wait');
    expect(started.stdout).toContain(`started run ${firstKey}`);
    const first = await env.client.workflow.getHandle(firstKey).result();
    const hitsAfterFirst = photos.map((p) => server.hits(`/${p.name}`));

    // New photos appear; the schedule's next run should fetch only those.
    await store.put(listKey, Buffer.from(urls.join('\n')));
    const scheduleId = `retrain-${line}`;
    await bloomsight('schedule', 'create', scheduleId, '--line', line, '--every', '7d', '--input', JSON.stringify(input));
    try {
      const { stdout: listed } = await bloomsight('schedule', 'list');
      expect(listed).toContain(scheduleId);
      await bloomsight('schedule', 'trigger', scheduleId);
      const schedule = env.client.schedule.getHandle(scheduleId);
      let scheduledId: string | undefined;
      for (let i = 0; i < 100 && !scheduledId; i++) {
        scheduledId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!scheduledId) await sleep(200);
      }
      expect(scheduledId).toBeDefined();
      const second = await env.client.workflow.getHandle(scheduledId!).result();

      const manifest = await getJson(store, keys.datasetManifest(second.datasetId), DatasetManifestSchema);
      expect(manifest.parent).toBe(first.datasetId);
      expect(manifest.pairs).toHaveLength(8);
      expect(photos.slice(0, 5).map((p) => server.hits(`/${p.name}`))).toEqual(hitsAfterFirst.slice(0, 5)); // old images not fetched again
      const train = await getJson<{ fineTunedFrom?: string }>(store, keys.runRecord(second.runKey, 'train'));
      expect(train.fineTunedFrom).toBe(first.modelId);
      const lineRecord = await getJson<{ modelId: string }>(store, `lines/${line}/latest.json`);
      expect(lineRecord.modelId).toBe(second.modelId);
    } finally {
      await bloomsight('schedule', 'delete', scheduleId);
    }
  });

  it('`bloomsight apply` and `bloomsight render` show a picture and a video to a trained model', async () => {
    expect(trainedModel).toBeDefined();
    const out = await mkdtemp(join(tmpdir(), 'bloomsight-cli-'));
    try {
      const applied = await bloomsight('apply', '--model', trainedModel!, '--out', out, '--three', join(PHOTOS_DIR, 'calla.jpg'));
      expect(applied.stdout.trim()).toBe(join(out, 'calla.png'));
      expect(await sharp(join(out, 'calla.png')).metadata()).toMatchObject({ width: 192, height: 64 });

      const clip = join(out, 'clip.mp4');
      await makePanClip([join(PHOTOS_DIR, 'garden.jpg'), join(PHOTOS_DIR, 'ladybird.jpg')], clip, { seconds: 2, fps: 6 });
      const rendered = await bloomsight('render', '--model', trainedModel!, '--out', join(out, 'rendered.mp4'), clip);
      expect(rendered.stdout).toMatch(/12 frames in \d+ chunks/);
      const info = await probeVideo(join(out, 'rendered.mp4'));
      expect([info.width, info.height, info.frameCount]).toEqual([128, 64, 12]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses bad input with exit code 2 and one clear line', async () => {
    const error = (await bloomsight('run', '--input', '{"runKey":"x","maxItems":0}').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr.trim().split('\n')).toHaveLength(1);
    expect(error.stderr).toContain('maxItems');
  });
});
