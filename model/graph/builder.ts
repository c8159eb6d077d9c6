/**
 * A small TensorFlow graph builder with reverse-mode differentiation, for the ops pix2pix uses.
 *
 * Each differentiable op records on a tape how to turn its output gradients into input gradients,
 * written with the same libtensorflow gradient ops TensorFlow's own graph gradients use
 * (Conv2DBackpropInput/Filter, FusedBatchNormGradV3, LeakyReluGrad, ...). `gradients()` walks the
 * tape backwards, pruned to the paths between the requested targets and the seeded tensors.
 * Shapes are static (fixed batch), tracked here so gradient ops get their size inputs as constants.
 */
import { DT, type Attr, type ConstTensor, type DataType, type NodeSpec } from './proto';

/** A tensor in the graph: "node" or "node:index", with its static shape. */
export interface Sym {
  readonly ref: string;
  readonly shape: readonly number[];
}

export interface Variable {
  readonly name: string;
  readonly shape: number[];
  /** The VarHandleOp. */
  readonly handle: Sym;
}

type Backward = (dys: Array<Sym | undefined>, needs: boolean[]) => Array<Sym | undefined>;

interface TapeEntry {
  inputs: Sym[];
  outputs: Sym[];
  backward: Backward;
}

const NHWC: Attr = { s: 'NHWC' };

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  private readonly tape: TapeEntry[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  /** The `T` attribute of every floating-point op. */
  private readonly T: Attr;

  /**
   * `dtype`: the floating-point type of the graph's tensors. float32 for training and inference;
   * float64 for the finite-difference checks of the gradients (FusedBatchNorm has no float64 kernel).
   */
  constructor(readonly dtype: typeof DT.float | typeof DT.double = DT.float) {
    this.T = { type: dtype };
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  /** Adds a node; returns its name. `name` is used as is when given (must be unique). */
  node(op: string, inputs: Array<Sym | string>, attrs: Record<string, Attr> = {}, name?: string, control: string[] = []): string {
    const nodeName = name ?? `${op}_${++this.counter}`;
    if (this.names.has(nodeName)) throw new Error(`duplicate graph node name ${nodeName}`);
    this.names.add(nodeName);
    const refs = inputs.map((input) => (typeof input === 'string' ? input : input.ref));
    this.nodes.push({ name: nodeName, op, inputs: [...refs, ...control.map((c) => `^${c.split(':')[0]}`)], attrs });
    return nodeName;
  }

  private output(op: string, inputs: Array<Sym | string>, attrs: Record<string, Attr>, shape: readonly number[], name?: string, control?: string[]): Sym {
    return { ref: this.node(op, inputs, attrs, name, control), shape };
  }

  placeholder(name: string, shape: number[], dtype: DataType = this.dtype): Sym {
    return this.output('Placeholder', [], { dtype: { type: dtype }, shape: { shape } }, shape, name);
  }

  /** `x` converted to another element type (not differentiated). */
  cast(x: Sym, from: DataType, to: DataType, name?: string): Sym {
    return this.output('Cast', [x], { SrcT: { type: from }, DstT: { type: to }, Truncate: { b: false } }, x.shape, name);
  }

  constant(tensor: ConstTensor, name?: string): Sym {
    return this.output('Const', [], { dtype: { type: tensor.dtype }, value: { tensor } }, tensor.shape, name);
  }

  /** A scalar of the graph's float type. */
  scalar(value: number): Sym {
    return this.constant({ dtype: this.dtype, shape: [], values: [value] });
  }

  int32s(values: readonly number[]): Sym {
    return this.constant({ dtype: DT.int32, shape: [values.length], values: [...values] });
  }

  variable(name: string, shape: number[]): Variable {
    const handle = this.output('VarHandleOp', [], { dtype: this.T, shape: { shape }, shared_name: { s: name }, container: { s: '' } }, [], `var/${name}`);
    return { name, shape, handle };
  }

  read(variable: Variable, name?: string, control?: string[]): Sym {
    return this.output('ReadVariableOp', [variable.handle], { dtype: this.T }, variable.shape, name, control);
  }

  assign(variable: Variable, value: Sym, name?: string, control?: string[]): string {
    return this.node('AssignVariableOp', [variable.handle, value], { dtype: this.T }, name, control);
  }

  /** An Identity of `value` that runs only after `after` (fetch it to run those nodes). */
  identity(value: Sym, name?: string, after: string[] = []): Sym {
    return this.output('Identity', [value], { T: this.T }, value.shape, name, after);
  }

  private record(inputs: Sym[], outputs: Sym[], backward: Backward): void {
    this.tape.push({ inputs, outputs, backward });
  }

  // ---- differentiable ops ------------------------------------------------------------------------

  /** 4x4 convolution, NHWC; 'SAME' with stride 2 pads by 1 like the networks' code. */
  conv2d(x: Sym, w: Sym, stride: number, padding: 'SAME' | 'VALID'): Sym {
    const [n, h, wd] = x.shape;
    const [k, , , out] = w.shape;
    const size = (d: number) => (padding === 'SAME' ? Math.ceil(d / stride) : Math.floor((d - k) / stride) + 1);
    const attrs = convAttrs(this.T, stride, padding);
    const y = this.output('Conv2D', [x, w], attrs, [n, size(h), size(wd), out]);
    this.record([x, w], [y], ([dy], [needX, needW]) => [
      needX ? this.output('Conv2DBackpropInput', [this.int32s(x.shape), w, dy!], attrs, x.shape) : undefined,
      needW ? this.output('Conv2DBackpropFilter', [x, this.int32s(w.shape), dy!], attrs, w.shape) : undefined,
    ]);
    return y;
  }

  /** Stride-2 transposed convolution doubling height and width; w is [k, k, out, in]. */
  conv2dTranspose(x: Sym, w: Sym): Sym {
    const [n, h, wd] = x.shape;
    const shape = [n, h * 2, wd * 2, w.shape[2]];
    const attrs = convAttrs(this.T, 2, 'SAME');
    const sizes = n >= 0 ? this.int32s(shape) : this.withBatchOf(x, shape.slice(1));
    const y = this.output('Conv2DBackpropInput', [sizes, w, x], attrs, shape);
    this.record([x, w], [y], ([dy], [needX, needW]) => [
      needX ? this.output('Conv2D', [dy!, w], attrs, x.shape) : undefined,
      needW ? this.output('Conv2DBackpropFilter', [dy!, this.int32s(w.shape), x], attrs, w.shape) : undefined,
    ]);
    return y;
  }

  biasAdd(x: Sym, bias: Sym): Sym {
    const y = this.output('BiasAdd', [x, bias], { T: this.T, data_format: NHWC }, x.shape);
    this.record([x, bias], [y], ([dy], [needX, needB]) => [
      needX ? dy : undefined,
      needB ? this.output('BiasAddGrad', [dy!], { T: this.T, data_format: NHWC }, bias.shape) : undefined,
    ]);
    return y;
  }

  /**
   * Batch norm with batch statistics (FusedBatchNormV3, is_training). Given the running statistics
   * and `averageFactor` (1 - momentum) the op also returns them updated, as Keras does.
   */
  batchNormTraining(x: Sym, gamma: Sym, beta: Sym, runningMean: Sym, runningVariance: Sym, epsilon: number, averageFactor: number) {
    const attrs: Record<string, Attr> = { T: this.T, U: { type: DT.float }, epsilon: { f: epsilon }, data_format: NHWC, is_training: { b: true } };
    const name = this.node('FusedBatchNormV3', [x, gamma, beta, runningMean, runningVariance], { ...attrs, exponential_avg_factor: { f: averageFactor } });
    const y: Sym = { ref: name, shape: x.shape };
    const channels = [x.shape[3]];
    const out = (i: number): Sym => ({ ref: `${name}:${i}`, shape: channels });
    this.record([x, gamma, beta], [y], ([dy]) => {
      const grad = this.node('FusedBatchNormGradV3', [dy!, x, gamma, out(3), out(4), out(5)], attrs);
      return [
        { ref: grad, shape: x.shape },
        { ref: `${grad}:1`, shape: channels },
        { ref: `${grad}:2`, shape: channels },
      ];
    });
    return { y, newMean: out(1), newVariance: out(2) };
  }

  /**
   * The gradient reads the output's sign, which is the input's for alpha > 0: with the input there,
   * Grappler's remapper fails to fuse Conv2D + BiasAdd + LeakyRelu (the BiasAdd has a second reader).
   */
  leakyRelu(x: Sym, alpha: number): Sym {
    if (!(alpha > 0)) throw new Error(`leakyRelu needs alpha > 0, got ${alpha}`);
    const y = this.output('LeakyRelu', [x], { T: this.T, alpha: { f: alpha } }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('LeakyReluGrad', [dy!, y], { T: this.T, alpha: { f: alpha } }, x.shape)]);
    return y;
  }

  relu(x: Sym): Sym {
    const y = this.output('Relu', [x], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('ReluGrad', [dy!, y], { T: this.T }, x.shape)]);
    return y;
  }

  tanh(x: Sym): Sym {
    const y = this.output('Tanh', [x], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('TanhGrad', [y, dy!], { T: this.T }, x.shape)]);
    return y;
  }

  /** Elementwise product with a tensor that is not differentiated (a dropout mask). */
  mulConstant(x: Sym, mask: Sym): Sym {
    const y = this.output('Mul', [x, mask], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('Mul', [dy!, mask], { T: this.T }, x.shape)]);
    return y;
  }

  /** Concatenation along channels. */
  concatChannels(a: Sym, b: Sym): Sym {
    const shape = [...a.shape.slice(0, 3), a.shape[3] + b.shape[3]];
    const y = this.output('ConcatV2', [a, b, this.int32Scalar(3)], { T: this.T, N: { i: 2 }, Tidx: { type: DT.int32 } }, shape);
    this.record([a, b], [y], ([dy]) => {
      const split = this.node('SplitV', [dy!, this.int32s([a.shape[3], b.shape[3]]), this.int32Scalar(3)], { T: this.T, Tlen: { type: DT.int32 }, num_split: { i: 2 } });
      return [
        { ref: split, shape: a.shape },
        { ref: `${split}:1`, shape: b.shape },
      ];
    });
    return y;
  }

  /** Zero padding by one pixel on each side of height and width. */
  padOne(x: Sym): Sym {
    const [n, h, w, c] = x.shape;
    const paddings = this.constant({ dtype: DT.int32, shape: [4, 2], values: [0, 0, 1, 1, 1, 1, 0, 0] });
    const y = this.output('Pad', [x, paddings], { T: this.T, Tpaddings: { type: DT.int32 } }, [n, h + 2, w + 2, c]);
    this.record([x], [y], ([dy]) => [this.output('Slice', [dy!, this.int32s([0, 1, 1, 0]), this.int32s(x.shape)], { T: this.T, Index: { type: DT.int32 } }, x.shape)]);
    return y;
  }

  // ---- differentiable scalar-producing ops (the losses) ------------------------------------------

  softplus(x: Sym): Sym {
    const y = this.output('Softplus', [x], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('SoftplusGrad', [dy!, x], { T: this.T }, x.shape)]);
    return y;
  }

  neg(x: Sym): Sym {
    const y = this.output('Neg', [x], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('Neg', [dy!], { T: this.T }, x.shape)]);
    return y;
  }

  abs(x: Sym): Sym {
    const y = this.output('Abs', [x], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('Mul', [dy!, this.output('Sign', [x], { T: this.T }, x.shape)], { T: this.T }, x.shape)]);
    return y;
  }

  /** a - b for tensors of one shape. */
  sub(a: Sym, b: Sym): Sym {
    sameShape('Sub', a, b);
    const y = this.output('Sub', [a, b], { T: this.T }, a.shape);
    this.record([a, b], [y], ([dy], [needA, needB]) => [needA ? dy : undefined, needB ? this.output('Neg', [dy!], { T: this.T }, b.shape) : undefined]);
    return y;
  }

  /** a + b for tensors of one shape. */
  add(a: Sym, b: Sym): Sym {
    sameShape('Add', a, b);
    const y = this.output('AddV2', [a, b], { T: this.T }, a.shape);
    this.record([a, b], [y], ([dy]) => [dy, dy]);
    return y;
  }

  /** x times a constant. */
  scale(x: Sym, factor: number): Sym {
    const k = this.scalar(factor);
    const y = this.output('Mul', [x, k], { T: this.T }, x.shape);
    this.record([x], [y], ([dy]) => [this.output('Mul', [dy!, k], { T: this.T }, x.shape)]);
    return y;
  }

  /** Mean over all elements (a scalar); its gradient spreads dy / n over x's shape. */
  mean(x: Sym): Sym {
    const y = this.output('Mean', [x, this.int32s(x.shape.map((_, i) => i))], { T: this.T, Tidx: { type: DT.int32 }, keep_dims: { b: false } }, []);
    const n = x.shape.reduce((a, b) => a * b, 1);
    this.record([x], [y], ([dy]) => [
      this.output('Fill', [this.int32s(x.shape), this.output('Mul', [dy!, this.scalar(1 / n)], { T: this.T }, [])], { T: this.T, index_type: { type: DT.int32 } }, x.shape),
    ]);
    return y;
  }

  // ---- not differentiated ------------------------------------------------------------------------

  /** Elementwise `op` of one input, outside reverse mode. */
  unary(op: 'Sign' | 'Sigmoid', x: Sym): Sym {
    return this.output(op, [x], { T: this.T }, x.shape);
  }

  /** Elementwise product, outside reverse mode. */
  multiply(a: Sym, b: Sym): Sym {
    return this.output('Mul', [a, b], { T: this.T }, a.shape.length >= b.shape.length ? a.shape : b.shape);
  }

  /** Sum of all elements (a scalar), outside reverse mode. */
  sum(x: Sym): Sym {
    return this.output('Sum', [x, this.int32s(x.shape.map((_, i) => i))], { T: this.T, Tidx: { type: DT.int32 }, keep_dims: { b: false } }, []);
  }

  pack(values: Sym[], name?: string, after?: string[]): Sym {
    return this.output('Pack', values, { T: this.T, N: { i: values.length }, axis: { i: 0 } }, [values.length], name, after);
  }

  /** [batch of x, ...rest] as an int32 vector, for a graph whose batch size is fed (-1). */
  private withBatchOf(x: Sym, rest: number[]): Sym {
    const shape = this.output('Shape', [x], { T: this.T, out_type: { type: DT.int32 } }, [x.shape.length]);
    const sliceAttrs: Record<string, Attr> = { T: { type: DT.int32 }, Index: { type: DT.int32 }, shrink_axis_mask: { i: 1 }, begin_mask: { i: 0 }, end_mask: { i: 0 }, ellipsis_mask: { i: 0 }, new_axis_mask: { i: 0 } };
    const batch = this.output('StridedSlice', [shape, this.int32s([0]), this.int32s([1]), this.int32s([1])], sliceAttrs, []);
    const parts = [batch, ...rest.map((d) => this.int32Scalar(d))];
    return this.output('Pack', parts, { T: { type: DT.int32 }, N: { i: parts.length }, axis: { i: 0 } }, [parts.length]);
  }

  private int32Scalar(value: number): Sym {
    return this.constant({ dtype: DT.int32, shape: [], values: [value] });
  }

  // ---- reverse mode ------------------------------------------------------------------------------

  /**
   * Gradients of the seeded tensors with respect to `targets`: `seeds` maps a tensor to the gradient
   * of the objective with respect to it. Only ops on a path from a target to a seed are differentiated,
   * and each only towards the inputs a target reaches.
   */
  gradients(seeds: Array<[Sym, Sym]>, targets: Sym[]): Sym[] {
    const fromTargets = new Set(targets.map((t) => t.ref));
    for (const entry of this.tape) {
      if (entry.inputs.some((i) => fromTargets.has(i.ref))) for (const o of entry.outputs) fromTargets.add(o.ref);
    }
    const pending = new Map<string, Sym[]>();
    const add = (ref: string, grad: Sym) => pending.set(ref, [...(pending.get(ref) ?? []), grad]);
    for (const [tensor, grad] of seeds) add(tensor.ref, grad);
    const total = (ref: string): Sym | undefined => {
      const grads = pending.get(ref);
      if (!grads) return undefined;
      const sum = grads.length === 1 ? grads[0] : this.output('AddN', grads, { T: this.T, N: { i: grads.length } }, grads[0].shape);
      pending.set(ref, [sum]);
      return sum;
    };
    for (let e = this.tape.length - 1; e >= 0; e--) {
      const entry = this.tape[e];
      const needs = entry.inputs.map((i) => fromTargets.has(i.ref));
      if (!needs.some(Boolean)) continue;
      const dys = entry.outputs.map((o) => total(o.ref));
      if (dys.every((dy) => dy === undefined)) continue;
      entry.backward(dys, needs).forEach((grad, i) => {
        if (grad && needs[i]) add(entry.inputs[i].ref, grad);
      });
    }
    return targets.map((t) => {
      const grad = total(t.ref);
      if (!grad) throw new Error(`no gradient reaches ${t.ref}: it does not influence the objective`);
      return grad;
    });
  }
}

function sameShape(op: string, a: Sym, b: Sym): void {
  if (a.shape.join() !== b.shape.join()) throw new Error(`${op} of shapes ${a.shape} and ${b.shape}: the builder does not broadcast`);
}

function convAttrs(T: Attr, stride: number, padding: 'SAME' | 'VALID'): Record<string, Attr> {
  return { T, strides: { ints: [1, stride, stride, 1] }, padding: { s: padding }, data_format: NHWC, dilations: { ints: [1, 1, 1, 1] }, use_cudnn_on_gpu: { b: true } };
}
