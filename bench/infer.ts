/**
 * Generator inference, side by side in one run: ONNX Runtime on generator.onnx (what bloomsight's
 * render, apply and report run), the same network as one libtensorflow graph (the graph engine's
 * inference), and the Keras reference (bench/reference/pix2pix_keras.py, TensorFlow 2.21), at
 * 256/64 and 128/32, batch 1 and 8; plus the machine's own peak (a 2048x2048 float32 matmul in
 * ONNX Runtime, libtensorflow and Keras), so achieved GFLOP/s can be read against it.
 *
 *   npx tsx bench/infer.ts [--seconds 8] [--rounds 2] [--only 256] [--batches 1,8] [--no-reference]
 *
 * Every measurement runs in its own child process; rounds alternate the engines and the best round
 * of each is reported (on a shared machine, other load only ever slows a round down). All engines get
 * the same weights: the paper's initial weights with kernels rescaled to variance 1/fan-in, so
 * activations keep a trained network's scale (no denormal slow paths).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { initBackend } from '../model/backend';
import { GraphGenerator } from '../model/graph/inference-graph';
import { createGeneratorSession } from '../model/onnx-runtime';
import { generatorToOnnx, ONNX_IO } from '../model/ops/onnx';
import { generatorFlops } from '../model/ops/shapes';
import { benchWeights, layoutOf, rate } from './lib/generator';
import { describeMachine } from './lib/machine';
import { CONFIGS, type Config } from './lib/sizes';

/**
 * 'onnxruntime' is bloomsight's own export and session (model/onnx-runtime.ts: pool threads do not
 * spin); for comparison, 'onnxruntime-spinning' is ONNX Runtime's default threading and
 * 'onnxruntime-convtranspose' the export with every transposed layer as ConvTranspose (no sub-pixel form).
 */
type Engine = 'onnxruntime' | 'onnxruntime-spinning' | 'onnxruntime-convtranspose' | 'libtensorflow' | 'keras';
const ORT_ENGINES: readonly Engine[] = ['onnxruntime', 'onnxruntime-spinning', 'onnxruntime-convtranspose'];
const EPSILON = 1e-5;
const MATMUL = 2048;

/** Child: one engine, one configuration, one batch size; prints { imagesPerSecond }. */
async function child(engine: Engine, config: Config, batch: number, seconds: number): Promise<number> {
  const layout = layoutOf(config);
  const weights = benchWeights(layout);
  const s = config.size;
  if (ORT_ENGINES.includes(engine)) {
    const subPixel = engine === 'onnxruntime-convtranspose' ? { subPixelMinMultiplyAdds: Infinity } : {};
    const model = generatorToOnnx(layout, weights, EPSILON, { properties: {}, producerVersion: 'bench' }, subPixel);
    const input = Float32Array.from({ length: batch * 3 * s * s }, (_, i) => Math.sin(i) * 0.9);
    if (engine !== 'onnxruntime-spinning') {
      const session = await createGeneratorSession(model, 'cpu', { input: ONNX_IO.input, output: ONNX_IO.output });
      return batch * (await rate(() => session.run(input, batch, s), seconds));
    }
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
    const feeds = { [ONNX_IO.input]: new ort.Tensor('float32', input, [batch, 3, s, s]) };
    return batch * (await rate(() => session.run(feeds), seconds));
  }
  await initBackend({ prefer: 'tensorflow', required: true, log: () => {} });
  const graph = new GraphGenerator(layout, weights, EPSILON);
  const input = tf.tidy(() => tf.sin(tf.range(0, batch * s * s * 3)).mul(0.9).reshape([batch, s, s, 3])) as tf.Tensor4D;
  return batch * (await rate(() => {
    const output = graph.run(input);
    output.dataSync();
    output.dispose();
  }, seconds));
}

/** Child: GFLOP/s of a MATMUL x MATMUL float32 matmul in ONNX Runtime or libtensorflow. */
async function peakChild(engine: 'onnxruntime' | 'libtensorflow', seconds: number): Promise<number> {
  const n = MATMUL;
  const flops = 2 * n ** 3;
  const values = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
  if (engine === 'onnxruntime') {
    const info = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } } });
    const model = onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'matmul', node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'] }], input: [info('a'), info('b')], output: [info('c')] } }),
    ).finish();
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
    const a = new ort.Tensor('float32', values, [n, n]);
    return (flops * (await rate(() => session.run({ a, b: a }), seconds))) / 1e9;
  }
  await initBackend({ prefer: 'tensorflow', required: true, log: () => {} });
  const a = tf.tensor2d(values, [n, n]);
  // (Not inside tf.tidy: tidy walks a returned typed array element by element.)
  return (flops * (await rate(() => {
    const product = tf.matMul(a, a);
    product.dataSync();
    product.dispose();
  }, seconds))) / 1e9;
}

function runChild(args: string[]): number {
  const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--child', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  return Number(out.trim().split('\n').pop());
}

function referencePython(): string | undefined {
  const setup = spawnSync('bash', [join(__dirname, 'reference', 'setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return setup.status === 0 ? setup.stdout.trim().split('\n').pop() : undefined;
}

function runKeras(python: string, args: string[]): Record<string, number> | string {
  const run = spawnSync(python, [join(__dirname, 'reference', 'pix2pix_keras.py'), ...args], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (run.status !== 0) return `Keras reference failed: ${(run.stderr || '').trim().split('\n').slice(-2).join(' | ')}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '-');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [kind, ...rest] = args.slice(1);
    if (kind === 'peak') console.log(await peakChild(rest[0] as 'onnxruntime' | 'libtensorflow', Number(rest[1])));
    else console.log(await child(kind as Engine, { size: Number(rest[0]), filters: Number(rest[1]) }, Number(rest[2]), Number(rest[3])));
    return;
  }
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seconds = Number(option('--seconds') ?? 8);
  const rounds = Number(option('--rounds') ?? 2);
  const batches = (option('--batches') ?? '1,8').split(',').map(Number);
  const configs = CONFIGS.filter((c) => !option('--only') || String(c.size) === option('--only'));
  console.log(`[machine] ${describeMachine()}`);
  const python = args.includes('--no-reference') ? undefined : referencePython();
  if (!args.includes('--no-reference') && !python) console.error('[bench] the Keras reference venv could not be set up (bench/reference/setup.sh): reporting without it');

  // The machine's peak, measured here: the best 2048^2 matmul any of the three runtimes reaches.
  const peaks: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    for (const engine of ['onnxruntime', 'libtensorflow'] as const) peaks[engine] = Math.max(peaks[engine] ?? 0, runChild(['peak', engine, String(seconds / 2)]));
    if (python) {
      const keras = runKeras(python, ['--matmul', String(MATMUL), '--seconds', String(seconds / 2)]);
      if (typeof keras !== 'string') peaks.keras = Math.max(peaks.keras ?? 0, keras.gflops);
    }
  }
  const peak = Math.max(...Object.values(peaks));
  console.log(`[bench] peak (float32 ${MATMUL}x${MATMUL} matmul, best of ${rounds}): ${Object.entries(peaks).map(([k, v]) => `${k} ${f(v)}`).join(', ')} GFLOP/s`);

  const rows: string[] = [];
  for (const config of configs) {
    const gflop = generatorFlops(layoutOf(config)) / 1e9;
    for (const batch of batches) {
      const best: Partial<Record<Engine, number>> = {};
      let kerasError: string | undefined;
      for (let round = 1; round <= rounds; round++) {
        for (const engine of [...ORT_ENGINES, 'libtensorflow'] as const) {
          const value = runChild([engine, String(config.size), String(config.filters), String(batch), String(seconds)]);
          console.error(`[bench] round ${round}: ${config.size}/${config.filters} batch ${batch} ${engine} ${f(value)} img/s`);
          best[engine] = Math.max(best[engine] ?? 0, value);
        }
        if (python) {
          const keras = runKeras(python, ['--infer-only', '--size', String(config.size), '--ngf', String(config.filters), '--ndf', String(config.filters), '--batch', String(batch), '--seconds', String(seconds)]);
          if (typeof keras === 'string') kerasError = keras;
          else {
            console.error(`[bench] round ${round}: ${config.size}/${config.filters} batch ${batch} keras ${f(keras.infer_img_per_s)} img/s`);
            best.keras = Math.max(best.keras ?? 0, keras.infer_img_per_s);
          }
        }
      }
      const o = best.onnxruntime!;
      rows.push(
        `| ${config.size} / ${config.filters} | ${batch} | ${f(o)} | ${f(best['onnxruntime-spinning'])} | ${f(best['onnxruntime-convtranspose'])} | ${f(best.libtensorflow)} | ${f(best.keras)} | ${ratio(o, best.keras)} | ${ratio(o, best.libtensorflow)} ` +
          `| ${f(gflop)} | ${f(o * gflop)} | ${((100 * o * gflop) / peak).toFixed(0)} % |`,
      );
      if (kerasError) rows.push(`  ${kerasError}`);
    }
  }
  console.log(`\ngenerator inference, img/s (best of ${rounds} rounds of ~${seconds} s); % of peak = ONNX Runtime's GFLOP/s / ${f(peak)} GFLOP/s`);
  console.log('| size / filters | batch | ONNX Runtime | ORT, threads spinning | ORT, ConvTranspose only | libtensorflow graph | Keras (TF 2.21) | ORT / Keras | ORT / graph | GFLOP per image | ORT GFLOP/s | ORT % of peak |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(`onnxruntime-node ${ort.env.versions?.node ?? '?'}; libtensorflow via tfjs-node ${tf.version.tfjs}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
