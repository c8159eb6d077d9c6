import { hostname } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { RuntimeConfig } from '../config/runtime';
import { PartialParamsSchema } from '../imaging/partial-params';
import { ExportMetadataSchema } from '../model/export-metadata';
import { loadExport, translateImages } from '../model/infer';
import { getJson, keys, putJson, type Store } from '../storage';
import { chunkStartCentres, frameCountAt, joinChunks, makeGif, planChunks, probeVideo, renderChunk } from '../video';
import { readIfPresent } from './dataset-records';
import { workerInferenceProvider } from './model-runtime';
import { heartbeater } from './heartbeat';
import { renderMetrics } from './metrics';
import { withScratch } from './scratch';

export const RenderPlanSchema = z.object({
  renderId: z.string(),
  videoKey: z.string(),
  modelId: z.string(),
  size: z.number(),
  panels: z.enum(['two', 'three']),
  fps: z.number(),
  outputHeight: z.number().optional(),
  frameCount: z.number(),
  hasAudio: z.boolean(),
  partial: PartialParamsSchema,
  chunks: z.array(z.object({ index: z.number(), startFrame: z.number(), frameCount: z.number(), startCentres: z.array(z.number()).optional() })),
});
export type RenderPlan = z.infer<typeof RenderPlanSchema>;

/** What a finished chunk left in the store; `translateCalls` = inference batches the call that returns it ran. */
const ChunkRecordSchema = z.object({ index: z.number(), frames: z.number(), translateCalls: z.number(), renderedBy: z.string(), key: z.string() });
export type ChunkRecord = z.infer<typeof ChunkRecordSchema>;

export const planKey = (renderId: string) => keys.renderOutput(renderId, 'plan.json');
const chunkRecordKey = (renderId: string, index: number) => keys.renderOutput(renderId, `chunk-records/${String(index).padStart(6, '0')}.json`);

/** Preparing and joining a render: video decode/encode without inference (cpu queue). */
export function createRenderCpuActivities(store: Store) {
  return {
    /**
     * Probes the video and splits it into chunks. For k-means it also runs the clustering once through
     * the frames, so each chunk starts from the centres the previous chunk ends with: chunks can render
     * in parallel and still give exactly the frames of one sequential, flicker-free render.
     */
    async planRender(input: { renderId: string; videoKey: string; modelId: string; panels: 'two' | 'three'; chunkFrames: number; fps?: number; outputHeight?: number }): Promise<{ chunks: number; frameCount: number }> {
      const existing = await readIfPresent(store, planKey(input.renderId), RenderPlanSchema);
      if (existing) return { chunks: existing.chunks.length, frameCount: existing.frameCount };
      const metadata = await getJson(store, `${keys.exportDir(input.modelId)}/metadata.json`, ExportMetadataSchema);
      const partial = PartialParamsSchema.parse(metadata.partialInformation?.params ?? { method: 'kmeans' });
      const hb = heartbeater();
      return withScratch('plan', async (dir) => {
        const videoPath = join(dir, 'video');
        await store.getFile(input.videoKey, videoPath);
        const video = await probeVideo(videoPath, { signal: hb.signal });
        // The output keeps the video's frame rate unless one is asked for (frames are then resampled).
        const fps = input.fps ?? video.fps;
        const frameCount = frameCountAt(video, input.fps);
        const chunks = planChunks(frameCount, input.chunkFrames);
        const starts = await chunkStartCentres({
          videoPath,
          chunks,
          size: metadata.imageSize,
          partialParams: partial,
          video,
          fps,
          signal: hb.signal,
          onProgress: (frames, of) => hb.beat({ clustering: frames, of }),
        });
        const plan: RenderPlan = {
          ...input,
          size: metadata.imageSize,
          fps,
          frameCount,
          hasAudio: video.hasAudio,
          partial,
          chunks: chunks.map((chunk, i) => ({ ...chunk, startCentres: starts[i] })),
        };
        await putJson(store, planKey(input.renderId), plan);
        return { chunks: chunks.length, frameCount };
      });
    },

    /** Joins the finished chunks in order (with the original audio) into the MP4, and makes a GIF preview. */
    async joinRender(input: { renderId: string }): Promise<{ mp4Key: string; gifKey: string }> {
      const mp4Key = keys.renderOutput(input.renderId, 'render.mp4');
      const gifKey = keys.renderOutput(input.renderId, 'preview.gif');
      if ((await store.exists(mp4Key)) && (await store.exists(gifKey))) return { mp4Key, gifKey };
      const plan = await getJson(store, planKey(input.renderId), RenderPlanSchema);
      const hb = heartbeater();
      return withScratch('join', async (dir) => {
        const chunkPaths: string[] = [];
        for (const chunk of plan.chunks) {
          const path = join(dir, `chunk-${chunk.index}.mp4`);
          await store.getFile(keys.renderChunk(input.renderId, chunk.index), path);
          chunkPaths.push(path);
          hb.beat({ fetched: chunk.index + 1, of: plan.chunks.length });
        }
        const original = join(dir, 'original');
        if (plan.hasAudio) await store.getFile(plan.videoKey, original);
        const mp4 = join(dir, 'render.mp4');
        await hb.during(joinChunks(chunkPaths, mp4, { audioFrom: plan.hasAudio ? original : undefined, signal: hb.signal }), { joining: plan.chunks.length });
        const gif = join(dir, 'preview.gif');
        await hb.during(makeGif(mp4, gif, { signal: hb.signal }), { gif: true });
        await store.putFile(mp4Key, mp4, { contentType: 'video/mp4' });
        await store.putFile(gifKey, gif, { contentType: 'image/gif' });
        return { mp4Key, gifKey };
      });
    },
  };
}

/** Rendering one chunk: decode, partial information, batched inference, encode (gpu queue). */
export function createRenderGpuActivities(store: Store, config: RuntimeConfig, identity = `${hostname()}:${process.pid}`) {
  return {
    async renderVideoChunk(input: { renderId: string; index: number }): Promise<ChunkRecord> {
      const recordKey = chunkRecordKey(input.renderId, input.index);
      const done = await readIfPresent(store, recordKey, ChunkRecordSchema);
      // Found finished: no inference ran in this attempt.
      if (done && (await store.exists(done.key))) return { ...done, translateCalls: 0 };
      const plan = await getJson(store, planKey(input.renderId), RenderPlanSchema);
      const chunk = plan.chunks.find((c) => c.index === input.index);
      if (!chunk) throw new RangeError(`render ${input.renderId} has no chunk ${input.index}`);
      const context = Context.current();
      const loaded = await loadExport(store, plan.modelId, { provider: await workerInferenceProvider(config) });
      try {
        return await withScratch('chunk', async (dir) => {
          const videoPath = join(dir, 'video');
          await store.getFile(plan.videoKey, videoPath);
          const started = performance.now();
          const result = await renderChunk({
            videoPath,
            chunk,
            size: plan.size,
            panels: plan.panels,
            partialParams: plan.partial,
            startCentres: chunk.startCentres,
            fps: plan.fps,
            encoder: { outputHeight: plan.outputHeight },
            translate: (partials) => translateImages(loaded, partials),
            outPath: join(dir, 'chunk.mp4'),
            signal: context.cancellationSignal,
            onProgress: (frames) => context.heartbeat({ frames, of: chunk.frameCount }),
          });
          renderMetrics().chunk(result.frames, (performance.now() - started) / 1000);
          const key = keys.renderChunk(input.renderId, input.index);
          await store.putFile(key, result.outPath, { contentType: 'video/mp4' });
          const record: ChunkRecord = { index: input.index, frames: result.frames, translateCalls: result.translateCalls, renderedBy: identity, key };
          await putJson(store, recordKey, record);
          return record;
        });
      } finally {
        await loaded.dispose();
      }
    },
  };
}

export type RenderCpuActivities = ReturnType<typeof createRenderCpuActivities>;
export type RenderGpuActivities = ReturnType<typeof createRenderGpuActivities>;
