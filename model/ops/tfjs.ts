/**
 * NetworkOps and LossOps on eager TensorFlow.js tensors: the eager training step (any backend; tfjs
 * differentiates it) and the plain evaluation forward (`Pix2Pix.translate`, the reference the other
 * runtimes are tested against).
 */
import * as tf from '@tensorflow/tfjs';
import { dropoutMask, dropoutSeedOf } from '../dropout';
import { weightNames, type ConvLayer } from '../layout';
import type { LossOps } from '../losses';
import type { NetworkOps } from '../networks';

/** Where the ops find weights by name, and how they update moving statistics while training. */
export interface TfjsWeights {
  read(name: string): tf.Tensor;
  assign(name: string, value: tf.Tensor): void;
}

export interface BatchNormSettings {
  epsilon: number;
  /** Moving-statistics decay (Keras convention). */
  momentum: number;
}

/**
 * `train`: batch statistics (moving averages updated, unbiased variance as Keras and PyTorch do),
 * dropout masks drawn from `dropoutSeed`. `eval`: moving statistics, no dropout.
 */
export type TfjsMode = { training: true; dropoutSeed: number; dropoutRate: number } | { training: false };

export class TfjsOps implements NetworkOps<tf.Tensor> {
  constructor(
    private readonly weights: TfjsWeights,
    private readonly mode: TfjsMode,
    private readonly batchNorm: BatchNormSettings,
  ) {}

  conv(input: tf.Tensor, layer: ConvLayer): tf.Tensor4D {
    const x = input as tf.Tensor4D;
    const names = weightNames(layer);
    const kernel = this.weights.read(names.kernel) as tf.Tensor4D;
    const y = layer.transposed
      ? tf.conv2dTranspose(x, kernel, [x.shape[0], x.shape[1] * 2, x.shape[2] * 2, layer.outChannels], layer.stride, layer.padding)
      : tf.conv2d(x, kernel, layer.stride, layer.padding);
    if (layer.after === 'bias') return tf.add(y, this.weights.read(names.bias));
    const [gamma, beta] = [names.gamma, names.beta].map((n) => this.weights.read(n) as tf.Tensor1D);
    const { epsilon, momentum } = this.batchNorm;
    if (!this.mode.training) {
      const [mean, variance] = [names.movingMean, names.movingVariance].map((n) => this.weights.read(n) as tf.Tensor1D);
      return tf.batchNorm4d(y, mean, variance, beta, gamma, epsilon);
    }
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const n = y.shape[0] * y.shape[1] * y.shape[2];
    tf.tidy(() => {
      const decay = (name: string, value: tf.Tensor) => this.weights.assign(name, tf.add(tf.mul(this.weights.read(name), momentum), tf.mul(value, 1 - momentum)));
      decay(names.movingMean, mean);
      decay(names.movingVariance, tf.mul(variance, n / Math.max(n - 1, 1)));
    });
    return tf.batchNorm4d(y, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, epsilon);
  }

  dropout(x: tf.Tensor, layer: ConvLayer): tf.Tensor {
    if (!this.mode.training || !layer.dropout) return x;
    const mask = dropoutMask(x.size, this.mode.dropoutRate, dropoutSeedOf(this.mode.dropoutSeed, layer.name));
    return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
  }

  leakyRelu = (x: tf.Tensor, alpha: number) => tf.leakyRelu(x, alpha);
  relu = (x: tf.Tensor) => tf.relu(x);
  tanh = (x: tf.Tensor) => tf.tanh(x);
  concat = (a: tf.Tensor, b: tf.Tensor) => tf.concat([a, b], 3);
  padOne = (x: tf.Tensor) => tf.pad(x, PAD_ONE);
}

/** The losses' operations on eager tensors (tfjs differentiates them). */
export const tfjsLossOps: LossOps<tf.Tensor> = {
  softplus: (x) => tf.softplus(x),
  neg: (x) => tf.neg(x),
  abs: (x) => tf.abs(x),
  sub: (a, b) => tf.sub(a, b),
  add: (a, b) => tf.add(a, b),
  scale: (x, factor) => tf.mul(x, factor),
  mean: (x) => tf.mean(x),
};

const PAD_ONE: Array<[number, number]> = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];
