/**
 * The graph engine (model/engines/graph.ts): the whole training step as one libtensorflow graph must
 * compute what the eager tfjs step computes, keep its state straight when the networks are read or
 * written between steps, and the folded inference graph must equal the eager eval forward.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackend, imageToTensor, Pix2Pix, resolveTrainOptions, type Batch, type ImagePair, type ModelSnapshot, type StepLosses, type TrainOptions } from '../model';
import { GraphGenerator } from '../model/graph/inference-graph';
import { GraphSession } from '../model/graph/session';
import { fixturePairs, modelTestBackend } from './helpers/model';

const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[model-graph.test] SKIPPED: ${skipReason}`);

const SIZE = 64;

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Bitwise equality of every array in two snapshots (vitest's deep equality is slow on large typed arrays). */
function expectSameSnapshot(actual: ModelSnapshot, expected: ModelSnapshot): void {
  const flat = (s: ModelSnapshot) => [...s.generator.values(), ...s.discriminator.values(), ...s.optimizerG.m, ...s.optimizerG.v, ...s.optimizerD.m, ...s.optimizerD.v];
  const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  expect([actual.step, actual.optimizerG.step, actual.optimizerD.step]).toEqual([expected.step, expected.optimizerG.step, expected.optimizerD.step]);
  expect([...actual.generator.keys(), ...actual.discriminator.keys()]).toEqual([...expected.generator.keys(), ...expected.discriminator.keys()]);
  const [a, e] = [flat(actual), flat(expected)];
  expect(a.length).toBe(e.length);
  a.forEach((values, i) => expect(Buffer.compare(bytes(values), bytes(e[i])), `array ${i}`).toBe(0));
}

function lossList(l: StepLosses): number[] {
  return [l.gGan, l.gL1, l.dReal, l.dFake];
}

describe.skipIf(skipReason !== undefined)('graph training step and inference', () => {
  let pairs: ImagePair[];
  let batches: Batch[];
  let options: TrainOptions;

  beforeAll(async () => {
    pairs = (await fixturePairs(SIZE)).slice(0, 3);
    batches = pairs.map((p) => ({ input: imageToTensor([p.input]), target: imageToTensor([p.target]) }));
    options = resolveTrainOptions({ imageSize: SIZE, ngf: 8, ndf: 8, seed: 5, batchSize: 1 });
  });

  afterAll(() => {
    for (const b of batches ?? []) tf.dispose([b.input, b.target]);
  });

  it('is the engine initBackend chose on the native backend, and names the way out when libtensorflow cannot load a graph', () => {
    expect(activeBackend().engine).toBe('graph');
    const nodes = [{ name: 'x', op: 'NoSuchOp', inputs: [], attrs: {} }];
    expect(() => new GraphSession(nodes)).toThrow(/libtensorflow could not load a graph \(.*NoSuchOp.*\); the eager engine .* runs the same maths op by op/);
  });

  it.each([
    { name: 'batch 1 with dropout', batchSize: 1, dropout: 0.5 },
    { name: 'batch 3 without dropout', batchSize: 3, dropout: 0 },
  ])('computes the losses, weights and Adam moments of the eager step ($name)', ({ batchSize, dropout }) => {
    const stepOptions = resolveTrainOptions({ imageSize: SIZE, ngf: 8, ndf: 8, seed: 5, batchSize, dropout });
    const eager = new Pix2Pix(stepOptions, 'eager');
    const graph = new Pix2Pix(stepOptions, 'graph');
    expect(graph.engine.name).toBe('graph');
    const all = batchSize === 1 ? batches : [{ input: imageToTensor(pairs.map((p) => p.input)), target: imageToTensor(pairs.map((p) => p.target)) }];
    try {
      for (let step = 0; step < 3; step++) {
        const batch = all[step % all.length];
        const e = lossList(eager.readLosses(eager.trainStep(batch)));
        const g = lossList(graph.readLosses(graph.trainStep(batch)));
        // Same maths, different op order inside libtensorflow: equal up to float rounding.
        g.forEach((value, i) => expect(Math.abs(value - e[i]), `step ${step + 1} loss ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(e[i]))));
      }
      const e = eager.snapshot();
      const g = graph.snapshot();
      expect(g.step).toBe(3);
      expect(g.optimizerG.step).toBe(3);
      expect(g.optimizerD.step).toBe(3);
      for (const [name, values] of e.generator) expect(maxAbsDifference(values, g.generator.get(name)!), `generator ${name}`).toBeLessThan(1e-4);
      for (const [name, values] of e.discriminator) expect(maxAbsDifference(values, g.discriminator.get(name)!), `discriminator ${name}`).toBeLessThan(1e-4);
      // The moments moved (not zeros) and agree: m is an average of gradients, so it is on their scale.
      const mE = e.optimizerG.m[0];
      const mG = g.optimizerG.m[0];
      expect(Math.max(...mG.map(Math.abs))).toBeGreaterThan(0);
      expect(maxAbsDifference(mE, mG)).toBeLessThan(1e-3 * Math.max(...mE.map(Math.abs)));
    } finally {
      eager.dispose();
      graph.dispose();
      if (all !== batches) tf.dispose([all[0].input, all[0].target]);
    }
  });

  it('keeps training exact across reads, writes and restores of the networks between steps', () => {
    const straight = new Pix2Pix(options, 'graph');
    const interrupted = new Pix2Pix(options, 'graph');
    const restored = new Pix2Pix(options, 'graph');
    try {
      const losses: number[][] = [];
      for (let step = 0; step < 4; step++) losses.push(lossList(straight.readLosses(straight.trainStep(batches[step % 3]))));

      // Two steps, then the networks are read out of the session and written back (fine-tuning does
      // this), then two more: bit for bit the same run.
      for (let step = 0; step < 2; step++) expect(lossList(interrupted.readLosses(interrupted.trainStep(batches[step])))).toEqual(losses[step]);
      const halfway = interrupted.snapshot();
      expectSameSnapshot({ ...halfway, generator: interrupted.weights('generator') }, halfway);
      interrupted.setWeights('generator', halfway.generator);
      for (let step = 2; step < 4; step++) expect(lossList(interrupted.readLosses(interrupted.trainStep(batches[step % 3])))).toEqual(losses[step]);

      // A fresh model restored from the step-2 snapshot continues identically too.
      restored.restore(halfway);
      expectSameSnapshot(restored.snapshot(), halfway);
      for (let step = 2; step < 4; step++) expect(lossList(restored.readLosses(restored.trainStep(batches[step % 3])))).toEqual(losses[step]);
      expectSameSnapshot(restored.snapshot(), straight.snapshot());
    } finally {
      straight.dispose();
      interrupted.dispose();
      restored.dispose();
    }
  });

  it('leaks no tensors across steps, snapshots, weight reads and translations', () => {
    const model = new Pix2Pix(options, 'graph');
    try {
      model.readLosses(model.trainStep(batches[0]));
      const before = tf.memory().numTensors;
      for (let step = 0; step < 5; step++) {
        model.readLosses(model.trainStep(batches[step % 3]));
        model.snapshot();
        model.weights('generator');
        tf.dispose(model.translate(batches[0].input));
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('runs the folded generator as one graph equal to the eval forward, for any batch size', () => {
    const model = new Pix2Pix(options, 'graph');
    for (let step = 0; step < 3; step++) model.readLosses(model.trainStep(batches[step]));
    const graph = new GraphGenerator(model.networks.generator.layout, model.weights('generator'), options.batchNormEpsilon);
    try {
      for (const size of [1, 3]) {
        const input = imageToTensor(pairs.slice(0, size).map((p) => p.input));
        const [expected, actual] = [model.translate(input), graph.run(input)];
        expect(actual.shape).toEqual([size, SIZE, SIZE, 3]);
        expect(maxAbsDifference(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array)).toBeLessThan(1e-4);
        tf.dispose([input, expected, actual]);
      }
    } finally {
      graph.dispose();
      model.dispose();
    }
  });
});
