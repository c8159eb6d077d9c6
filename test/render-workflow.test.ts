import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../model/backend';
import { exportUntrained } from './helpers/model';
import { ffmpegBinaries } from '../services/binaries';
import { keys, type Store } from '../storage';
import { makePanClip, probeVideo } from '../video';
import { renderProgressQuery, renderVideo } from '../workflows/render-video';
import { PHOTOS_DIR } from './helpers/http-fixtures';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';

const run = promisify(execFile);

/** A real (randomly initialised, deterministic) 64x64 generator export: rendering does not need a good model. */
async function tinyExport(store: Store, modelId: string): Promise<void> {
  await initBackend({ prefer: 'auto', log: () => {} });
  await exportUntrained(store, modelId, { imageSize: 64, ngf: 8, seed: 7, partialInformation: { method: 'kmeans', params: { method: 'kmeans', k: 7 } } });
}

/** Per-frame MD5s of a video's decoded frames: equal lists mean identical pictures. */
async function frameHashes(path: string): Promise<string[]> {
  const { ffmpeg } = await ffmpegBinaries();
  const { stdout } = await run(ffmpeg, ['-v', 'error', '-i', path, '-map', '0:v', '-f', 'framemd5', '-'], { maxBuffer: 1 << 24 });
  return stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

describe('renderVideo on the real Temporal server and S3 store', () => {
  let store: Store;
  let config: ReturnType<typeof testConfig>;
  let scratch: string;
  const modelId = 'render-model';
  beforeAll(async () => {
    store = await freshS3Store('render');
    config = testConfig('render workflow', store);
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-render-'));
    await tinyExport(store, modelId);
    const clip = join(scratch, 'clip.mp4');
    await makePanClip([join(PHOTOS_DIR, 'garden.jpg'), join(PHOTOS_DIR, 'greenmeadow.jpg'), join(PHOTOS_DIR, 'raindrops.jpg')], clip, { seconds: 4, fps: 8 });
    await store.putFile('inputs/clip.mp4', clip);
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const input = (renderId: string, parallelChunks: number) => ({
    modelId,
    video: 'inputs/clip.mp4',
    renderId,
    chunkFrames: 8,
    parallelChunks,
    heartbeatTimeoutSeconds: 10,
    taskQueues: { io: config.temporal.taskQueues.io, cpu: config.temporal.taskQueues.cpu, gpu: config.temporal.taskQueues.gpu },
  });

  it('resumes a render stopped mid-way without rendering finished chunks again (counted inference calls)', async () => {
    const env = await startTestWorkers(config, store);
    try {
      const renderId = `stop-${randomUUID().slice(0, 8)}`;
      const first = await env.client.workflow.start(renderVideo, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: renderId, args: [input(renderId, 1)] });
      for (let i = 0; i < 600; i++) {
        const progress = await first.query(renderProgressQuery).catch(() => undefined);
        if ((progress?.chunksDone ?? 0) >= 2) break;
        await sleep(100);
      }
      await first.terminate('stopped mid-render');
      await sleep(3000); // an in-flight chunk may still finish and be stored
      const finished = (await store.list(keys.renderChunkRecordsPrefix(renderId))).length;
      expect(finished).toBeGreaterThanOrEqual(2);

      const second = await env.client.workflow.execute(renderVideo, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: renderId, args: [input(renderId, 1)] });
      expect(second.chunks).toBe(4); // 32 frames in chunks of 8
      expect(finished).toBeLessThan(second.chunks);
      // One inference batch per 8-frame chunk: only the unfinished chunks ran the network.
      expect(second.translateCalls).toBe(second.chunks - finished);

      const path = join(scratch, `${renderId}.mp4`);
      await store.getFile(second.mp4Key, path);
      const info = await probeVideo(path);
      expect([info.width, info.height, info.frameCount, info.hasAudio]).toEqual([128, 64, 32, true]);
      expect(Math.abs(info.durationSeconds - 4)).toBeLessThan(0.2);
    } finally {
      await env.stop();
    }
  });

  it('spreads chunks over two gpu workers, and the joined video equals a single-worker render', async () => {
    const env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu', 'gpu'], 'gpu-a');
    const second = await startTestWorkers(config, store, ['gpu'], 'gpu-b');
    let twoWorkers;
    try {
      const renderId = `two-${randomUUID().slice(0, 8)}`;
      twoWorkers = await env.client.workflow.execute(renderVideo, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: renderId, args: [input(renderId, 4)] });
      expect(twoWorkers.renderedBy).toEqual(['gpu-a', 'gpu-b']);
    } finally {
      await second.stop();
    }
    try {
      const renderId = `one-${randomUUID().slice(0, 8)}`;
      const oneWorker = await env.client.workflow.execute(renderVideo, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: renderId, args: [input(renderId, 4)] });
      expect(oneWorker.renderedBy).toEqual(['gpu-a']);
      const a = join(scratch, 'two.mp4');
      const b = join(scratch, 'one.mp4');
      await store.getFile(twoWorkers.mp4Key, a);
      await store.getFile(oneWorker.mp4Key, b);
      const [hashesA, hashesB] = await Promise.all([frameHashes(a), frameHashes(b)]);
      expect(hashesA).toHaveLength(32);
      expect(hashesA).toEqual(hashesB);
    } finally {
      await env.stop();
    }
  });

  it('renders at a requested frame rate and output height', async () => {
    const env = await startTestWorkers(config, store);
    try {
      const renderId = `fps-${randomUUID().slice(0, 8)}`;
      const result = await env.client.workflow.execute(renderVideo, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: renderId, args: [{ ...input(renderId, 2), fps: 4, outputHeight: 128 }] });
      const path = join(scratch, `${renderId}.mp4`);
      await store.getFile(result.mp4Key, path);
      const info = await probeVideo(path);
      expect([info.fps, info.frameCount, info.width, info.height]).toEqual([4, 16, 256, 128]);
    } finally {
      await env.stop();
    }
  });

  it('fails at once with a clear error for a file that is not a video', async () => {
    const env = await startTestWorkers(config, store, ['pipeline', 'cpu']);
    try {
      await store.put('inputs/not-a-video.mp4', Buffer.from('this is text, not a video'));
      const error = await env.client.workflow
        .execute(renderVideo, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: `bad-${randomUUID()}`, args: [{ ...input('bad-video', 1), video: 'inputs/not-a-video.mp4' }] })
        .then(
          () => undefined,
          (e: unknown) => e as Error & { cause?: { cause?: { type?: string; message?: string } } },
        );
      expect(error?.cause?.cause?.type).toBe('NotAVideoError');
    } finally {
      await env.stop();
    }
  });
});
