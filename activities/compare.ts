import { join } from 'node:path';
import { paramsHash } from '../imaging';
import type { PartialParams } from '../imaging/partial-params';
import { DatasetError } from '../model/errors';
import { getJson, keys, putJson, type Store } from '../storage';
import { makeGif, stackPanels, type StackColumn } from '../video';
import type { ComparisonRecord } from './comparison-record';
import { DatasetManifestSchema, datasetIdOf, storeDatasetManifest } from './dataset-records';
import { heartbeater } from './heartbeat';
import { ensurePair } from './pairs';
import { RenderPlanSchema } from './render-records';
import { withScratch } from './scratch';

import { IncomparableRendersError } from './errors';
export { IncomparableRendersError };

/** The comparison's own cpu work: per-variant datasets, the comparison record, side-by-side videos. */
export function createCompareActivities(store: Store) {
  return {
    /**
     * A variant's dataset, derived from the shared one: the same conformed photos, with this
     * variant's partial information. Pairs are content-addressed, so pairs another run or variant
     * made already are reused, and the dataset id (from the pair keys) is known before any work: a
     * dataset that exists is returned at once. Resumes after the last pair a previous attempt reported.
     */
    async deriveDataset(input: { runKey: string; baseDatasetId: string; imageSize: number; partial: PartialParams }): Promise<{ datasetId: string; pairs: number; computed: number }> {
      const base = await getJson(store, keys.datasetManifest(input.baseDatasetId), DatasetManifestSchema);
      if (base.imageSize !== input.imageSize) {
        throw new DatasetError(`dataset ${input.baseDatasetId} holds ${base.imageSize} px images; the variant trains at ${input.imageSize} px`);
      }
      const hash = paramsHash(input.partial);
      const pairs = base.pairs.map((p) => ({ sha256: p.sha256, url: p.url, key: keys.pair(input.partial.method, hash, input.imageSize, p.sha256) }));
      const datasetId = datasetIdOf(pairs.map((p) => p.key).sort());
      if (await store.exists(keys.datasetManifest(datasetId))) return { datasetId, pairs: pairs.length, computed: 0 };

      const hb = heartbeater();
      const from = hb.previous<{ done?: number }>()?.done ?? 0;
      let computed = 0;
      for (const [i, pair] of pairs.entries()) {
        if (i < from) continue;
        hb.signal.throwIfAborted();
        if (!(await store.exists(pair.key))) {
          await ensurePair(store, { sha256: pair.sha256, key: keys.conformed(input.imageSize, pair.sha256) }, input.imageSize, input.partial, hash);
          computed++;
        }
        hb.beat({ done: i + 1, of: pairs.length });
      }
      const stored = await storeDatasetManifest(store, pairs, { runKey: input.runKey, imageSize: input.imageSize, partial: input.partial });
      return { datasetId: stored.datasetId, pairs: stored.pairs, computed };
    },

    /** Records the finished comparison (which models, in which order) for apply, render and the report. */
    async writeComparisonRecord(input: Omit<ComparisonRecord, 'createdAt'>): Promise<{ key: string }> {
      const key = keys.runRecord(input.runKey, 'comparison');
      await putJson(store, key, { ...input, createdAt: new Date().toISOString() } satisfies ComparisonRecord);
      return { key };
    },

    /**
     * One video of the variants side by side from their renders (renderVideo outputs of the same video):
     * the original, then for each variant its output (with `three`, its partial information and its
     * output). The panels are cropped from the renders and encoded once more. Skipped when done.
     */
    async stackRenders(input: { renderId: string; sources: string[]; panels: 'two' | 'three'; outputHeight?: number }): Promise<{ mp4Key: string; gifKey: string; frames: number; width: number; height: number }> {
      const mp4Key = keys.renderVideo(input.renderId);
      const gifKey = keys.renderPreview(input.renderId);
      const plans = await Promise.all(input.sources.map((id) => getJson(store, keys.renderPlan(id), RenderPlanSchema)));
      const first = plans[0]!;
      for (const [i, plan] of plans.entries()) {
        if (plan.panels !== input.panels || plan.frameCount !== first.frameCount || plan.fps !== first.fps || plan.size !== first.size) {
          throw new IncomparableRendersError(
            `render ${input.sources[i]} (${plan.frameCount} frames at ${plan.fps} fps, ${plan.size} px, ${plan.panels} panels) does not line up with ${input.sources[0]} (${first.frameCount} frames at ${first.fps} fps, ${first.size} px, ${input.panels} panels)`,
          );
        }
      }
      const columns: StackColumn[] = [{ input: 0, panel: 0 }];
      input.sources.forEach((_, i) => columns.push(...(input.panels === 'three' ? [{ input: i, panel: 2 }] : []), { input: i, panel: 1 }));
      // Square panels: the stacked frame is one panel high and a panel per column wide.
      const height = input.outputHeight ?? first.size;
      const width = columns.length * height;
      if ((await store.exists(mp4Key)) && (await store.exists(gifKey))) return { mp4Key, gifKey, frames: first.frameCount, width, height };

      const hb = heartbeater();
      return withScratch('stack', async (dir) => {
        const paths: string[] = [];
        for (const [i, id] of input.sources.entries()) {
          paths.push(join(dir, `${i}.mp4`));
          await store.getFile(keys.renderVideo(id), paths[i]!);
          hb.beat({ fetched: i + 1, of: input.sources.length });
        }
        const mp4 = join(dir, 'render.mp4');
        await stackPanels({ inputs: paths, panelsPerInput: input.panels === 'three' ? 3 : 2, columns, outPath: mp4, outputHeight: input.outputHeight, audioFrom: 0, signal: hb.signal });
        const gif = join(dir, 'preview.gif');
        await makeGif(mp4, gif, { width: Math.min(width, 1280), signal: hb.signal });
        await store.putFile(mp4Key, mp4, { contentType: 'video/mp4' });
        await store.putFile(gifKey, gif, { contentType: 'image/gif' });
        return { mp4Key, gifKey, frames: first.frameCount, width, height };
      });
    },
  };
}

export type CompareActivities = ReturnType<typeof createCompareActivities>;
