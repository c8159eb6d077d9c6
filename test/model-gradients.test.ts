/**
 * Every op the graph builder differentiates (model/graph/builder.ts) against finite differences of
 * its own forward, in float64 on tiny shapes: for random directions v, the builder's reverse-mode
 * <dF/dx, v> must equal (F(x + hv) - F(x - hv)) / 2h, where F(x) = sum(op(x) * r) for a random r.
 * Both sides are computed inside one libtensorflow graph in float64 (tfjs has no float64 tensors:
 * inputs are fed as float32 and cast), so the comparison is not limited by float32 rounding.
 *
 * FusedBatchNormV3 and its gradient exist only for float32 (and half types) in TensorFlow, so batch
 * norm is checked in float32 with a larger step and a looser tolerance, stated below.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Sym } from '../model/graph/builder';
import { DT } from '../model/graph/proto';
import { GraphSession } from '../model/graph/session';
import { createPrng } from '../model/random';
import { modelTestBackend } from './helpers/model';

const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[model-gradients.test] SKIPPED: ${skipReason}`);

interface Check {
  /** Shapes of the op's inputs; `differentiate` marks which ones are checked (default: all). */
  inputs: number[][];
  differentiate?: boolean[];
  op(g: GraphBuilder, xs: Sym[]): Sym;
  /** Inputs drawn from [-range, range] (default 1); `avoidZero` keeps them away from kinks at 0. */
  range?: number;
  avoidZero?: boolean;
}

/** Largest relative difference between reverse mode and central differences over `directions` random directions. */
function gradientError(check: Check, precision: 'float64' | 'float32', directions = 3): number {
  const dtype = precision === 'float64' ? DT.double : DT.float;
  const h = precision === 'float64' ? 1e-6 : 1e-2;
  const g = new GraphBuilder(dtype);
  const cast = (s: Sym) => (dtype === DT.float ? s : g.cast(s, DT.float, dtype));
  const xs = check.inputs.map((shape, i) => cast(g.placeholder(`x${i}`, shape, DT.float)));
  const vs = check.inputs.map((shape, i) => cast(g.placeholder(`v${i}`, shape, DT.float)));
  const differentiated = check.inputs.map((_, i) => check.differentiate?.[i] ?? true);
  const y = check.op(g, xs);
  const r = cast(g.placeholder('r', [...y.shape], DT.float));
  const objective = (out: Sym) => g.sum(g.multiply(out, r));
  const targets = xs.filter((_, i) => differentiated[i]);
  const grads = g.gradients([[y, r]], targets);
  const analytic = targets.map((_, k) => g.sum(g.multiply(grads[k], vs[xs.indexOf(targets[k])]))).reduce((a, b) => g.add(a, b));
  const shifted = (sign: 1 | -1) => xs.map((x, i) => (differentiated[i] ? g.add(x, g.scale(vs[i], sign * h)) : x));
  const numeric = g.scale(g.sub(objective(check.op(g, shifted(1))), objective(check.op(g, shifted(-1)))), 1 / (2 * h));
  const out = (s: Sym, name: string) => (dtype === DT.float ? g.identity(s, name) : g.cast(s, dtype, DT.float, name));
  // The difference is taken in the graph's precision, so float32 output does not limit it.
  out(analytic, 'analytic');
  out(g.sub(analytic, numeric), 'difference');

  const session = new GraphSession(g.nodes);
  const random = createPrng(17);
  const draw = (shape: number[], range: number, avoidZero = false) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
        const u = (random() * 2 - 1) * range;
        return avoidZero ? Math.sign(u || 1) * (0.1 + Math.abs(u)) : u;
      }),
      shape,
    );
  let worst = 0;
  try {
    for (let d = 0; d < directions; d++) {
      tf.tidy(() => {
        const feeds: Array<[string, tf.Tensor]> = [
          ...check.inputs.map((shape, i): [string, tf.Tensor] => [`x${i}`, draw(shape, check.range ?? 1, check.avoidZero)]),
          ...check.inputs.map((shape, i): [string, tf.Tensor] => [`v${i}`, draw(shape, 1)]),
          ['r', draw([...y.shape], 1)],
        ];
        const [analyticValue, difference] = session.run(feeds, ['analytic', 'difference']).map((t) => t.dataSync()[0]);
        worst = Math.max(worst, Math.abs(difference) / Math.max(Math.abs(analyticValue), 1e-12));
      });
    }
  } finally {
    session.dispose();
  }
  return worst;
}

const CHECKS: Record<string, Check> = {
  'conv2d, 4x4 stride 2 SAME (encoder)': { inputs: [[2, 6, 6, 3], [4, 4, 3, 5]], op: (g, [x, w]) => g.conv2d(x, w, 2, 'SAME') },
  'conv2d, 4x4 stride 1 VALID (PatchGAN)': { inputs: [[1, 6, 6, 3], [4, 4, 3, 2]], op: (g, [x, w]) => g.conv2d(x, w, 1, 'VALID') },
  'conv2dTranspose, 4x4 stride 2 (decoder)': { inputs: [[2, 3, 3, 4], [4, 4, 5, 4]], op: (g, [x, w]) => g.conv2dTranspose(x, w) },
  biasAdd: { inputs: [[2, 3, 3, 4], [4]], op: (g, [x, b]) => g.biasAdd(x, b) },
  leakyRelu: { inputs: [[2, 3, 3, 4]], avoidZero: true, op: (g, [x]) => g.leakyRelu(x, 0.2) },
  relu: { inputs: [[2, 3, 3, 4]], avoidZero: true, op: (g, [x]) => g.relu(x) },
  tanh: { inputs: [[2, 3, 3, 4]], range: 2, op: (g, [x]) => g.tanh(x) },
  'mulConstant (dropout mask, not differentiated)': { inputs: [[1, 3, 3, 4], [1, 3, 3, 4]], differentiate: [true, false], op: (g, [x, mask]) => g.mulConstant(x, mask) },
  concatChannels: { inputs: [[1, 3, 3, 2], [1, 3, 3, 3]], op: (g, [a, b]) => g.concatChannels(a, b) },
  padOne: { inputs: [[1, 3, 3, 2]], op: (g, [x]) => g.padOne(x) },
  softplus: { inputs: [[1, 3, 3, 1]], range: 4, op: (g, [x]) => g.softplus(x) },
  neg: { inputs: [[1, 3, 3, 1]], op: (g, [x]) => g.neg(x) },
  abs: { inputs: [[1, 3, 3, 3]], avoidZero: true, op: (g, [x]) => g.abs(x) },
  sub: { inputs: [[1, 3, 3, 3], [1, 3, 3, 3]], op: (g, [a, b]) => g.sub(a, b) },
  add: { inputs: [[1, 3, 3, 3], [1, 3, 3, 3]], op: (g, [a, b]) => g.add(a, b) },
  scale: { inputs: [[1, 3, 3, 3]], op: (g, [x]) => g.scale(x, 2.5) },
  mean: { inputs: [[2, 3, 3, 3]], op: (g, [x]) => g.mean(x) },
  'the pix2pix losses composed (softplus of negated logits, L1 of a difference)': {
    inputs: [[1, 2, 2, 1], [1, 4, 4, 3], [1, 4, 4, 3]],
    avoidZero: true,
    op: (g, [logits, fake, target]) => g.add(g.mean(g.softplus(g.neg(logits))), g.scale(g.mean(g.abs(g.sub(fake, target))), 100)),
  },
};

describe.skipIf(skipReason !== undefined)('reverse mode of the graph builder against finite differences', () => {
  it.each(Object.keys(CHECKS))('%s (float64: relative error below 1e-7)', (name) => {
    expect(gradientError(CHECKS[name], 'float64')).toBeLessThan(1e-7);
  });

  it('batch norm with batch statistics, FusedBatchNormV3 (float32 only in TensorFlow: step 1e-2, relative error below 2e-2)', () => {
    // In float32 a central difference of step h carries rounding of about 1e-7 * |F| / h: with |F| of a
    // few units and h = 1e-2 that is ~1e-4 relative, plus O(h^2) truncation; 2e-2 leaves room for both
    // and still fails for any wrong gradient (a dropped term or a sign is an O(1) error).
    const check: Check = {
      inputs: [[2, 3, 3, 4], [4], [4]],
      op: (g, [x, gamma, beta]) => g.batchNormTraining(x, gamma, beta, channels(g, 0), channels(g, 1), 1e-3, 0.1).y,
    };
    expect(gradientError(check, 'float32', 4)).toBeLessThan(2e-2);
  });

  it('fails for a gradient that is wrong (the check can fail)', () => {
    const broken: Check = { inputs: [[1, 3, 3, 2]], avoidZero: true, op: (g, [x]) => brokenSquare(g, x) };
    expect(gradientError(broken, 'float64')).toBeGreaterThan(0.1);
  });
});

/** Running statistics of 4 channels, all `value`. */
function channels(g: GraphBuilder, value: number): Sym {
  return g.constant({ dtype: DT.float, shape: [4], values: [value, value, value, value] });
}

/** x * x whose recorded gradient is dy (missing the factor 2x): what a wrong backward looks like. */
function brokenSquare(g: GraphBuilder, x: Sym): Sym {
  const y = g.multiply(x, x);
  (g as unknown as { record(inputs: Sym[], outputs: Sym[], backward: (dys: Array<Sym | undefined>) => Array<Sym | undefined>): void }).record([x], [y], ([dy]) => [dy]);
  return y;
}
