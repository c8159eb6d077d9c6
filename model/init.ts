/**
 * Initial weights, as in the paper: kernels ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), biases and
 * batch-norm offsets 0, moving statistics 0 and 1. Every weight is drawn from its own seed (the
 * network's seed and the weight's name), in JS, so every engine and backend starts from the same bytes.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightValues } from './fold';
import type { WeightSpec } from './layout';
import { seedFor } from './random';

const INIT_STDDEV = 0.02;

/** Seeds of the two networks, derived from the model's seed. */
export const NETWORK_SEEDS = {
  generator: (seed: number) => seed ^ 0x9e3779b9,
  discriminator: (seed: number) => seed ^ 0x85ebca6b,
};

export function initialWeights(weights: readonly WeightSpec[], networkSeed: number): WeightValues {
  const values: WeightValues = new Map();
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.role === 'kernel' || w.role === 'gamma') {
      const mean = w.role === 'gamma' ? 1 : 0;
      const drawn = tf.randomNormal([...w.shape], mean, INIT_STDDEV, 'float32', seedFor(networkSeed, w.name));
      values.set(w.name, drawn.dataSync() as Float32Array);
      drawn.dispose();
    } else {
      values.set(w.name, new Float32Array(size).fill(w.role === 'movingVariance' ? 1 : 0));
    }
  }
  return values;
}
