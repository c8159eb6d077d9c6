/**
 * Will a configuration fit? A deliberately simple estimate, checked before any tensor is made:
 *
 *   parameters x 9 float32 copies (weights, Adam m and v, gradients in libtensorflow; while a checkpoint
 *     is written, a JS copy of weights, m and v plus the packed bytes of the largest part)
 * + activations the gradient tape keeps for one step (per sample, both networks, backward doubles it)
 * + the training pairs held in memory
 * + a fixed runtime overhead (Node, libtensorflow, thread pools)
 *
 * Calibrated against the peak RSS bench/train.ts measures (about 1.0 GB at 128/32 and 3.0 GB at
 * 256/64, batch 1, native backend); it errs on the high side.
 */
import { totalmem } from 'node:os';
import { discriminatorLayers, discriminatorLayout, generatorLayers, generatorLayout, networkWeights, parameterCount } from './layout';
import { discriminator, generator } from './networks';
import { ShapeOps, type Shape } from './ops/shapes';
import { PRESETS, type PresetName, type TrainOptions } from './options';
import { ModelTooLargeError } from './errors';
export { ModelTooLargeError };

export interface MemoryEstimate {
  parameterBytes: number;
  activationBytes: number;
  dataBytes: number;
  overheadBytes: number;
  totalBytes: number;
  generatorParameters: number;
  discriminatorParameters: number;
}

export type SizeOptions = Pick<TrainOptions, 'imageSize' | 'ngf' | 'ndf' | 'batchSize'>;

const BYTES = 4;
const PARAMETER_COPIES = 9;
const RUNTIME_OVERHEAD = 700 * 2 ** 20;
/** Tensors the tape keeps per layer output (conv, norm, activation, concat), times 2 for gradients in flight. */
const ENCODER_COPIES = 3;
const DECODER_COPIES = 6;
const BACKWARD_FACTOR = 2;

export function generatorParameterCount(imageSize: number, ngf: number): number {
  return parameterCount(networkWeights(generatorLayers(generatorLayout({ imageSize, ngf, ndf: ngf, dropout: 0 }))));
}

export function discriminatorParameterCount(ndf: number): number {
  return parameterCount(networkWeights(discriminatorLayers(discriminatorLayout({ ndf }))));
}

/** Floats the tape holds for one sample: every layer output, a few copies each (decoder layers more: concat, dropout). */
function activationFloats(imageSize: number, ngf: number, ndf: number): number {
  const g = new ShapeOps();
  const gLayout = generatorLayout({ imageSize, ngf, ndf, dropout: 0 });
  generator(g, gLayout, [1, imageSize, imageSize, 3]);
  let floats = 3 * imageSize * imageSize * 3;
  for (const layer of generatorLayers(gLayout)) floats += (layer.transposed ? DECODER_COPIES : ENCODER_COPIES) * g.outputs.get(layer.name)!;
  const d = new ShapeOps();
  const image: Shape = [1, imageSize, imageSize, 3];
  discriminator(d, discriminatorLayout({ ndf }), image, image);
  let dFloats = 6 * imageSize * imageSize;
  for (const elements of d.outputs.values()) dFloats += ENCODER_COPIES * elements;
  return floats + 2 * dFloats;
}

export function estimateMemory(options: SizeOptions, dataBytes = 0): MemoryEstimate {
  const generatorParameters = generatorParameterCount(options.imageSize, options.ngf);
  const discriminatorParameters = discriminatorParameterCount(options.ndf);
  const parameterBytes = PARAMETER_COPIES * BYTES * (generatorParameters + discriminatorParameters);
  const activationBytes = BACKWARD_FACTOR * BYTES * options.batchSize * activationFloats(options.imageSize, options.ngf, options.ndf);
  const overheadBytes = RUNTIME_OVERHEAD;
  return {
    parameterBytes,
    activationBytes,
    dataBytes,
    overheadBytes,
    totalBytes: parameterBytes + activationBytes + dataBytes + overheadBytes,
    generatorParameters,
    discriminatorParameters,
  };
}

export function defaultMemoryBudget(): number {
  return Math.floor(totalmem() * 0.8);
}

export interface SmallerConfiguration {
  preset?: PresetName;
  options: SizeOptions;
  estimate: MemoryEstimate;
}

/** Largest preset (or reduction of the request) that fits the budget. */
export function suggestSmaller(options: SizeOptions, budgetBytes: number, dataBytesPerPixel = 0): SmallerConfiguration | undefined {
  const candidates: SmallerConfiguration[] = [];
  for (const preset of ['gpu', 'cpu'] as const) {
    const p = PRESETS[preset];
    candidates.push({ preset, options: { ...p }, estimate: estimateMemory(p, dataBytesPerPixel * p.imageSize ** 2) });
  }
  for (let size = options.imageSize; size >= 64; size /= 2) {
    for (const batchSize of [options.batchSize, 1]) {
      const o = { imageSize: size, ngf: options.ngf, ndf: options.ndf, batchSize };
      candidates.push({ options: o, estimate: estimateMemory(o, dataBytesPerPixel * size ** 2) });
    }
  }
  candidates.push({ options: { imageSize: 64, ngf: 16, ndf: 16, batchSize: 1 }, estimate: estimateMemory({ imageSize: 64, ngf: 16, ndf: 16, batchSize: 1 }) });
  const requested = estimateMemory(options).totalBytes;
  return candidates.find((c) => c.estimate.totalBytes <= budgetBytes && c.estimate.totalBytes < requested);
}

/** Throws ModelTooLargeError when the configuration will not fit; returns the estimate otherwise. */
export function checkMemory(options: SizeOptions, budgetBytes = defaultMemoryBudget(), dataBytes = 0): MemoryEstimate {
  const estimate = estimateMemory(options, dataBytes);
  if (estimate.totalBytes > budgetBytes) {
    const perPixel = dataBytes / options.imageSize ** 2;
    throw new ModelTooLargeError(options, estimate, budgetBytes, suggestSmaller(options, budgetBytes, perPixel));
  }
  return estimate;
}
