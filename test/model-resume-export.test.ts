/**
 * Training survives kills: abort mid-run, resume from the last checkpoint with the same step,
 * weights and optimiser moments (bit for bit: the same as an uninterrupted run reaching that step),
 * and the next step's losses equal an uninterrupted run's. A corrupted or unfinished newest
 * checkpoint is skipped for the previous complete one. Export -> ONNX Runtime inference gives the
 * in-memory generator's outputs; fine-tuning starts from an export.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportGenerator,
  IncompatibleCheckpointError,
  imageToTensor,
  listCheckpoints,
  loadExport,
  loadExportedGeneratorWeights,
  loadLatestCheckpoint,
  networkOptions,
  Pix2Pix,
  train,
  TrainingAbortedError,
  translateImages,
  type ImagePair,
  type ModelSnapshot,
  type StepLosses,
  type TrainOptionsInput,
  type TrainProgress,
} from '../model';
import { keys, type FsStore } from '../storage';
import { fixturePairs, modelTestBackend, tempStore } from './helpers/model';

const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[model-resume-export.test] SKIPPED: ${skipReason}`);

const SIZE = 64;
const OPTIONS: TrainOptionsInput = { imageSize: SIZE, ngf: 8, ndf: 8, seed: 11, checkpointEverySteps: 10, checkpointEverySeconds: 10_000 };

function expectSameFloats(actual: Float32Array[] | Map<string, Float32Array>, expected: Float32Array[] | Map<string, Float32Array>, what: string): void {
  const a = actual instanceof Map ? [...actual.entries()] : actual.map((v, i) => [String(i), v] as const);
  const e = expected instanceof Map ? [...expected.entries()] : expected.map((v, i) => [String(i), v] as const);
  expect(a.map(([k]) => k), `${what}: names`).toEqual(e.map(([k]) => k));
  a.forEach(([name, values], i) => {
    const other = e[i][1];
    expect(values.length, `${what} ${name}: length`).toBe(other.length);
    // Bitwise: compare the raw bytes, so -0 vs 0 or NaN payloads would show too.
    expect(Buffer.compare(Buffer.from(values.buffer, values.byteOffset, values.byteLength), Buffer.from(other.buffer, other.byteOffset, other.byteLength)), `${what} ${name}: bytes`).toBe(0);
  });
}

function expectSameSnapshot(actual: ModelSnapshot, expected: ModelSnapshot): void {
  expect(actual.step).toBe(expected.step);
  expectSameFloats(actual.generator, expected.generator, 'generator');
  expectSameFloats(actual.discriminator, expected.discriminator, 'discriminator');
  expect(actual.optimizerG.step).toBe(expected.optimizerG.step);
  expect(actual.optimizerD.step).toBe(expected.optimizerD.step);
  expectSameFloats(actual.optimizerG.m, expected.optimizerG.m, 'Adam m (G)');
  expectSameFloats(actual.optimizerG.v, expected.optimizerG.v, 'Adam v (G)');
  expectSameFloats(actual.optimizerD.m, expected.optimizerD.m, 'Adam m (D)');
  expectSameFloats(actual.optimizerD.v, expected.optimizerD.v, 'Adam v (D)');
}

describe.skipIf(skipReason !== undefined)('checkpoints, resume and export', () => {
  let pairs: ImagePair[];
  let store: FsStore;
  let root: string;
  let cleanup: () => Promise<void>;
  let aborted: TrainingAbortedError;
  /** Losses of each step of an uninterrupted 21-step run. */
  const uninterrupted = new Map<number, StepLosses>();
  let uninterruptedAt20: ModelSnapshot;

  beforeAll(async () => {
    pairs = (await fixturePairs(SIZE)).slice(0, 4);
    ({ store, root, cleanup } = await tempStore());

    // The run that gets killed: abort during step 25 (checkpoints at 10 and 20).
    const controller = new AbortController();
    try {
      await train({
        options: { ...OPTIONS, maxSteps: 40 },
        pairs,
        store,
        modelId: 'killed',
        attempt: 'attempt1',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 25) controller.abort(new Error('worker shut down'));
        },
      });
    } catch (error) {
      aborted = error as TrainingAbortedError;
    }

    // The same options, never interrupted.
    const reference = await train({
      options: { ...OPTIONS, maxSteps: 20 },
      pairs,
      store,
      modelId: 'reference',
      attempt: 'attempt1',
      onProgress: (p) => void uninterrupted.set(p.step, p.losses),
    });
    uninterruptedAt20 = reference.model.snapshot();
    reference.model.dispose();
    const longer = await train({
      options: { ...OPTIONS, maxSteps: 21 },
      pairs,
      store,
      modelId: 'reference-21',
      attempt: 'attempt1',
      onProgress: (p) => void uninterrupted.set(p.step, p.losses),
    });
    longer.model.dispose();
  }, 170_000);

  afterAll(async () => {
    await cleanup?.();
  });

  it('stops on the abort signal with the last checkpoint named', () => {
    expect(aborted).toBeInstanceOf(TrainingAbortedError);
    expect(aborted.step).toBe(25);
    expect(aborted.lastCheckpoint?.step).toBe(20);
  });

  it('saved exactly what an uninterrupted run has at that step', async () => {
    const loaded = await loadLatestCheckpoint(store, 'killed');
    expect(loaded?.ref.step).toBe(20);
    expect(loaded?.skipped).toEqual([]);
    expectSameSnapshot(loaded!.content.snapshot, uninterruptedAt20);
    expect(loaded!.content.data.cursor).toBe(20);
    expect(loaded!.content.lossHistory.map((r) => r.step)).toEqual([10, 20]);
  });

  it('restores step, weights and both optimisers bit for bit', async () => {
    const loaded = (await loadLatestCheckpoint(store, 'killed'))!;
    const model = new Pix2Pix(loaded.content.options, 'graph');
    try {
      model.restore(loaded.content.snapshot);
      expectSameSnapshot(model.snapshot(), loaded.content.snapshot);
    } finally {
      model.dispose();
    }
  });

  it('resumes at step 20 and computes the same step 21 as the uninterrupted run', async () => {
    const seen = new Map<number, StepLosses>();
    const resumed = await train({
      options: { ...OPTIONS, maxSteps: 21 },
      pairs,
      store,
      modelId: 'killed',
      attempt: 'attempt2',
      onProgress: (p) => void seen.set(p.step, p.losses),
    });
    try {
      expect(resumed.resumedFrom?.step).toBe(20);
      expect([...seen.keys()]).toEqual([21]);
      expect(seen.get(21)).toEqual(uninterrupted.get(21));
      expect(resumed.lastCheckpoint?.step).toBe(21);
      expect(resumed.lastCheckpoint?.attempt).toBe('attempt2');
    } finally {
      resumed.model.dispose();
    }
  });

  it('skips a corrupted newest checkpoint for the previous complete one, and reports it', async () => {
    const [newest, previous] = await listCheckpoints(store, 'reference');
    expect([newest.step, previous.step]).toEqual([20, 10]);
    const part = join(root, 'objects', ...`${newest.dir}/optimizer-generator.bin`.split('/'));
    const bytes = await readFile(part);
    bytes[100] ^= 0xff;
    await writeFile(part, bytes);
    const skipped: string[] = [];
    const loaded = await loadLatestCheckpoint(store, 'reference', (s) => skipped.push(s.reason));
    expect(loaded?.ref.step).toBe(10);
    expect(loaded?.skipped.map((s) => s.dir)).toEqual([newest.dir]);
    expect(skipped[0]).toMatch(/sha256 mismatch|does not match/);
  });

  it('skips an unfinished checkpoint (no manifest)', async () => {
    const [newest] = await listCheckpoints(store, 'reference-21');
    expect(newest.step).toBe(21);
    await rm(join(root, 'sums', ...`${newest.dir}/manifest.json`.split('/')));
    const loaded = await loadLatestCheckpoint(store, 'reference-21');
    expect(loaded?.ref.step).toBe(20);
    expect(loaded?.skipped[0]?.reason).toMatch(/no manifest/);
  });

  it('refuses to resume a checkpoint made with other network options', async () => {
    await expect(train({ options: { ...OPTIONS, ngf: 16, maxSteps: 30 }, pairs, store, modelId: 'killed', attempt: 'attempt3' })).rejects.toThrow(IncompatibleCheckpointError);
  });

  it('stops at the time goal, counting time across attempts, with an ETA in progress reports', async () => {
    const reports: TrainProgress[] = [];
    const first = await train({ options: { ...OPTIONS, timeGoalSeconds: 1 }, pairs, store, modelId: 'timed', attempt: 'a', onProgress: (p) => void reports.push(p) });
    first.model.dispose();
    expect(first.stoppedBy).toBe('time-goal');
    expect(first.trainingSeconds).toBeGreaterThanOrEqual(1);
    const last = reports[reports.length - 1];
    expect(last.imagesPerSecond).toBeGreaterThan(0);
    expect(last.etaSeconds).toBeLessThanOrEqual(1);
    // The goal is already spent: a new attempt resumes and stops at once.
    const second = await train({ options: { ...OPTIONS, timeGoalSeconds: 1 }, pairs, store, modelId: 'timed', attempt: 'b' });
    second.model.dispose();
    expect(second.step).toBe(first.step);
    expect(second.stoppedBy).toBe('time-goal');
  });

  it('exports the generator (ONNX and TF.js) with inference equal to the in-memory generator, and fine-tunes from the export', async () => {
    const loaded = (await loadLatestCheckpoint(store, 'killed'))!;
    const model = new Pix2Pix(loaded.content.options, 'graph');
    model.restore(loaded.content.snapshot);
    try {
      const exported = await exportGenerator(store, 'killed', model.weights('generator'), networkOptions(loaded.content.options), {
        steps: model.step,
        provenance: { datasetId: 'fixtures', partialInformation: { method: 'kmeans', params: { k: 8, paint: 'palette' } } },
        lossHistory: loaded.content.lossHistory,
        trainOptions: loaded.content.options,
      });
      expect(exported.metadata.imageSize).toBe(SIZE);
      expect(exported.metadata.partialInformation?.method).toBe('kmeans');
      expect(exported.metadata.steps).toBe(21);
      expect((await store.list(`${keys.exportDir('killed')}/`)).map((o) => o.key.split('/').pop())).toEqual(
        expect.arrayContaining(['generator.onnx', 'model.json', 'metadata.json', 'group1-shard1of1.bin']),
      );

      // ONNX Runtime on the export gives the in-memory generator's eval forward (test/model-onnx.test.ts goes further).
      const inference = await loadExport(store, 'killed');
      const images = await translateImages(inference, pairs.map((p) => p.input), 3);
      const expected = tf.tidy(() => {
        const out = model.translate(imageToTensor(pairs.map((p) => p.input)));
        return tf.clipByValue(tf.round(tf.mul(tf.add(out, 1), 127.5)), 0, 255).dataSync();
      });
      expect(images).toHaveLength(pairs.length);
      const bytes = Uint8Array.from(images.flatMap((image) => [...image.data]));
      let worst = 0;
      for (let i = 0; i < bytes.length; i++) worst = Math.max(worst, Math.abs(bytes[i] - expected[i]));
      expect(worst).toBeLessThanOrEqual(1); // a value within 1e-4 of a rounding boundary may round the other way
      await inference.dispose();

      // Fine-tuning starts from exactly the exported generator.
      const { weights } = await loadExportedGeneratorWeights(store, 'killed');
      const fresh = new Pix2Pix(loaded.content.options, 'graph');
      fresh.setWeights('generator', weights);
      expectSameFloats(fresh.weights('generator'), model.weights('generator'), 'fine-tuning start');
      fresh.dispose();
      const tuned = await train({ options: { ...OPTIONS, maxSteps: 1 }, pairs, store, modelId: 'tuned', attempt: 'a', initialGenerator: weights, start: 'fresh' });
      const tunedStart = await loadLatestCheckpoint(store, 'tuned');
      expect(tunedStart?.ref.step).toBe(1);
      tuned.model.dispose();
    } finally {
      model.dispose();
    }
  });
});
