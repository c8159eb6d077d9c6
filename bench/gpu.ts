/**
 * The gpu route in one command, for whoever has an NVIDIA GPU (docs/gpu.md):
 *
 *   npx tsx bench/gpu.ts [--seconds 20] [--size 256] [--filters 64] [--batches 1,8]
 *
 * Prints, in order: the machine (CPU and SIMD flags; the GPU from nvidia-smi when there is one); the
 * TensorFlow backend (libtensorflow version and build, and whether it found a GPU device, or what is
 * missing); where TensorFlow's placer put the training graph's ops (per device, and the op types on the
 * CPU); training img/s at 256 px (the graph engine's whole step, batch 1); and generator inference img/s
 * on ONNX Runtime's CUDA execution provider (or why it is unavailable), with the CPU provider beside.
 * Each part runs in its own child process: placement logging must be switched on before libtensorflow
 * loads, and a CUDA provider that fails must not disturb the other measurements.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../model/backend';
import type { ImagePair } from '../model';
import { createGeneratorSession, resolveInferenceProvider, type ExecutionProvider } from '../model/onnx-runtime';
import { generatorToOnnx, ONNX_IO } from '../model/ops/onnx';
import { Pix2Pix, resolveTrainOptions } from '../model';
import { imageToTensor } from '../model';
import { createPrng } from '../model/random';
import { train } from '../model/train';
import { explainMissingGpu, gpuSupport } from '../services/cuda';
import { FsStore } from '../storage';
import { benchWeights, layoutOf, rate } from './lib/generator';
import { describeMachine } from './lib/machine';
import type { Config } from './lib/sizes';

const WARM_STEPS = 3;

function syntheticPairs(size: number, count: number): ImagePair[] {
  const random = createPrng(7);
  const image = () => ({ width: size, height: size, data: Uint8Array.from({ length: size * size * 3 }, () => Math.floor(random() * 256)) });
  return Array.from({ length: count }, () => ({ input: image(), target: image() }));
}

/** Child: the backend as initBackend sees it, then one training step on the graph engine (its placement is logged by TensorFlow). */
async function placementChild(config: Config): Promise<object> {
  const backend = await initBackend({ prefer: 'tensorflow', required: true, log: () => {} });
  const model = new Pix2Pix(resolveTrainOptions({ imageSize: config.size, ngf: config.filters, ndf: config.filters, batchSize: 1 }), 'graph');
  const [pair] = syntheticPairs(config.size, 1);
  model.readLosses(model.trainStep({ input: imageToTensor([pair!.input]), target: imageToTensor([pair!.target]) }));
  model.dispose();
  return { tfVersion: backend.tfVersion, gpu: backend.gpu, engine: backend.engine, package: backend.package };
}

/** Child: training img/s of the real train() loop (graph engine), after WARM_STEPS steps of graph build and warm-up. */
async function trainChild(config: Config, seconds: number): Promise<object> {
  const backend = await initBackend({ prefer: 'tensorflow', required: true, log: () => {} });
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-bench-gpu-'));
  try {
    let warm: { time: number; step: number } | undefined;
    let last = { time: 0, step: 0 };
    const started = performance.now();
    const result = await train({
      options: { imageSize: config.size, ngf: config.filters, ndf: config.filters, batchSize: 1, maxSteps: 1e9, checkpointEverySteps: 1e9, checkpointEverySeconds: 1e9 },
      pairs: syntheticPairs(config.size, 4),
      store: new FsStore(dir),
      modelId: 'bench',
      attempt: 'bench',
      start: 'fresh',
      control: () => ({ stop: warm !== undefined && performance.now() - warm.time >= seconds * 1000 }),
      onProgress: (p) => {
        if (!warm && p.step >= WARM_STEPS) warm = { time: performance.now(), step: p.step };
        else if (warm) last = { time: performance.now(), step: p.step };
      },
    });
    result.model.dispose();
    return { trainImagesPerSecond: (last.step - warm!.step) / ((last.time - warm!.time) / 1000), warmUpSeconds: (warm!.time - started) / 1000, engine: backend.engine, gpu: backend.gpu };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Child: generator inference img/s on one ONNX Runtime execution provider (the export's generator.onnx at bench weights). */
async function inferChild(config: Config, provider: ExecutionProvider, batch: number, seconds: number): Promise<object> {
  const layout = layoutOf(config);
  const model = generatorToOnnx(layout, benchWeights(layout), 1e-5, { properties: {}, producerVersion: 'bench' });
  const session = await createGeneratorSession(model, provider, { input: ONNX_IO.input, output: ONNX_IO.output });
  const input = Float32Array.from({ length: batch * 3 * config.size * config.size }, (_, i) => Math.sin(i) * 0.9);
  try {
    return { imagesPerSecond: batch * (await rate(() => session.run(input, batch, config.size), seconds)) };
  } finally {
    await session.release();
  }
}

function child<T>(args: string[], env: NodeJS.ProcessEnv = {}): { value?: T; stderr: string; error?: string } {
  const run = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', ...args], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...env }, maxBuffer: 1 << 28 });
  const last = run.stdout.trim().split('\n').pop();
  if (run.status !== 0 || !last) return { stderr: run.stderr, error: run.stderr.trim().split('\n').filter((l) => /Error|error/.test(l)).pop() ?? `exit ${run.status}` };
  return { value: JSON.parse(last) as T, stderr: run.stderr };
}

/** TensorFlow's placer logs `name(Op) placed on: /job:localhost/replica:0/task:0/device:GPU:0` per node. */
function summarisePlacement(stderr: string): { byDevice: Map<string, number>; cpuOps: Map<string, number> } {
  const byDevice = new Map<string, number>();
  const cpuOps = new Map<string, number>();
  for (const [, op, device] of stderr.matchAll(/placer\.cc:\d+\] \S+\((\w+)\) placed on: \S*device:(\w+:\d+)/g)) {
    byDevice.set(device!, (byDevice.get(device!) ?? 0) + 1);
    if (device!.startsWith('CPU')) cpuOps.set(op!, (cpuOps.get(op!) ?? 0) + 1);
  }
  return { byDevice, cpuOps };
}

function nvidiaSmi(): string | undefined {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,compute_cap', '--format=csv,noheader'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const f = (n: number) => n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1]! : fallback;
  };
  if (args[0] === '--child') {
    const [kind, size, filters, ...rest] = args.slice(1);
    const config = { size: Number(size), filters: Number(filters) };
    const value =
      kind === 'placement' ? await placementChild(config)
      : kind === 'train' ? await trainChild(config, Number(rest[0]))
      : await inferChild(config, rest[0] as ExecutionProvider, Number(rest[1]), Number(rest[2]));
    console.log(JSON.stringify(value));
    return;
  }
  const seconds = Number(option('--seconds', '20'));
  const config: Config = { size: Number(option('--size', '256')), filters: Number(option('--filters', '64')) };
  const batches = option('--batches', '1,8').split(',').map(Number);
  const sizeArgs = [String(config.size), String(config.filters)];

  console.log(`[machine] ${describeMachine()}`);
  console.log(`[machine] GPU: ${nvidiaSmi() ?? 'none (no nvidia-smi answer)'}`);

  const support = gpuSupport();
  const placement = child<{ tfVersion?: string; gpu: boolean; engine: string; package: string }>(['placement', ...sizeArgs], { TF_CPP_MIN_LOG_LEVEL: '0', TF_CPP_VMODULE: 'placer=1' });
  if (!placement.value) throw new Error(`the TensorFlow backend did not load: ${placement.error}`);
  const backend = placement.value;
  console.log(`[backend] libtensorflow ${backend.tfVersion} (${support.tensorflowBuild === 'tensorflow' ? 'CUDA build' : support.tensorflowBuild}) through ${backend.package}, ${backend.engine} engine, ${backend.gpu ? 'GPU device found' : 'no GPU device: running on the CPU'}`);
  if (!backend.gpu) for (const line of explainMissingGpu(support)) console.log(`[backend]   ${line}`);

  const { byDevice, cpuOps } = summarisePlacement(placement.stderr);
  const total = [...byDevice.values()].reduce((a, b) => a + b, 0);
  console.log(`[placement] training graph (${config.size} px, ${config.filters} filters): ${total} ops; ${[...byDevice].map(([d, n]) => `${n} on ${d}`).join(', ') || 'TensorFlow logged no placement (TF_CPP_VMODULE=placer=1 unsupported?)'}`);
  if (byDevice.size > 1 || backend.gpu) {
    const ops = [...cpuOps].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`);
    console.log(`[placement] on the CPU: ${ops.join(', ') || 'none'}`);
  }

  const trained = child<{ trainImagesPerSecond: number; warmUpSeconds: number }>(['train', ...sizeArgs, String(seconds)]);
  console.log(trained.value
    ? `[train] ${config.size} px, ${config.filters} filters, batch 1: ${f(trained.value.trainImagesPerSecond)} img/s over ${seconds} s (first ${WARM_STEPS} steps, graph build included: ${f(trained.value.warmUpSeconds)} s)`
    : `[train] failed: ${trained.error}`);

  const cuda = await resolveInferenceProvider('auto');
  if (cuda.provider !== 'cuda') console.log(`[infer] ONNX Runtime CUDA provider unavailable: ${cuda.fallbackReason}`);
  for (const batch of batches) {
    const figures: string[] = [];
    for (const provider of cuda.provider === 'cuda' ? (['cuda', 'cpu'] as const) : (['cpu'] as const)) {
      const run = child<{ imagesPerSecond: number }>(['infer', ...sizeArgs, provider, String(batch), String(Math.max(3, seconds / 2))]);
      figures.push(`${provider.toUpperCase()} ${run.value ? `${f(run.value.imagesPerSecond)} img/s` : `failed (${run.error})`}`);
    }
    console.log(`[infer] generator.onnx ${config.size} px, ${config.filters} filters, batch ${batch}: ${figures.join('; ')}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
