/**
 * The two networks of pix2pix, each written once, over a small operations interface. Every runtime
 * is an implementation of `NetworkOps`:
 *
 *   model/ops/tfjs.ts     eager TensorFlow.js tensors (the eager step; eval for `translate`)
 *   model/ops/graph.ts    a libtensorflow graph (the training step; graph inference)
 *   model/ops/layers.ts   a tf.layers model (the TensorFlow.js export)
 *   model/ops/onnx.ts     an ONNX graph (generator.onnx, run by ONNX Runtime)
 *   model/ops/shapes.ts   shapes only (FLOPs, activation sizes)
 *
 * Layers and weight names come from model/layout.ts. An implementation decides what a layer's
 * "conv" means in its mode: batch statistics and moving averages while training, moving statistics
 * (or batch norm folded into the kernel) at inference; likewise whether dropout is applied.
 */
import type { ConvLayer, DiscriminatorLayout, GeneratorLayout } from './layout';

export const LEAKY_SLOPE = 0.2;

export interface NetworkOps<T> {
  /** The layer's convolution (transposed if it says so), then its bias or its batch norm. */
  conv(x: T, layer: ConvLayer): T;
  /** Dropout after `layer` while training; the identity otherwise. */
  dropout(x: T, layer: ConvLayer): T;
  leakyRelu(x: T, alpha: number): T;
  relu(x: T): T;
  tanh(x: T): T;
  /** Concatenation along channels. */
  concat(a: T, b: T): T;
  /** Zero padding by one pixel on each side of height and width. */
  padOne(x: T): T;
}

/** input: partial information, [batch, size, size, 3] in [-1, 1]; returns the image in [-1, 1]. */
export function generator<T>(ops: NetworkOps<T>, layout: GeneratorLayout, input: T): T {
  const skips: T[] = [];
  let x = input;
  for (const layer of layout.encoder) {
    x = ops.leakyRelu(ops.conv(x, layer), LEAKY_SLOPE);
    skips.push(x);
  }
  layout.decoder.forEach((layer, j) => {
    x = ops.dropout(ops.conv(x, layer), layer);
    // U-Net skip: decoder block j meets encoder layer L-2-j, which has the same resolution.
    x = ops.concat(ops.relu(x), skips[skips.length - 2 - j]);
  });
  return ops.tanh(ops.conv(x, layout.output));
}

/** Logits, one per 70x70 patch: [batch, size/8 - 2, size/8 - 2, 1]. */
export function discriminator<T>(ops: NetworkOps<T>, layout: DiscriminatorLayout, input: T, image: T): T {
  let x = ops.concat(input, image);
  for (const layer of layout.blocks) {
    // Stride-1 layers pad by 1 like the paper's code (256 -> 30x30 patches); stride-2 'same' pads 1 too.
    if (layer.stride === 1) x = ops.padOne(x);
    x = ops.leakyRelu(ops.conv(x, layer), LEAKY_SLOPE);
  }
  return ops.conv(ops.padOne(x), layout.output);
}
