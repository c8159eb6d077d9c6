/**
 * pix2pix learns: a small configuration trained for a few hundred steps on six fixture pairs
 * translates the two held-out pairs clearly better than the untrained network and than returning
 * the input unchanged; and training does not leak tensors (same count after step 10 and step 100).
 * Native backend only (the pure-JS backend needs about a minute per step at real sizes).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageToTensor, Pix2Pix, resolveTrainOptions, train, type ImagePair, type TrainResult } from '../model';
import { l1Loss } from '../model/losses';
import { tfjsLossOps } from '../model/ops/tfjs';
import { fixturePairs, modelTestBackend, tempStore } from './helpers/model';

const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[model-learning.test] SKIPPED: ${skipReason}`);

const SIZE = 64;
const STEPS = 400;
const OPTIONS = { imageSize: SIZE, ngf: 16, ndf: 16, batchSize: 1, seed: 5, maxSteps: STEPS, checkpointEverySteps: 10_000, checkpointEverySeconds: 10_000 };

function heldOutL1(translate: (x: tf.Tensor4D) => tf.Tensor4D, pairs: ImagePair[]): number {
  return tf.tidy(() => {
    const input = imageToTensor(pairs.map((p) => p.input));
    const target = imageToTensor(pairs.map((p) => p.target));
    return l1Loss(tfjsLossOps, translate(input), target).dataSync()[0];
  });
}

describe.skipIf(skipReason !== undefined)('pix2pix training on fixture photos', () => {
  let pairs: ImagePair[];
  let result: TrainResult;
  const tensorsAfter = new Map<number, number>();
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    pairs = await fixturePairs(SIZE);
    const temp = await tempStore();
    cleanup = temp.cleanup;
    result = await train({
      options: OPTIONS,
      pairs: pairs.slice(0, 6),
      store: temp.store,
      modelId: 'learning',
      attempt: 'test',
      onProgress: (p) => {
        if (p.step === 10 || p.step === 100) tensorsAfter.set(p.step, tf.memory().numTensors);
      },
    });
  }, 170_000);

  afterAll(async () => {
    result?.model.dispose();
    await cleanup?.();
  });

  it('ends with held-out L1 clearly below the untrained network and below the identity', () => {
    const heldOut = pairs.slice(6);
    const identity = heldOutL1((x) => x, heldOut);
    const untrainedModel = new Pix2Pix(resolveTrainOptions(OPTIONS), 'graph');
    const untrained = heldOutL1((x) => untrainedModel.translate(x), heldOut);
    untrainedModel.dispose();
    const trained = heldOutL1((x) => result.model.translate(x), heldOut);
    console.log(`[model-learning.test] held-out L1: trained ${trained.toFixed(3)}, untrained ${untrained.toFixed(3)}, identity ${identity.toFixed(3)} after ${result.step} steps`);
    expect(result.step).toBe(STEPS);
    expect(trained).toBeLessThan(0.8 * untrained);
    expect(trained).toBeLessThan(0.8 * identity);
  });

  it('keeps a loss history and reports the stop reason', () => {
    expect(result.stoppedBy).toBe('max-steps');
    expect(result.lossHistory.length).toBe(STEPS / 10);
    const first = result.lossHistory.slice(0, 5).reduce((s, r) => s + r.gL1, 0) / 5;
    const last = result.lossHistory.slice(-5).reduce((s, r) => s + r.gL1, 0) / 5;
    expect(last).toBeLessThan(first);
  });

  it('holds the same number of tensors after step 10 and step 100', () => {
    expect(tensorsAfter.get(10)).toBeDefined();
    expect(tensorsAfter.get(100)).toBe(tensorsAfter.get(10));
  });
});
