/**
 * Options, presets, network shapes and the memory guard. Runs on any backend (tiny tensors only).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  checkMemory,
  createDiscriminator,
  createGenerator,
  discriminate,
  estimateMemory,
  generate,
  ModelTooLargeError,
  networkOptions,
  parameterCount,
  PRESETS,
  resolveTrainOptions,
  train,
  TrainOptionsSchema,
} from '../model';
import { discriminatorParameterCount, generatorParameterCount } from '../model/memory';
import { encoderFilters } from '../model/networks';
import { ParameterReader } from '../model/params';
import { modelTestBackend, tempStore } from './helpers/model';

await modelTestBackend();

describe('training options', () => {
  it('fills a preset and the paper defaults', () => {
    const cpu = resolveTrainOptions({});
    expect(cpu).toMatchObject({ preset: 'cpu', imageSize: 128, ngf: 32, ndf: 32, batchSize: 1, lambdaL1: 100, learningRate: 2e-4, beta1: 0.5, dropout: 0.5 });
    expect(cpu.jitter.resizeRatio).toBeCloseTo(286 / 256);
    expect(resolveTrainOptions({ preset: 'gpu' })).toMatchObject(PRESETS.gpu);
    expect(resolveTrainOptions({ preset: 'gpu', imageSize: 512 }).imageSize).toBe(512);
  });

  it('refuses sizes that are not powers of two from 64 to 512', () => {
    for (const imageSize of [32, 96, 1024]) expect(TrainOptionsSchema.safeParse({ imageSize }).success).toBe(false);
    for (const imageSize of [64, 128, 256, 512]) expect(TrainOptionsSchema.safeParse({ imageSize }).success).toBe(true);
  });

  it('survives a JSON round trip (workflow inputs and checkpoints store it)', () => {
    const options = resolveTrainOptions({ preset: 'gpu', seed: 3 });
    expect(resolveTrainOptions(JSON.parse(JSON.stringify(options)))).toEqual(options);
  });
});

describe('networks', () => {
  it('derive the U-Net depth from the image size (C64-...-C512 at 256)', () => {
    expect(encoderFilters(256, 64)).toEqual([64, 128, 256, 512, 512, 512, 512, 512]);
    expect(encoderFilters(128, 64)).toHaveLength(7);
    expect(encoderFilters(512, 64)).toHaveLength(9);
  });

  it('map images to images and pairs to 70x70-patch logits (30x30 at 256)', () => {
    const options = networkOptions(resolveTrainOptions({ imageSize: 256, ngf: 2, ndf: 2 }));
    const g = createGenerator(options, 1);
    const d = createDiscriminator(options, 1);
    const reader = new ParameterReader();
    const [image, logits] = tf.tidy(() => {
      const x = tf.zeros([1, 256, 256, 3]) as tf.Tensor4D;
      const y = generate(g, x, { training: false }, reader);
      return [y, discriminate(d, x, y, { training: false }, reader)];
    });
    expect(image.shape).toEqual([1, 256, 256, 3]);
    expect(logits.shape).toEqual([1, 30, 30, 1]);
    // The memory estimate counts the same parameters the networks have.
    const g64 = createGenerator(networkOptions(resolveTrainOptions({ imageSize: 256, ngf: 64, ndf: 64 })), 1);
    expect(parameterCount(g64)).toBeLessThanOrEqual(generatorParameterCount(256, 64));
    expect(parameterCount(g64)).toBeGreaterThan(0.999 * generatorParameterCount(256, 64));
    for (const w of g64.weights) w.dispose();
    expect(parameterCount(d)).toBeLessThanOrEqual(discriminatorParameterCount(2));
    tf.dispose([image, logits]);
    for (const w of [...g.weights, ...d.weights]) w.dispose();
  });

  it('initialise weights from the seed alone', () => {
    const options = networkOptions(resolveTrainOptions({ imageSize: 64, ngf: 2, ndf: 2 }));
    const [a, b] = [createGenerator(options, 9), createGenerator(options, 9)];
    expect(Array.from(a.weights[0].values())).toEqual(Array.from(b.weights[0].values()));
    const std = tf.tidy(() => tf.moments(a.weights[0].read()).variance.sqrt().dataSync()[0]);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
    for (const w of [...a.weights, ...b.weights]) w.dispose();
  });
});

describe('memory guard', () => {
  it('accepts the presets on this machine', () => {
    expect(() => checkMemory(PRESETS.cpu)).not.toThrow();
    expect(estimateMemory(PRESETS.gpu).totalBytes).toBeGreaterThan(estimateMemory(PRESETS.cpu).totalBytes);
  });

  it('refuses a configuration that will not fit, with the estimate and a smaller preset', () => {
    const huge = { imageSize: 512, ngf: 256, ndf: 256, batchSize: 64 };
    let error: unknown;
    try {
      checkMemory(huge, 16 * 2 ** 30);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelTooLargeError);
    const tooLarge = error as ModelTooLargeError;
    expect(tooLarge.estimate.totalBytes).toBeGreaterThan(16 * 2 ** 30);
    expect(tooLarge.suggestion?.preset).toBe('gpu');
    expect(tooLarge.message).toMatch(/needs about [\d.]+ GiB .* budget is 16\.0 GiB; try preset 'gpu' \(256x256, ngf=64, ndf=64, batch 1\)/);
  });

  it('makes train() refuse before any tensor is made', async () => {
    const { store, cleanup } = await tempStore();
    const before = tf.memory().numTensors;
    await expect(
      train({ options: { preset: 'gpu', memoryBudgetBytes: 2 ** 30 }, pairs: [], store, modelId: 'm', attempt: 'a' }),
    ).rejects.toThrow(ModelTooLargeError);
    expect(tf.memory().numTensors).toBe(before);
    await cleanup();
  });
});
