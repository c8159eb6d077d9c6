/**
 * Training throughput of bloomsight's pix2pix against a Keras reference, side by side
 * (inference: bench/infer.ts).
 *
 *   npx tsx bench/train.ts [--seconds 20] [--rounds 1] [--only 128] [--no-reference] [--eager]
 *
 * For 256x256 with ngf = ndf = 64 and 128x128 with 32, batch 1, on the native backend:
 * - ours: the real train() loop (jitter, batch assembly, one step = one G forward + both gradients +
 *   both Adam updates as one libtensorflow graph (model/engines/graph.ts), loss read-back, yield to the
 *   event loop) on synthetic pairs; peak RSS; the longest event-loop stall during training
 *   (perf_hooks.monitorEventLoopDelay) and how many 100 ms "heartbeat" timers fired. --eager adds the
 *   same step on the eager engine (tfjs ops one by one).
 * - reference: bench/reference/pix2pix_keras.py (same architecture, one tf.function step) in its venv
 *   (bench/reference/setup.sh), run after ours, never concurrently.
 * Each measurement runs in its own child process so peak RSS belongs to one configuration. With
 * --rounds N, ours and the reference alternate N times and the best round of each is reported (on a
 * shared machine, other processes' load only ever slows a round down).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { initBackend } from '../model/backend';
import type { EngineName, ImagePair } from '../model';
import { createPrng } from '../model/random';
import { train } from '../model/train';
import { FsStore } from '../storage';
import { describeMachine } from './lib/machine';
import { CONFIGS, type Config } from './lib/sizes';


interface OursResult {
  trainImagesPerSecond: number;
  /** Seconds of the first WARM_STEPS steps (graph build and optimisation included), not in the throughput. */
  warmUpSeconds: number;
  measuredSteps: number;
  steps: number;
  /** Peak RSS while stepping, and over the whole child (end-of-run checkpoint included). */
  peakRssStepsMb: number;
  peakRssMb: number;
  engine: string;
  /** Longest event-loop stall while stepping. */
  maxEventLoopDelayMs: number;
  /** Longest stall including the end-of-run checkpoint (all weights and Adam moments to the store). */
  maxDelayWithCheckpointMs: number;
  meanStepMs: number;
  /** Callbacks of a 100 ms interval timer during training (at most one per event-loop turn). */
  heartbeats: number;
  backend: string;
}

interface ReferenceResult {
  train_img_per_s: number;
  infer_img_per_s: number;
  train_steps: number;
  trace_s: number;
  peak_rss_mb: number;
  tensorflow: string;
}

function syntheticPairs(size: number, count: number): ImagePair[] {
  const random = createPrng(7);
  const image = () => {
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
    return { width: size, height: size, data };
  };
  return Array.from({ length: count }, () => ({ input: image(), target: image() }));
}

const WARM_STEPS = 3;

/** Child: measures one configuration of ours and prints one JSON line. */
async function measureOurs(config: Config, seconds: number, engine: EngineName): Promise<OursResult> {
  const backend = await initBackend({ prefer: 'tensorflow', engine, log: () => {} });
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-bench-'));
  const store = new FsStore(dir);
  try {
    const pairs = syntheticPairs(config.size, 4);
    const options = { imageSize: config.size, ngf: config.filters, ndf: config.filters, batchSize: 1, checkpointEverySteps: 1e9, checkpointEverySeconds: 1e9 };
    // The first WARM_STEPS steps (graph build and optimisation, oneDNN primitive creation, first
    // allocations) are not throughput: measured from the end of the warm-up, as Keras's trace is excluded.
    let heartbeats = 0;
    let heartbeat: NodeJS.Timeout | undefined;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const started = performance.now();
    let warm: { time: number; step: number } | undefined;
    let last = { time: 0, step: 0 };
    let stepsDelayMax = 0;
    let stepsRss = 0;
    const result = await train({
      options: { ...options, maxSteps: 1e9 },
      pairs,
      store,
      modelId: 'bench',
      attempt: 'bench',
      start: 'fresh',
      control: () => ({ stop: warm !== undefined && performance.now() - warm.time >= seconds * 1000 }),
      onProgress: (p) => {
        const now = performance.now();
        if (!warm) {
          if (p.step < WARM_STEPS) return;
          warm = { time: now, step: p.step };
          delay.enable();
          heartbeat = setInterval(() => (heartbeats += 1), 100);
          return;
        }
        last = { time: now, step: p.step };
        stepsDelayMax = delay.max;
        stepsRss = process.resourceUsage().maxRSS;
      },
    });
    delay.disable();
    clearInterval(heartbeat);
    const warmUpSeconds = (warm!.time - started) / 1000;
    const measuredSteps = last.step - warm!.step;
    const measuredMs = last.time - warm!.time;

    result.model.dispose();
    return {
      trainImagesPerSecond: measuredSteps / (measuredMs / 1000),
      warmUpSeconds,
      steps: result.step,
      peakRssStepsMb: stepsRss / 1024,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      engine: backend.engine,
      maxEventLoopDelayMs: stepsDelayMax / 1e6,
      maxDelayWithCheckpointMs: delay.max / 1e6,
      meanStepMs: measuredMs / measuredSteps,
      heartbeats,
      measuredSteps,
      backend: `${backend.name}${backend.tfVersion ? ` (libtensorflow ${backend.tfVersion})` : ''}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runChild(config: Config, seconds: number, engine: EngineName = 'graph'): OursResult {
  const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--child', String(config.size), String(config.filters), String(seconds), engine], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as OursResult;
}

function referencePython(): string | undefined {
  const setup = spawnSync('bash', [join(__dirname, 'reference', 'setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (setup.status !== 0) return undefined;
  return setup.stdout.trim().split('\n').pop();
}

function runReference(python: string, config: Config, seconds: number): ReferenceResult | string {
  const run = spawnSync(
    python,
    [join(__dirname, 'reference', 'pix2pix_keras.py'), '--size', String(config.size), '--ngf', String(config.filters), '--ndf', String(config.filters), '--batch', '1', '--seconds', String(seconds)],
    { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } },
  );
  if (run.status !== 0) return `reference failed: ${(run.stderr || '').trim().split('\n').slice(-3).join(' | ')}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ReferenceResult;
}

const f1 = (n: number) => n.toFixed(n >= 10 ? 1 : 2);

/** Per figure, the best of two rounds (the rest of the record comes from the newer round). */
function best<T>(previous: T | undefined, next: T, figures: (r: T) => number[], withFigures: (r: T, f: number[]) => T): T {
  if (!previous) return next;
  const a = figures(previous);
  const b = figures(next);
  return withFigures(next, a.map((x, i) => Math.max(x, b[i])));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const result = await measureOurs({ size: Number(args[1]), filters: Number(args[2]) }, Number(args[3]), args[4] as EngineName);
    console.log(JSON.stringify(result));
    return;
  }
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  console.log(`[machine] ${describeMachine()}`);
  const seconds = Number(option('--seconds') ?? 20);
  const rounds = Number(option('--rounds') ?? 1);
  const only = option('--only');
  const configs = CONFIGS.filter((c) => !only || String(c.size) === only);
  const withReference = !args.includes('--no-reference');
  const withEager = args.includes('--eager');

  const backend = await initBackend({ prefer: 'tensorflow', log: () => {} });
  if (!backend.native) {
    console.error(`native backend unavailable (${backend.warning?.split('\n')[0]}); run bash scripts/setup-tfjs-native.sh`);
    process.exit(1);
  }
  const python = withReference ? referencePython() : undefined;
  if (withReference && !python) console.error('reference venv could not be set up (bench/reference/setup.sh); reporting ours only');

  const loadBefore = loadavg().map((l) => l.toFixed(1)).join(' ');
  const rows: Array<{ config: Config; ours: OursResult; eager?: OursResult; reference?: ReferenceResult | string }> = [];
  for (const config of configs) {
    let ours: OursResult | undefined;
    let eager: OursResult | undefined;
    let reference: ReferenceResult | string | undefined;
    for (let round = 1; round <= rounds; round++) {
      console.error(`[bench] round ${round}: ours ${config.size}x${config.size} ngf=ndf=${config.filters} ...`);
      const mine = runChild(config, seconds);
      console.error(`[bench]   train ${f1(mine.trainImagesPerSecond)} img/s`);
      ours = best(ours, mine, (r) => [r.trainImagesPerSecond], (r, [train]) => ({ ...r, trainImagesPerSecond: train }));
      if (withEager) {
        console.error(`[bench] round ${round}: ours on the eager engine ${config.size}x${config.size} ...`);
        const op = runChild(config, seconds, 'eager');
        console.error(`[bench]   train ${f1(op.trainImagesPerSecond)} img/s`);
        eager = best(eager, op, (r) => [r.trainImagesPerSecond], (r, [train]) => ({ ...r, trainImagesPerSecond: train }));
      }
      if (python) {
        console.error(`[bench] round ${round}: reference (Keras) ${config.size}x${config.size} ...`);
        const theirs = runReference(python, config, seconds);
        if (typeof theirs === 'string') reference ??= theirs;
        else {
          console.error(`[bench]   train ${f1(theirs.train_img_per_s)} img/s`);
          reference = best(typeof reference === 'object' ? reference : undefined, theirs, (r) => [r.train_img_per_s], (r, [train]) => ({ ...r, train_img_per_s: train }));
        }
      }
    }
    rows.push({ config, ours: ours!, eager, reference });
  }

  const first = rows[0]?.ours;
  console.log(
    `\nbloomsight pix2pix training bench: batch 1, ${first?.backend}, step engine ${first?.engine}, ` +
      `~${seconds}s per measurement, best of ${rounds} round(s), load average before: ${loadBefore}, after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  console.log('| size / filters | train img/s ours | Keras | ratio | peak RSS MB ours: steps / all | Keras | max event-loop delay: steps / checkpoint | mean step | 100 ms timer fired / steps | warm-up: ours (first 3 steps) | Keras (trace + 2 steps) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { config, ours, reference } of rows) {
    const ref = typeof reference === 'object' ? reference : undefined;
    const ratio = (a: number, b?: number) => (b ? (a / b).toFixed(2) : '-');
    console.log(
      `| ${config.size} / ${config.filters} | ${f1(ours.trainImagesPerSecond)} | ${ref ? f1(ref.train_img_per_s) : '-'} | ${ratio(ours.trainImagesPerSecond, ref?.train_img_per_s)} ` +
        `| ${Math.round(ours.peakRssStepsMb)} / ${Math.round(ours.peakRssMb)} | ${ref ? Math.round(ref.peak_rss_mb) : '-'} | ${Math.round(ours.maxEventLoopDelayMs)} / ${Math.round(ours.maxDelayWithCheckpointMs)} ms | ${Math.round(ours.meanStepMs)} ms ` +
        `| ${ours.heartbeats} / ${ours.measuredSteps} | ${ours.warmUpSeconds.toFixed(1)} s | ${ref ? `${ref.trace_s.toFixed(1)} s` : '-'} |`,
    );
    if (typeof reference === 'string') console.log(`  ${reference}`);
  }
  if (rows.some((r) => r.eager)) {
    console.log('\nThe graph engine against the eager engine (the same step, tfjs ops one by one):');
    console.log('| size / filters | train img/s graph | eager | ratio |');
    console.log('|---|---|---|---|');
    for (const { config, ours, eager } of rows) {
      if (!eager) continue;
      console.log(
        `| ${config.size} / ${config.filters} | ${f1(ours.trainImagesPerSecond)} | ${f1(eager.trainImagesPerSecond)} | ${(ours.trainImagesPerSecond / eager.trainImagesPerSecond).toFixed(2)} |`,
      );
    }
  }
  console.log(
    '\nTraining runs on the main thread and yields to the event loop after every step (await setImmediate): the longest' +
      ' stall is about one step, and timers, heartbeats and cancellation run between steps. Checkpoints yield between parameters and parts.',
  );
  console.log(JSON.stringify({ results: rows }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
