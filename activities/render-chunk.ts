import { hostname } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { RuntimeConfig } from '../config/runtime';
import { loadExport, translateImages } from '../model/infer';
import { getJson, keys, putJson, type Store } from '../storage';
import { renderChunk } from '../video';
import { readIfPresent } from './dataset-records';
import { renderMetrics } from './metrics';
import { workerInferenceProvider } from './model-runtime';
import { ChunkRecordSchema, RenderPlanSchema, type ChunkRecord } from './render-records';
import { withScratch } from './scratch';

/** Rendering one chunk: decode, partial information, batched inference, encode (gpu queue). */
export function createRenderGpuActivities(store: Store, config: RuntimeConfig, identity = `${hostname()}:${process.pid}`) {
  return {
    async renderVideoChunk(input: { renderId: string; index: number }): Promise<ChunkRecord> {
      const recordKey = keys.renderChunkRecord(input.renderId, input.index);
      const done = await readIfPresent(store, recordKey, ChunkRecordSchema);
      // Found finished: no inference ran in this attempt.
      if (done && (await store.exists(done.key))) return { ...done, translateCalls: 0 };
      const plan = await getJson(store, keys.renderPlan(input.renderId), RenderPlanSchema);
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

export type RenderGpuActivities = ReturnType<typeof createRenderGpuActivities>;
