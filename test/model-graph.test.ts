/**
 * The graph engine (model/graph/): the whole training step as one libtensorflow graph must compute
 * what the eager tfjs step computes, keep its state straight when the networks are read or written
 * between steps, and the inference graph must equal the op-by-op folded generator.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultStepEngine, imageToTensor, Pix2Pix, readWeights, resolveTrainOptions, writeWeights, type Batch, type ImagePair, type ModelSnapshot, type StepLosses, type TrainOptions } from '../model';
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

  it('is the default engine on the native backend; BLOOMSIGHT_GRAPH=0 selects the eager step and op-by-op inference', () => {
    const saved = process.env.BLOOMSIGHT_GRAPH;
    try {
      expect(defaultStepEngine()).toBe('graph');
      process.env.BLOOMSIGHT_GRAPH = '0';
      expect(defaultStepEngine()).toBe('eager');
      const model = new Pix2Pix(options);
      expect(model.engine).toBe('eager');
      model.dispose();
    } finally {
      if (saved === undefined) delete process.env.BLOOMSIGHT_GRAPH;
      else process.env.BLOOMSIGHT_GRAPH = saved;
    }
  });

  it('names the way out when libtensorflow cannot load a graph', () => {
    const nodes = [{ name: 'x', op: 'NoSuchOp', inputs: [], attrs: {} }];
    expect(() => new GraphSession(nodes)).toThrow(/libtensorflow could not load a graph \(.*NoSuchOp.*\); BLOOMSIGHT_GRAPH=0 runs the same maths op by op/);
  });

  it.each([
    { name: 'batch 1 with dropout', batchSize: 1, dropout: 0.5 },
    { name: 'batch 3 without dropout', batchSize: 3, dropout: 0 },
  ])('computes the losses, weights and Adam moments of the eager step ($name)', ({ batchSize, dropout }) => {
    const stepOptions = resolveTrainOptions({ imageSize: SIZE, ngf: 8, ndf: 8, seed: 5, batchSize, dropout });
    const eager = new Pix2Pix(stepOptions, undefined, 'eager');
    const graph = new Pix2Pix(stepOptions, undefined, 'graph');
    expect(graph.engine).toBe('graph');
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
    const straight = new Pix2Pix(options, undefined, 'graph');
    const interrupted = new Pix2Pix(options, undefined, 'graph');
    const restored = new Pix2Pix(options, undefined, 'graph');
    try {
      const losses: number[][] = [];
      for (let step = 0; step < 4; step++) losses.push(lossList(straight.readLosses(straight.trainStep(batches[step % 3]))));

      // Two steps, then the networks are read out of the session and written back (fine-tuning does
      // this), then two more: bit for bit the same run.
      for (let step = 0; step < 2; step++) expect(lossList(interrupted.readLosses(interrupted.trainStep(batches[step])))).toEqual(losses[step]);
      const halfway = interrupted.snapshot();
      expectSameSnapshot({ ...halfway, generator: readWeights(interrupted.generator) }, halfway);
      writeWeights(interrupted.generator, halfway.generator);
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

  it('leaks no tensors across steps, snapshots and generator reads', () => {
    const model = new Pix2Pix(options, undefined, 'graph');
    try {
      model.readLosses(model.trainStep(batches[0]));
      const before = tf.memory().numTensors;
      for (let step = 0; step < 5; step++) {
        model.readLosses(model.trainStep(batches[step % 3]));
        model.snapshot();
        readWeights(model.generator);
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('runs the folded generator as one graph with the op-by-op outputs, for any batch size', () => {
    const model = new Pix2Pix(options, undefined, 'graph');
    for (let step = 0; step < 3; step++) model.readLosses(model.trainStep(batches[step]));
    const saved = process.env.BLOOMSIGHT_GRAPH;
    process.env.BLOOMSIGHT_GRAPH = '0';
    const opByOp = model.compileInference();
    if (saved === undefined) delete process.env.BLOOMSIGHT_GRAPH;
    else process.env.BLOOMSIGHT_GRAPH = saved;
    const graph = model.compileInference();
    try {
      for (const size of [1, 3]) {
        const input = imageToTensor(pairs.slice(0, size).map((p) => p.input));
        const [expected, actual] = [opByOp.run(input), graph.run(input)];
        expect(actual.shape).toEqual([size, SIZE, SIZE, 3]);
        expect(maxAbsDifference(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array)).toBeLessThan(1e-5);
        // And equal to the unfolded generator in eval mode (batch norm with moving statistics).
        const reference = model.translate(input);
        expect(maxAbsDifference(actual.dataSync() as Float32Array, reference.dataSync() as Float32Array)).toBeLessThan(1e-4);
        tf.dispose([input, expected, actual, reference]);
      }
    } finally {
      opByOp.dispose();
      graph.dispose();
      model.dispose();
    }
  });
});
