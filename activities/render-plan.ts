import { join } from 'node:path';
import { PartialParamsSchema } from '../imaging/partial-params';
import { ExportMetadataSchema } from '../model/export-metadata';
import { getJson, keys, putJson, type Store } from '../storage';
import { chunkStartCentres, frameCountAt, joinChunks, makeGif, planChunks, probeVideo } from '../video';
import { readIfPresent } from './dataset-records';
import { heartbeater } from './heartbeat';
import { RenderPlanSchema, type RenderPlan } from './render-records';
import { withScratch } from './scratch';

/** Preparing and joining a render: video decode/encode without inference (cpu queue). */
export function createRenderCpuActivities(store: Store) {
  return {
    /**
     * Probes the video and splits it into chunks. For k-means it also runs the clustering once through
     * the frames, so each chunk starts from the centres the previous chunk ends with: chunks can render
     * in parallel and still give exactly the frames of one sequential, flicker-free render.
     */
    async planRender(input: { renderId: string; videoKey: string; modelId: string; panels: 'two' | 'three'; chunkFrames: number; fps?: number; outputHeight?: number }): Promise<{ chunks: number; frameCount: number }> {
      const existing = await readIfPresent(store, keys.renderPlan(input.renderId), RenderPlanSchema);
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
        await putJson(store, keys.renderPlan(input.renderId), plan);
        return { chunks: chunks.length, frameCount };
      });
    },

    /** Joins the finished chunks in order (with the original audio) into the MP4, and makes a GIF preview. */
    async joinRender(input: { renderId: string }): Promise<{ mp4Key: string; gifKey: string }> {
      const mp4Key = keys.renderVideo(input.renderId);
      const gifKey = keys.renderPreview(input.renderId);
      if ((await store.exists(mp4Key)) && (await store.exists(gifKey))) return { mp4Key, gifKey };
      const plan = await getJson(store, keys.renderPlan(input.renderId), RenderPlanSchema);
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

export type RenderCpuActivities = ReturnType<typeof createRenderCpuActivities>;
