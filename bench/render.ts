// Video render bench: npx tsx bench/render.ts [--seconds 5] [--fps 25] [--size 128] [--ngf 32] [--store DIR --model ID] [--reps 2]
//
// On a synthetic clip (a slow pan across three fixture photos, made with ffmpeg in a temp dir) prints:
//   1. flicker: mean absolute frame-to-frame difference (0..255, mean over pixels and channels) of the
//      partial-information frames and of the network's output frames, naive per-frame k-means vs stable;
//   2. frames/s of decode, conform, partial information (stable, naive), inference and encode;
//   3. frames/s end to end (renderChunk: decode -> preprocess -> inference -> compose -> encode) beside
//      inference alone on the same frames (same translate, same batches), and the share of time spent
//      around inference (target < 15%): with the frame worker thread (the default) and all on one
//      thread, with the CPU each used (node's threads, and the ffmpeg processes);
//   4. where the time went, per stage and thread (renderChunk's stageTimes).
// The network is a trained export when --store/--model name one (an FsStore root and a model id);
// with --untrained-export, a randomly initialised generator of --size/--ngf exported and loaded the same
// way (for speed at sizes without a trained model; its flicker figures mean little); otherwise a fixed,
// randomly initialised U-Net from model/networks.ts: untrained, but real and deterministic, so it
// shows how flicker in its input propagates to its output.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { concatHorizontal, PartialParamsSchema, type PartialParams, type RgbImage } from '../imaging';
import { initBackend } from '../model/backend';
import { imageToTensor, tensorToImages } from '../model/data';
import { exportGenerator } from '../model/export';
import { loadExport, translateImages } from '../model/infer';
import { initialWeights, NETWORK_SEEDS } from '../model/init';
import { generatorLayers, generatorLayout, networkWeights } from '../model/layout';
import { generator } from '../model/networks';
import { TfjsOps } from '../model/ops/tfjs';
import { FsStore } from '../storage';
import {
  conformFrame,
  coverSize,
  decodeFrames,
  encodeFrames,
  FlickerMeter,
  makePanClip,
  probeVideo,
  renderChunk,
  StablePartial,
  type FrameThread,
  type PartialMode,
  type RenderChunkResult,
  type Translate,
} from '../video';
import { cpuSince, cpuTime, type CpuTime } from './lib/cpu-time';
import { printMachine } from './lib/machine';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    fps: { type: 'string', default: '25' },
    size: { type: 'string', default: '128' },
    ngf: { type: 'string', default: '32' },
    store: { type: 'string' },
    model: { type: 'string' },
    'untrained-export': { type: 'boolean', default: false },
    reps: { type: 'string', default: '2' },
  },
});
const PHOTOS = ['calla.jpg', 'garden.jpg', 'yellowflower.jpg'].map((name) => join(__dirname, '..', 'test', 'fixtures', 'photos', name));
const BATCH = 8;

interface Network {
  description: string;
  size: number;
  params: PartialParams;
  translate: Translate;
  dispose(): void;
}

async function loadNetwork(scratch: string): Promise<Network> {
  if (args['untrained-export']) {
    // Speed only: a randomly initialised generator through the real export -> loadExport path.
    const store = new FsStore(join(scratch, 'store'));
    const network = { imageSize: Number(args.size), ngf: Number(args.ngf), ndf: Number(args.ngf), dropout: 0.5, batchNormMomentum: 0.9, batchNormEpsilon: 1e-5 };
    const weights = initialWeights(networkWeights(generatorLayers(generatorLayout(network))), NETWORK_SEEDS.generator(1));
    await exportGenerator(store, 'untrained', weights, network, { steps: 0, provenance: { datasetId: 'none', partialInformation: { method: 'kmeans', params: { method: 'kmeans', k: 7 } } } });
    args.store = store.root;
    args.model = 'untrained';
  }
  if (args.store && args.model) {
    const loaded = await loadExport(new FsStore(args.store), args.model);
    const recorded = loaded.metadata.partialInformation;
    const params = PartialParamsSchema.parse(recorded ? { method: recorded.method, ...recorded.params } : { method: 'kmeans' });
    return {
      description: `${args['untrained-export'] ? 'untrained' : 'trained'} export ${args.model} (${loaded.metadata.imageSize}px, ${loaded.metadata.steps} steps) on ONNX Runtime (${loaded.session.provider})`,
      size: loaded.metadata.imageSize,
      params,
      translate: (images) => translateImages(loaded, images, BATCH),
      dispose: () => loaded.dispose(),
    };
  }
  const size = Number(args.size);
  const ngf = Number(args.ngf);
  const layout = generatorLayout({ imageSize: size, ngf, ndf: ngf, dropout: 0 });
  const specs = networkWeights(generatorLayers(layout));
  const values = initialWeights(specs, NETWORK_SEEDS.generator(1));
  const tensors = new Map(specs.map((w) => [w.name, tf.tensor(values.get(w.name)!, [...w.shape], 'float32')]));
  // Untrained moving statistics (0, 1) shrink the signal to a flat grey; each frame's own batch-norm
  // statistics (pix2pix's test-time setting, batch of one) keep the output dependent on the input.
  const ops = new TfjsOps({ read: (name) => tensors.get(name)!, assign: () => {} }, { training: true, dropoutSeed: 0, dropoutRate: 0 }, { epsilon: 1e-5, momentum: 0.99 });
  const translateOne = (image: RgbImage): RgbImage => {
    const output = tf.tidy(() => generator(ops, layout, imageToTensor([image])) as tf.Tensor4D);
    const [result] = tensorToImages(output);
    output.dispose();
    return result!;
  };
  return {
    description: `untrained U-Net (random init, seed 1, ${size}px, ngf ${ngf}; batch norm on each frame's own statistics, no dropout)`,
    size,
    params: PartialParamsSchema.parse({ method: 'kmeans', k: 7 }),
    translate: async (images) => images.map(translateOne),
    dispose: () => tf.dispose([...tensors.values()]),
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

interface Measured<T = void> {
  value: T;
  seconds: number;
  cpu: CpuTime;
}

async function measured<T>(run: () => Promise<T>): Promise<Measured<T>> {
  const start = cpuTime();
  const { value, seconds } = await timed(run);
  return { value, seconds, cpu: cpuSince(start) };
}

function cpuLine(cpu: CpuTime, frames: number): string {
  const perFrame = (ms: number) => (ms / frames).toFixed(1);
  return `CPU ${perFrame(cpu.self)} ms/frame in node${cpu.children !== undefined ? ` + ${perFrame(cpu.children)} in ffmpeg` : ''}`;
}

async function md5(path: string): Promise<string> {
  return createHash('md5').update(await readFile(path)).digest('hex');
}

/** Wall ms per frame of each stage, per thread; frame-thread stages overlap the main thread's inference. */
function printBreakdown(label: string, result: RenderChunkResult, seconds: number, frames: number): void {
  const perFrame = (ms: number) => `${(ms / frames).toFixed(2).padStart(6)} ms/frame`;
  console.log(`\nstage breakdown, ${label} (wall time; ${perFrame(seconds * 1000)} in all):`);
  for (const [thread, times] of [['main thread', result.stageTimes.main], ['frame thread', result.stageTimes.frames]] as const) {
    for (const [stage, ms] of Object.entries(times)) console.log(`  ${thread.padEnd(13)} ${stage.padEnd(34)} ${perFrame(ms)}`);
  }
}

function rate(frames: number, seconds: number): string {
  return `${(frames / seconds).toFixed(1).padStart(7)} frames/s`;
}

async function main(): Promise<void> {
  printMachine();
  const backend = await initBackend({ prefer: 'auto', log: (message) => (message.includes('WARNING') ? console.warn(message) : undefined) });
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-bench-render-'));
  const network = await loadNetwork(dir);
  const { size, params } = network;
  try {
    const clip = await makePanClip(PHOTOS, join(dir, 'pan.mp4'), { seconds: Number(args.seconds), fps: Number(args.fps) });
    const video = await probeVideo(clip);
    console.log(`bench/render: ${video.frameCount} frames ${video.width}x${video.height} @ ${video.fps} fps (${video.durationSeconds}s pan across ${PHOTOS.length} photos), model size ${size}, ${params.method} k=${'k' in params ? params.k : '-'}`);
    console.log(`network: ${network.description}`);
    const load = loadavg()[0]!;
    const cores = availableParallelism();
    console.log(`node ${process.version}, tfjs backend ${backend.name}${backend.native ? ' (native)' : ''}, cores ${cores}, load average ${load.toFixed(1)}${load > cores * 0.5 ? ' (other work on this machine: rates are noisy)' : ''}`);

    // Stage by stage, each on its own so the rates do not share the CPU.
    const decodeSize = coverSize(video, size);
    const decoded = await timed(async () => {
      const frames: RgbImage[] = [];
      for await (const { image } of decodeFrames(clip, { video, size: decodeSize })) frames.push(image);
      return frames;
    });
    const conformed = await timed(() => Promise.all(decoded.value.map((frame) => conformFrame(frame, size))));
    const originals = conformed.value;
    const n = originals.length;

    const partials = {} as Record<PartialMode, { frames: RgbImage[]; seconds: number; restarts: number }>;
    for (const mode of ['naive', 'stable'] as const) {
      const partial = new StablePartial(params, { mode });
      const run = await timed(async () => {
        const frames: RgbImage[] = [];
        for (const frame of originals) frames.push(await partial.next(frame));
        return frames;
      });
      partials[mode] = { frames: run.value, seconds: run.seconds, restarts: partial.restarts };
    }

    const outputs = {} as Record<PartialMode, { frames: RgbImage[]; seconds: number }>;
    await network.translate(partials.stable.frames.slice(0, 1)); // warm-up (kernel selection, allocation)
    for (const mode of ['naive', 'stable'] as const) {
      const run = await timed(async () => {
        const frames: RgbImage[] = [];
        for (let i = 0; i < n; i += BATCH) frames.push(...(await network.translate(partials[mode].frames.slice(i, i + BATCH))));
        return frames;
      });
      outputs[mode] = { frames: run.value, seconds: run.seconds };
    }

    const composed = originals.map((original, i) => concatHorizontal([original, outputs.stable.frames[i]!]));
    const encoded = await timed(() => encodeFrames(composed, { outPath: join(dir, 'encoded.mp4'), width: 2 * size, height: size, frameRate: video.frameRate }));

    const flicker = (frames: RgbImage[]) => {
      const meter = new FlickerMeter();
      frames.forEach((frame) => meter.add(frame));
      return meter.mean();
    };
    const row = (label: string, naive: number, stable: number) =>
      console.log(`${label.padEnd(24)} ${naive.toFixed(2).padStart(8)} ${stable.toFixed(2).padStart(8)} ${(stable / naive).toFixed(3).padStart(14)}`);
    console.log(`\nflicker: mean |frame t - frame t-1| over pixels and channels, 0..255, ${n - 1} frame pairs`);
    console.log(`${''.padEnd(24)} ${'naive'.padStart(8)} ${'stable'.padStart(8)} ${'stable/naive'.padStart(14)}`);
    row('partial information', flicker(partials.naive.frames), flicker(partials.stable.frames));
    row('output frames', flicker(outputs.naive.frames), flicker(outputs.stable.frames));
    console.log(`${'original frames'.padEnd(24)} ${flicker(originals).toFixed(2).padStart(8)}  (the pan itself: motion, not flicker)`);
    console.log(`stable restarts (cold k-means after a cluster emptied): ${partials.stable.restarts}`);

    console.log(`\nstages, ${n} frames, one stage at a time:`);
    console.log(`  decode (ffmpeg -> RGB ${decodeSize.width}x${decodeSize.height})  ${rate(n, decoded.seconds)}`);
    console.log(`  conform (centre crop ${size}x${size})        ${rate(n, conformed.seconds)}`);
    console.log(`  partial, naive k-means             ${rate(n, partials.naive.seconds)}`);
    console.log(`  partial, stable k-means            ${rate(n, partials.stable.seconds)}`);
    console.log(`  inference (batches of ${BATCH})           ${rate(n, outputs.stable.seconds)}`);
    console.log(`  encode (H.264 ${2 * size}x${size})            ${rate(n, encoded.seconds)}`);

    // End to end, as the render activity runs it: one chunk covering the clip. A short chunk first
    // starts the frame worker thread, as a gpu worker's first chunk does; later chunks reuse it.
    const chunk = { index: 0, startFrame: 0, frameCount: n };
    const render = (frameThread: FrameThread, outName: string, frameCount = n) =>
      renderChunk({ videoPath: clip, video, chunk: { ...chunk, frameCount }, size, panels: 'two', translate: network.translate, partialParams: params, outPath: join(dir, outName), batchSize: BATCH, frameThread });
    const coldStart = await timed(() => render('worker', 'warm-up.mp4', BATCH));
    const inferenceAlone = async () => {
      for (let i = 0; i < n; i += BATCH) await network.translate(partials.stable.frames.slice(i, i + BATCH));
    };
    // Interleaved repetitions, best of each: other work on the machine only ever slows a run down.
    const runs = { alone: [] as Measured[], worker: [] as Measured<RenderChunkResult>[], main: [] as Measured<RenderChunkResult>[] };
    for (let rep = 0; rep < Number(args.reps); rep++) {
      runs.alone.push(await measured(inferenceAlone));
      runs.worker.push(await measured(() => render('worker', `render-worker-${rep}.mp4`)));
      runs.main.push(await measured(() => render('main', `render-main-${rep}.mp4`)));
    }
    const best = <T>(list: Measured<T>[]) => list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const alone = best(runs.alone);
    const worker = best(runs.worker);
    const main = best(runs.main);
    const identical = (await md5(worker.value.outPath)) === (await md5(main.value.outPath));

    console.log(`\nend to end (renderChunk: decode -> conform -> stable partial -> inference -> compose -> encode), ${n} frames, batches of ${BATCH}, best of ${args.reps}:`);
    console.log(`  end to end, frame worker thread    ${rate(n, worker.seconds)}  ${cpuLine(worker.cpu, n)}`);
    console.log(`  end to end, all on one thread      ${rate(n, main.seconds)}  ${cpuLine(main.cpu, n)}  (same frames: ${identical ? 'yes' : 'NO'})`);
    console.log(`  inference alone, same frames       ${rate(n, alone.seconds)}  ${cpuLine(alone.cpu, n)}`);
    for (const [label, run] of [['frame worker thread', worker], ['one thread', main]] as const) {
      const ratio = alone.seconds / run.seconds;
      console.log(`  ${`ratio end to end / inference (${label})`.padEnd(52)} ${ratio.toFixed(3)}: ${((1 - ratio) * 100).toFixed(1)}% of the time around inference (target < 15%)`);
    }
    console.log(`  starting the frame worker thread (first chunk of a process only): ${(coldStart.seconds * 1000).toFixed(0)} ms for a ${BATCH}-frame chunk`);
    printBreakdown('frame worker thread', worker.value, worker.seconds, n);
    printBreakdown('one thread', main.value, main.seconds, n);
  } finally {
    network.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
