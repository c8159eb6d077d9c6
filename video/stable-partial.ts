import { blurRgb } from '../imaging/blur';
import { colouriseClusters } from '../imaging/colourise';
import { kmeansColours, type KmeansResult } from '../imaging/kmeans';
import { minCostMatching } from '../imaging/matching';
import { partialInformation } from '../imaging/partial';
import { PartialParamsSchema, type PartialParams, type PartialParamsInput } from '../imaging/partial-params';
import type { RgbImage } from '../imaging/rgb';

/** 'stable': clusters (and their colours) carried from frame to frame. 'naive': independent k-means per frame. */
export type PartialMode = 'stable' | 'naive';

export interface StablePartialOptions {
  /** Default 'stable'. */
  mode?: PartialMode;
  /** Lab centres (k*3) a previous chunk ended with (`centres()` of its StablePartial); default: cold start. */
  startCentres?: readonly number[];
}

/**
 * Temporally stable partial information for video. Per-frame k-means (what training used) starts
 * each frame from scratch, so cluster colours permute and shift between near-identical frames and the
 * network's input flickers. Here each frame's k-means is warm-started from the previous frame's
 * centres and cluster i keeps palette colour i (imaging/kmeans keeps warm-started clusters attached
 * to their initial centres). The first frame, without startCentres, is exactly partialInformation's.
 *
 * When a warm start leaves a cluster empty (its colour left the picture, or the scene cut) and a cold
 * k-means would fill more clusters, the cold clusters take over, each matched to the nearest previous
 * centre (Hungarian matching) so colours stay attached wherever a match exists.
 *
 * Edge maps have no cluster identity: for `edges` params every frame is partialInformation's.
 */
export class StablePartial {
  readonly params: PartialParams;
  readonly mode: PartialMode;
  /** Frames on which a cold restart replaced the warm start. */
  restarts = 0;
  private centresLab: Float32Array | undefined;

  constructor(params: PartialParamsInput, options: StablePartialOptions = {}) {
    this.params = PartialParamsSchema.parse(params);
    this.mode = options.mode ?? 'stable';
    if (options.startCentres && this.tracksClusters()) {
      const k = (this.params as Extract<PartialParams, { method: 'kmeans' }>).k;
      if (options.startCentres.length !== k * 3 || !options.startCentres.every(Number.isFinite)) {
        throw new RangeError(`startCentres must hold k*3 = ${k * 3} finite Lab values, got ${options.startCentres.length}`);
      }
      this.centresLab = Float32Array.from(options.startCentres);
    }
  }

  /** The partial-information image of the next frame (frames must come in order). */
  async next(frame: RgbImage): Promise<RgbImage> {
    const params = this.params;
    if (params.method !== 'kmeans' || this.mode === 'naive') return partialInformation(frame, params);
    const source = await blurRgb(frame, params.blurSigma);
    const clusters = this.cluster(source, params.k, params.seed);
    this.centresLab = clusters.centresLab;
    return colouriseClusters(clusters, source.width, source.height, params.paint);
  }

  /** State to hand to the next chunk: Lab centres (k*3) after the last frame; undefined before any frame or when nothing is tracked. */
  centres(): number[] | undefined {
    return this.tracksClusters() && this.centresLab ? Array.from(this.centresLab) : undefined;
  }

  private tracksClusters(): boolean {
    return this.params.method === 'kmeans' && this.mode === 'stable';
  }

  private cluster(source: RgbImage, k: number, seed: number): KmeansResult {
    const previous = this.centresLab;
    if (!previous) return kmeansColours(source, { k, seed });
    const warm = kmeansColours(source, { k, seed, initialCentres: previous });
    const warmEmpty = emptyClusters(warm);
    if (warmEmpty === 0) return warm;
    const cold = kmeansColours(source, { k, seed });
    if (emptyClusters(cold) >= warmEmpty) return warm;
    this.restarts++;
    return attachToPrevious(cold, previous, k);
  }
}

function emptyClusters(result: KmeansResult): number {
  return result.sizes.reduce((count, size) => count + (size === 0 ? 1 : 0), 0);
}

/** Renumbers cold clusters so cluster i is the one nearest (in total) to previous centre i. */
function attachToPrevious(cold: KmeansResult, previous: Float32Array, k: number): KmeansResult {
  const cost = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const dL = previous[i * 3] - cold.centresLab[j * 3];
      const da = previous[i * 3 + 1] - cold.centresLab[j * 3 + 1];
      const db = previous[i * 3 + 2] - cold.centresLab[j * 3 + 2];
      cost[i * k + j] = dL * dL + da * da + db * db;
    }
  }
  const coldOf = minCostMatching(cost, k);
  const newIndexOf = new Uint8Array(k);
  const centresLab = new Float32Array(k * 3);
  const sizes = new Uint32Array(k);
  for (let i = 0; i < k; i++) {
    newIndexOf[coldOf[i]] = i;
    centresLab.set(cold.centresLab.subarray(coldOf[i] * 3, coldOf[i] * 3 + 3), i * 3);
    sizes[i] = cold.sizes[coldOf[i]];
  }
  const labels = cold.labels.map((label) => newIndexOf[label]);
  return { labels, centresLab, sizes, iterations: cold.iterations };
}
