/**
 * NetworkOps and LossOps that build a libtensorflow graph (model/graph/builder.ts), in one of two modes:
 *
 * - `training`: batch norm with batch statistics (FusedBatchNormV3, which also returns the updated
 *   moving averages: assigned to their variables, each pass after the previous pass's update),
 *   dropout masks fed per step. Every op records its gradient, so reverse mode differentiates the
 *   networks and the losses.
 * - `folded`: inference with batch norm folded into each convolution's kernel and bias
 *   (model/fold.ts), no dropout.
 */
import type { GraphBuilder, Sym } from '../graph/builder';
import { weightNames, type ConvLayer } from '../layout';
import type { LossOps } from '../losses';
import type { NetworkOps } from '../networks';

export interface GraphTrainingMode {
  kind: 'training';
  /** The read of a trainable weight (one read per step, shared by every use). */
  weight(name: string): Sym;
  /** A moving statistic's current value, and where its updated value goes. */
  statistic(name: string): Sym;
  updateStatistic(name: string, value: Sym): void;
  /** The fed dropout mask of `layer` for a tensor of `shape`. */
  dropoutMask(layer: ConvLayer, shape: readonly number[]): Sym;
  epsilon: number;
  /** Moving-statistics decay (Keras convention). */
  momentum: number;
}

export interface GraphFoldedMode {
  kind: 'folded';
  /** The layer's folded kernel and bias. */
  layer(layer: ConvLayer): { kernel: Sym; bias: Sym };
}

export class GraphOps implements NetworkOps<Sym> {
  constructor(
    private readonly g: GraphBuilder,
    private readonly mode: GraphTrainingMode | GraphFoldedMode,
  ) {}

  conv(x: Sym, layer: ConvLayer): Sym {
    const { g, mode } = this;
    if (mode.kind === 'folded') {
      const { kernel, bias } = mode.layer(layer);
      return g.biasAdd(this.convolve(x, layer, kernel), bias);
    }
    const names = weightNames(layer);
    const y = this.convolve(x, layer, mode.weight(names.kernel));
    if (layer.after === 'bias') return g.biasAdd(y, mode.weight(names.bias));
    const out = g.batchNormTraining(
      y,
      mode.weight(names.gamma),
      mode.weight(names.beta),
      mode.statistic(names.movingMean),
      mode.statistic(names.movingVariance),
      mode.epsilon,
      1 - mode.momentum,
    );
    mode.updateStatistic(names.movingMean, out.newMean);
    mode.updateStatistic(names.movingVariance, out.newVariance);
    return out.y;
  }

  private convolve(x: Sym, layer: ConvLayer, kernel: Sym): Sym {
    return layer.transposed ? this.g.conv2dTranspose(x, kernel) : this.g.conv2d(x, kernel, layer.stride, layer.padding === 'same' ? 'SAME' : 'VALID');
  }

  dropout(x: Sym, layer: ConvLayer): Sym {
    if (this.mode.kind !== 'training' || !layer.dropout) return x;
    return this.g.mulConstant(x, this.mode.dropoutMask(layer, x.shape));
  }

  leakyRelu = (x: Sym, alpha: number) => this.g.leakyRelu(x, alpha);
  relu = (x: Sym) => this.g.relu(x);
  tanh = (x: Sym) => this.g.tanh(x);
  concat = (a: Sym, b: Sym) => this.g.concatChannels(a, b);
  padOne = (x: Sym) => this.g.padOne(x);
}

/** The losses' operations in the graph (each records its gradient for reverse mode). */
export function graphLossOps(g: GraphBuilder): LossOps<Sym> {
  return {
    softplus: (x) => g.softplus(x),
    neg: (x) => g.neg(x),
    abs: (x) => g.abs(x),
    sub: (a, b) => g.sub(a, b),
    add: (a, b) => g.add(a, b),
    scale: (x, factor) => g.scale(x, factor),
    mean: (x) => g.mean(x),
  };
}
