/**
 * The two networks of pix2pix (Isola et al. 2017), written as plain functions over named variables:
 *
 * - Generator: U-Net. Encoder C64-C128-C256-C512-C512-C512-C512-C512 (at 256x256; the number of
 *   levels is log2(size), filters ngf * min(2^i, 8)), 4x4 stride-2 convolutions, batch norm on every
 *   layer except the first (paper) and the 1x1 bottleneck (original code: with batch 1 it would zero
 *   the bottleneck), LeakyReLU 0.2. Decoder mirrors it with transposed convolutions, batch norm,
 *   dropout on the first three blocks, ReLU, and a skip connection from the matching encoder layer;
 *   the output layer is a transposed convolution to 3 channels with tanh.
 * - Discriminator: 70x70 PatchGAN on the channel-concatenated (input, image) pair: C64-C128-C256
 *   (stride 2), C512 (stride 1), then a 1-channel stride-1 convolution giving one logit per patch.
 *
 * Convolutions carry a bias only where no batch norm follows. Weights ~ N(0, 0.02); batch-norm
 * scale ~ N(1, 0.02). Plain functions (not tf.layers) so one training step can use one generator
 * forward for both losses, seed its dropout, and pick fused kernels; model/export.ts rebuilds the same
 * graph as a tf.layers model for the TF.js layers format.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormInference, batchNormTraining, leakyRelu, relu, tanh } from './kernels';
import type { NetworkOptions } from './options';
import { createParameter, defaultParameterKind, type Parameter, type ParameterKind, type ParameterReader } from './params';
import { createPrng, seedFor } from './random';

export const LEAKY_SLOPE = 0.2;
export const KERNEL_SIZE = 4;
export const DROPOUT_BLOCKS = 3;
export const INIT_STDDEV = 0.02;

export interface Conv {
  /** [k, k, in, out] for convolutions, [k, k, out, in] for transposed convolutions. */
  kernel: Parameter;
  bias?: Parameter;
}

export interface BatchNorm {
  gamma: Parameter;
  beta: Parameter;
  movingMean: Parameter;
  movingVariance: Parameter;
}

export interface EncoderBlock {
  conv: Conv;
  norm?: BatchNorm;
}

export interface DecoderBlock {
  conv: Conv;
  norm: BatchNorm;
  dropout: boolean;
}

interface NetworkBase {
  readonly options: NetworkOptions;
  /** Every parameter in a fixed order (checkpoints, export, optimiser state follow it). */
  readonly weights: Parameter[];
}

export interface Generator extends NetworkBase {
  readonly kind: 'generator';
  readonly encoder: EncoderBlock[];
  readonly decoder: DecoderBlock[];
  readonly output: Conv;
}

export interface Discriminator extends NetworkBase {
  readonly kind: 'discriminator';
  /** Stride-2 blocks, then the stride-1 block; the first has no batch norm. */
  readonly blocks: Array<EncoderBlock & { stride: 1 | 2 }>;
  readonly output: Conv;
}

export type Network = Generator | Discriminator;

/**
 * How a forward pass runs. `train`: batch statistics (moving averages updated), dropout on with masks
 * drawn from `dropoutSeed`. `eval`: moving averages, no dropout (deterministic; what an export does).
 */
export type ForwardMode = { training: true; dropoutSeed: number } | { training: false };

/** Encoder filter counts: ngf * min(2^i, 8) for i < log2(size). */
export function encoderFilters(imageSize: number, ngf: number): number[] {
  const levels = Math.log2(imageSize);
  return Array.from({ length: levels }, (_, i) => ngf * Math.min(2 ** i, 8));
}

/** Filter counts of the PatchGAN's four blocks. */
export function discriminatorFilters(ndf: number): number[] {
  return [ndf, ndf * 2, ndf * 4, ndf * 8];
}

class WeightFactory {
  readonly weights: Parameter[] = [];
  constructor(
    private readonly seed: number,
    private readonly kind: ParameterKind,
  ) {}

  normal(name: string, shape: number[], mean: number, trainable = true): Parameter {
    const init = tf.randomNormal(shape, mean, INIT_STDDEV, 'float32', seedFor(this.seed, name));
    return this.add(name, init, trainable);
  }

  constant(name: string, shape: number[], value: number, trainable: boolean): Parameter {
    return this.add(name, tf.fill(shape, value), trainable);
  }

  /** `out` is the output channel count: shape[3] for convolutions, shape[2] for transposed ones. */
  conv(name: string, shape: number[], out: number, bias: boolean): Conv {
    const kernel = this.normal(`${name}/kernel`, shape, 0);
    return bias ? { kernel, bias: this.constant(`${name}/bias`, [out], 0, true) } : { kernel };
  }

  batchNorm(name: string, channels: number): BatchNorm {
    return {
      gamma: this.normal(`${name}/gamma`, [channels], 1),
      beta: this.constant(`${name}/beta`, [channels], 0, true),
      movingMean: this.constant(`${name}/moving_mean`, [channels], 0, false),
      movingVariance: this.constant(`${name}/moving_variance`, [channels], 1, false),
    };
  }

  private add(name: string, init: tf.Tensor, trainable: boolean): Parameter {
    const parameter = createParameter(this.kind, name, init, trainable);
    init.dispose();
    this.weights.push(parameter);
    return parameter;
  }
}

export function createGenerator(options: NetworkOptions, seed: number, kind: ParameterKind = defaultParameterKind()): Generator {
  const make = new WeightFactory(seed ^ 0x9e3779b9, kind);
  const filters = encoderFilters(options.imageSize, options.ngf);
  const k = KERNEL_SIZE;
  const encoder: EncoderBlock[] = filters.map((out, i) => {
    const input = i === 0 ? 3 : filters[i - 1];
    const normed = i > 0 && i < filters.length - 1;
    const conv = make.conv(`enc${i + 1}/conv`, [k, k, input, out], out, !normed);
    return normed ? { conv, norm: make.batchNorm(`enc${i + 1}/bn`, out) } : { conv };
  });
  // Decoder block j upsamples to the resolution of encoder layer (L - 1 - j) and concatenates its output.
  const decoderFilters = filters.slice(0, -1).reverse();
  const decoder: DecoderBlock[] = decoderFilters.map((out, j) => {
    const input = j === 0 ? filters[filters.length - 1] : decoderFilters[j - 1] * 2;
    return {
      conv: make.conv(`dec${j + 1}/convT`, [k, k, out, input], out, false),
      norm: make.batchNorm(`dec${j + 1}/bn`, out),
      dropout: j < DROPOUT_BLOCKS,
    };
  });
  const output = make.conv('out/convT', [k, k, 3, filters[0] * 2], 3, true);
  return { kind: 'generator', options, weights: make.weights, encoder, decoder, output };
}

export function createDiscriminator(options: NetworkOptions, seed: number, kind: ParameterKind = defaultParameterKind()): Discriminator {
  const make = new WeightFactory(seed ^ 0x85ebca6b, kind);
  const filters = discriminatorFilters(options.ndf);
  const k = KERNEL_SIZE;
  const blocks = filters.map((out, i) => {
    const input = i === 0 ? 6 : filters[i - 1];
    const normed = i > 0;
    const conv = make.conv(`d${i + 1}/conv`, [k, k, input, out], out, !normed);
    const stride = (i < 3 ? 2 : 1) as 1 | 2;
    return normed ? { conv, norm: make.batchNorm(`d${i + 1}/bn`, out), stride } : { conv, stride };
  });
  const output = make.conv('out/conv', [k, k, filters[3], 1], 1, true);
  return { kind: 'discriminator', options, weights: make.weights, blocks, output };
}

export function trainableParameters(network: Network): Parameter[] {
  return network.weights.filter((w) => w.trainable);
}

export function disposeNetwork(network: Network): void {
  for (const w of network.weights) w.dispose();
}

export function parameterCount(network: Network): number {
  return network.weights.reduce((sum, w) => sum + (w.trainable ? w.size : 0), 0);
}

function normalize(x: tf.Tensor4D, norm: BatchNorm, options: NetworkOptions, mode: ForwardMode, reader: ParameterReader): tf.Tensor4D {
  const settings = { epsilon: options.batchNormEpsilon, momentum: options.batchNormMomentum };
  return mode.training ? batchNormTraining(x, norm, reader, settings) : batchNormInference(x, norm, reader, settings);
}

function convolve(x: tf.Tensor4D, conv: Conv, stride: 1 | 2, reader: ParameterReader): tf.Tensor4D {
  const y = tf.conv2d(x, reader.get(conv.kernel) as tf.Tensor4D, stride, stride === 1 ? 'valid' : 'same');
  return conv.bias ? tf.add(y, reader.get(conv.bias)) : y;
}

/** 4x4 stride-2 transposed convolution doubling height and width. */
function upsample(x: tf.Tensor4D, conv: Conv, reader: ParameterReader): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  const out = conv.kernel.shape[2];
  const y = tf.conv2dTranspose(x, reader.get(conv.kernel) as tf.Tensor4D, [batch, height * 2, width * 2, out], 2, 'same');
  return conv.bias ? tf.add(y, reader.get(conv.bias)) : y;
}

/** input: [batch, size, size, 3] in [-1, 1]; returns the translated image in [-1, 1]. */
export function generate(g: Generator, input: tf.Tensor4D, mode: ForwardMode, reader: ParameterReader): tf.Tensor4D {
  const skips: tf.Tensor4D[] = [];
  let x = input;
  for (const block of g.encoder) {
    x = convolve(x, block.conv, 2, reader);
    if (block.norm) x = normalize(x, block.norm, g.options, mode, reader);
    x = mode.training ? leakyRelu(x, LEAKY_SLOPE) : tf.leakyRelu(x, LEAKY_SLOPE);
    skips.push(x);
  }
  g.decoder.forEach((block, j) => {
    x = normalize(upsample(x, block.conv, reader), block.norm, g.options, mode, reader);
    if (block.dropout && mode.training && g.options.dropout > 0) {
      x = dropout(x, g.options.dropout, dropoutSeedOf(mode.dropoutSeed, j));
    }
    x = tf.concat([mode.training ? relu(x) : tf.relu(x), skips[skips.length - 2 - j]], 3);
  });
  const y = upsample(x, g.output, reader);
  return mode.training ? tanh(y) : tf.tanh(y);
}

/** Logits, one per 70x70 patch: [batch, size/8 - 2, size/8 - 2, 1]. */
export function discriminate(d: Discriminator, input: tf.Tensor4D, image: tf.Tensor4D, mode: ForwardMode, reader: ParameterReader): tf.Tensor4D {
  let x = tf.concat([input, image], 3);
  for (const block of d.blocks) {
    // Stride-1 layers pad by 1 like the paper's code (256 -> 30x30 patches); stride-2 'same' pads 1 too.
    if (block.stride === 1) x = tf.pad(x, PAD_ONE);
    x = convolve(x, block.conv, block.stride, reader);
    if (block.norm) x = normalize(x, block.norm, d.options, mode, reader);
    x = mode.training ? leakyRelu(x, LEAKY_SLOPE) : tf.leakyRelu(x, LEAKY_SLOPE);
  }
  return convolve(tf.pad(x, PAD_ONE), d.output, 1, reader);
}

/**
 * Inverted dropout with the mask drawn in JS from `seed` (one upload and one multiply; tf.dropout
 * spends four ops on it). Same masks on every backend.
 */
function dropout(x: tf.Tensor4D, rate: number, seed: number): tf.Tensor4D {
  return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, seed), x.shape, 'float32'));
}

/** The inverted-dropout mask of `size` values: 1 / (1 - rate) where kept, 0 where dropped. */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  const random = createPrng(seed);
  const keep = 1 - rate;
  const mask = new Float32Array(size);
  for (let i = 0; i < mask.length; i++) mask[i] = random() < keep ? 1 / keep : 0;
  return mask;
}

/** The seed of decoder block `block`'s dropout mask in the step whose dropout seed is `stepSeed`. */
export function dropoutSeedOf(stepSeed: number, block: number): number {
  return seedFor(stepSeed, `dec${block + 1}`);
}

const PAD_ONE: Array<[number, number]> = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];
