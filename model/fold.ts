/**
 * Batch norm folded into the convolution before it, for inference: with moving statistics a batch
 * norm is a per-channel affine map, so
 *
 *   scale = gamma / sqrt(moving_variance + epsilon)
 *   kernel' = kernel * scale (per output channel),   bias' = beta - moving_mean * scale
 *
 * and each layer becomes conv -> bias. Computed in double precision, stored as float32.
 */
import { WeightMismatchError } from './errors';
import { kernelShape, weightNames, type ConvLayer } from './layout';

export type WeightValues = Map<string, Float32Array>;

export interface FoldedLayer {
  /** In TensorFlow's layout (model/layout.ts kernelShape). */
  kernel: Float32Array;
  kernelShape: number[];
  bias: Float32Array;
}

export function foldLayer(layer: ConvLayer, weights: WeightValues, epsilon: number): FoldedLayer {
  const names = weightNames(layer);
  const shape = kernelShape(layer);
  const get = (name: string, size: number) => {
    const values = weights.get(name);
    if (!values) throw new WeightMismatchError(`weight ${name} missing`);
    if (values.length !== size) throw new WeightMismatchError(`weight ${name} has ${values.length} values, expected ${size}`);
    return values;
  };
  const channels = layer.outChannels;
  const kernel = get(names.kernel, shape.reduce((a, b) => a * b, 1));
  if (layer.after === 'bias') return { kernel, kernelShape: shape, bias: get(names.bias, channels) };
  const [gamma, beta, mean, variance] = [names.gamma, names.beta, names.movingMean, names.movingVariance].map((n) => get(n, channels));
  const scale = Array.from(gamma, (g, c) => g / Math.sqrt(variance[c] + epsilon));
  const bias = Float32Array.from(beta, (b, c) => b - mean[c] * scale[c]);
  // Output channels are the last axis of a convolution's kernel, axis 2 of a transposed one's.
  const inner = layer.transposed ? layer.inChannels : 1;
  const folded = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) folded[i] = kernel[i] * scale[Math.floor(i / inner) % channels];
  return { kernel: folded, kernelShape: shape, bias };
}
