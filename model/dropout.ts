/**
 * Dropout masks drawn in JS from keyed seeds, so the eager step, the graph step and a resumed run
 * all drop the same units: a mask is a pure function of (step seed, layer name).
 */
import { createPrng, seedFor } from './random';

/** The inverted-dropout mask of `size` values: 1 / (1 - rate) where kept, 0 where dropped. */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  const random = createPrng(seed);
  const keep = 1 - rate;
  const mask = new Float32Array(size);
  for (let i = 0; i < mask.length; i++) mask[i] = random() < keep ? 1 / keep : 0;
  return mask;
}

/** The seed of one layer's mask in the step whose dropout seed is `stepSeed`. */
export function dropoutSeedOf(stepSeed: number, layerName: string): number {
  return seedFor(stepSeed, layerName);
}

/** The dropout seed of training step `step` (0-based) of a model seeded with `seed`. */
export function stepDropoutSeed(seed: number, step: number): number {
  return seedFor(seed, `dropout/${step}`);
}
