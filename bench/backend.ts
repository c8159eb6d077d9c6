/**
 * conv2d throughput of the native backend (libtensorflow through tfjs-node) against the pure-JS cpu
 * backend, forward and both backward kernels, at pix2pix-like shapes (4x4 kernel, stride 2, 'same').
 *
 *   npx tsx bench/backend.ts          about a minute; skips pure-JS cells estimated over 20 s
 *   npx tsx bench/backend.ts --full   runs every cell (the pure-JS filter gradient at 128x128x64 takes minutes)
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../model/backend';
import { printMachine } from './lib/machine';

interface ConvShape {
  label: string;
  size: number;
  inChannels: number;
  outChannels: number;
}

const KERNEL = 4;
const STRIDE = 2;
const SHAPES: ConvShape[] = [
  { label: '64x64x32 -> 64', size: 64, inChannels: 32, outChannels: 64 },
  { label: '128x128x64 -> 128', size: 128, inChannels: 64, outChannels: 128 }, // pix2pix encoder layer 2 at 256 px
];
const OPS = ['forward', 'grad input', 'grad filter'] as const;
type Op = (typeof OPS)[number];

const NATIVE_BUDGET_MS = 1_000;
const PURE_JS_BUDGET_MS = 3_000;
const PURE_JS_SKIP_OVER_MS = 20_000;
const full = process.argv.includes('--full');

/** Multiply-adds x 2; the same count for the forward pass and each gradient. */
function gflop(shape: ConvShape): number {
  const out = Math.ceil(shape.size / STRIDE);
  return (2 * out * out * shape.outChannels * KERNEL * KERNEL * shape.inChannels) / 1e9;
}

/** Runs one op on the active backend; the result is read back so the time includes finishing it. */
function makeRunner(shape: ConvShape, op: Op): { run: () => void; dispose: () => void } {
  const out = Math.ceil(shape.size / STRIDE);
  const xShape: [number, number, number, number] = [1, shape.size, shape.size, shape.inChannels];
  const wShape: [number, number, number, number] = [KERNEL, KERNEL, shape.inChannels, shape.outChannels];
  const x = tf.randomUniform(xShape, -1, 1) as tf.Tensor4D;
  const w = tf.randomUniform(wShape, -1, 1) as tf.Tensor4D;
  const dy = tf.randomUniform([1, out, out, shape.outChannels], -1, 1) as tf.Tensor4D;
  const compute: Record<Op, () => tf.Tensor> = {
    forward: () => tf.conv2d(x, w, STRIDE, 'same'),
    // The kernels tf.grad runs for conv2d (Conv2DBackpropInput, Conv2DBackpropFilter), without the forward pass.
    'grad input': () => tf.conv2dTranspose(dy, w, xShape, STRIDE, 'same'),
    'grad filter': () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: [STRIDE, STRIDE], pad: 'same', dataFormat: 'NHWC', filterShape: wShape }) as tf.Tensor,
  };
  return {
    run: () => {
      const result = compute[op]();
      result.dataSync();
      result.dispose();
    },
    dispose: () => tf.dispose([x, w, dy]),
  };
}

/** Mean ms per op: one untimed warm-up when an op is quick, then repeats until the budget is spent. */
function timeOp(run: () => void, budgetMs: number): number {
  let started = performance.now();
  run();
  const first = performance.now() - started;
  if (first > budgetMs / 3) return first; // slow: the first run is the measurement
  let runs = 0;
  started = performance.now();
  do {
    run();
    runs++;
  } while (performance.now() - started < budgetMs && runs < 200);
  return (performance.now() - started) / runs;
}

interface Cell {
  ms: number;
  estimated: boolean;
}

async function measure(backend: 'tensorflow' | 'cpu', rateFromSmallerShape: Map<Op, number>): Promise<Map<string, Cell>> {
  await tf.setBackend(backend);
  const cells = new Map<string, Cell>();
  for (const shape of SHAPES) {
    for (const op of OPS) {
      const key = `${shape.label}|${op}`;
      const knownRate = rateFromSmallerShape.get(op); // GFLOP per ms
      const estimateMs = knownRate ? gflop(shape) / knownRate : 0;
      if (backend === 'cpu' && !full && estimateMs > PURE_JS_SKIP_OVER_MS) {
        cells.set(key, { ms: estimateMs, estimated: true });
        continue;
      }
      const runner = makeRunner(shape, op);
      const ms = timeOp(runner.run, backend === 'cpu' ? PURE_JS_BUDGET_MS : NATIVE_BUDGET_MS);
      runner.dispose();
      cells.set(key, { ms, estimated: false });
      if (backend === 'cpu') rateFromSmallerShape.set(op, gflop(shape) / ms);
      process.stderr.write('.');
    }
  }
  return cells;
}

function formatRate(gflopPerS: number): string {
  return gflopPerS >= 10 ? gflopPerS.toFixed(1) : gflopPerS.toPrecision(2);
}

function formatMs(cell: Cell): string {
  const digits = cell.ms < 10 ? 2 : cell.ms < 1000 ? 1 : 0;
  return (cell.estimated ? '~' : '') + cell.ms.toFixed(digits);
}

async function main() {
  printMachine();
  const started = performance.now();
  const active = await initBackend({ prefer: 'tensorflow', required: true, log: () => {} });
  tf.enableProdMode(); // no "install the node backend" banner when the pure-JS backend is first used

  const native = await measure('tensorflow', new Map());
  const pureJs = await measure('cpu', new Map());
  await tf.setBackend('tensorflow');
  process.stderr.write('\n');

  console.log(
    `conv2d ${KERNEL}x${KERNEL} stride ${STRIDE} 'same', batch 1, float32 — native: libtensorflow ${active.tfVersion} ` +
      `(tfjs-node, oneDNN ${process.env.TF_ENABLE_ONEDNN_OPTS === '0' ? 'off' : 'on'}); pure JS: tfjs ${active.tfjsVersion} cpu; ` +
      `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`,
  );
  const header = ['input -> out channels', 'op', 'GFLOP', 'native ms', 'GFLOP/s', 'pure-JS ms', 'GFLOP/s', 'native x'];
  const widths = [20, 18, 7, 10, 8, 11, 8, 9];
  const row = (cols: string[]) => console.log(cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' '));
  row(header);
  for (const shape of SHAPES) {
    const step = { native: 0, pureJs: 0, estimated: false };
    for (const op of OPS) {
      const n = native.get(`${shape.label}|${op}`)!;
      const j = pureJs.get(`${shape.label}|${op}`)!;
      step.native += n.ms;
      step.pureJs += j.ms;
      step.estimated ||= j.estimated;
      const g = gflop(shape);
      const approx = j.estimated ? '~' : '';
      row([shape.label, op, g.toFixed(3), formatMs(n), formatRate(g / (n.ms / 1000)), formatMs(j), approx + formatRate(g / (j.ms / 1000)), approx + (j.ms / n.ms).toFixed(0)]);
    }
    const g3 = 3 * gflop(shape);
    const approx = step.estimated ? '~' : '';
    row([
      '', 'train step (all 3)', g3.toFixed(3), step.native.toFixed(1), formatRate(g3 / (step.native / 1000)),
      approx + step.pureJs.toFixed(0), approx + formatRate(g3 / (step.pureJs / 1000)), approx + (step.pureJs / step.native).toFixed(0),
    ]);
  }
  if ([...pureJs.values()].some((c) => c.estimated)) {
    console.log(`~ = pure-JS cell not run (estimated over ${PURE_JS_SKIP_OVER_MS / 1000} s from its GFLOP/s at the smaller shape); --full runs it.`);
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
