import { labToSrgb } from './lab';
import { paletteForK } from './palette';
import type { RgbImage } from './rgb';

/** 'palette': a distinct categorical colour per cluster. 'mean': each cluster's mean (Lab centre) colour. */
export type Paint = 'palette' | 'mean';

export interface Clusters {
  /** Cluster index per pixel, row-major. */
  labels: Uint8Array;
  /** Lab centre per cluster, k*3. */
  centresLab: Float32Array;
}

/**
 * Paints every pixel with its cluster's colour. With 'palette' the output has exactly as many
 * distinct colours as non-empty clusters (so k, unless the image has fewer than k distinct colours).
 * With 'mean', two near-identical centres could round to one sRGB colour.
 */
export function colouriseClusters(clusters: Clusters, width: number, height: number, paint: Paint): RgbImage {
  const { labels, centresLab } = clusters;
  if (labels.length !== width * height) throw new RangeError(`expected ${width * height} labels, got ${labels.length}`);
  const k = centresLab.length / 3;
  const colours = paint === 'palette' ? paletteForK(k) : meanColours(centresLab);
  const data = new Uint8Array(labels.length * 3);
  for (let p = 0, o = 0; p < labels.length; p++, o += 3) {
    const c = labels[p] * 3;
    data[o] = colours[c];
    data[o + 1] = colours[c + 1];
    data[o + 2] = colours[c + 2];
  }
  return { width, height, data };
}

function meanColours(centresLab: Float32Array): Uint8Array {
  const out = new Uint8Array(centresLab.length);
  for (let c = 0; c < centresLab.length; c += 3) labToSrgb(centresLab[c], centresLab[c + 1], centresLab[c + 2], out, c);
  return out;
}
