/**
 * NetworkOps over shapes alone: what a forward pass costs (multiply-adds) and how large its
 * activations are, without running it. The bench reports achieved GFLOP/s from it; the memory
 * estimate sizes activations with it.
 */
import { KERNEL_SIZE, type ConvLayer, type GeneratorLayout } from '../layout';
import { generator, type NetworkOps } from '../networks';

/** NHWC. */
export type Shape = readonly [number, number, number, number];

export class ShapeOps implements NetworkOps<Shape> {
  /** Floating-point operations: 2 per multiply-add of the convolutions (the rest is negligible). */
  flops = 0;
  /** Elements of every convolution's output, by layer name. */
  readonly outputs = new Map<string, number>();
  /** Multiply-adds of every convolution, by layer name. */
  readonly multiplyAdds = new Map<string, number>();

  conv([n, h, w]: Shape, layer: ConvLayer): Shape {
    const side = (d: number) => (layer.transposed ? d * 2 : layer.padding === 'same' ? Math.ceil(d / layer.stride) : Math.floor((d - KERNEL_SIZE) / layer.stride) + 1);
    const out: Shape = [n, side(h), side(w), layer.outChannels];
    // Each input pixel of a transposed convolution meets k*k kernel taps; each output pixel of a convolution does.
    const taps = layer.transposed ? n * h * w : out[0] * out[1] * out[2];
    const multiplyAdds = taps * KERNEL_SIZE * KERNEL_SIZE * layer.inChannels * layer.outChannels;
    this.flops += 2 * multiplyAdds;
    this.multiplyAdds.set(layer.name, multiplyAdds);
    this.outputs.set(layer.name, out.reduce((a, b) => a * b, 1));
    return out;
  }

  dropout = (x: Shape) => x;
  leakyRelu = (x: Shape) => x;
  relu = (x: Shape) => x;
  tanh = (x: Shape) => x;
  concat = (a: Shape, b: Shape): Shape => [a[0], a[1], a[2], a[3] + b[3]];
  padOne = ([n, h, w, c]: Shape): Shape => [n, h + 2, w + 2, c];
}

/** Multiply-adds of each of the generator's convolutions, for one image. */
export function generatorMultiplyAdds(layout: GeneratorLayout): Map<string, number> {
  const ops = new ShapeOps();
  generator(ops, layout, [1, layout.imageSize, layout.imageSize, 3]);
  return ops.multiplyAdds;
}

/** FLOPs of one generator forward for a batch of `batch` images. */
export function generatorFlops(layout: GeneratorLayout, batch = 1): number {
  const ops = new ShapeOps();
  generator(ops, layout, [batch, layout.imageSize, layout.imageSize, 3]);
  return ops.flops;
}
