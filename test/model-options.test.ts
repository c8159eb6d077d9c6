/**
 * Options, presets, network shapes and the memory guard. Runs on any backend (tiny tensors only).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkMemory, discriminator, estimateMemory, generator, ModelTooLargeError, networkOptions, PRESETS, resolveTrainOptions, train, TrainOptionsSchema } from '../model';
import { initialWeights, NETWORK_SEEDS } from '../model/init';
import { discriminatorLayers, discriminatorLayout, encoderFilters, generatorLayers, generatorLayout, networkWeights, parameterCount } from '../model/layout';
import { discriminatorParameterCount, generatorParameterCount } from '../model/memory';
import { generatorToLayersModel } from '../model/ops/layers';
import { TfjsOps } from '../model/ops/tfjs';
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
    const [gLayout, dLayout] = [generatorLayout(options), discriminatorLayout(options)];
    const weights = new Map([
      ...initialWeights(networkWeights(generatorLayers(gLayout)), 1),
      ...[...initialWeights(networkWeights(discriminatorLayers(dLayout)), 2)],
    ]);
    const [image, logits] = tf.tidy(() => {
      const tensors = new Map([...weights].map(([name, v]) => [name, tf.tensor(v)]));
      const read = (name: string) => tensors.get(name)!.reshape(networkWeights([...generatorLayers(gLayout), ...discriminatorLayers(dLayout)]).find((w) => w.name === name)!.shape as number[]);
      const ops = new TfjsOps({ read, assign: () => {} }, { training: false }, { epsilon: 1e-5, momentum: 0.9 });
      const x = tf.zeros([1, 256, 256, 3]) as tf.Tensor4D;
      const y = generator(ops, gLayout, x);
      return [y, discriminator(ops, dLayout, x, y)];
    });
    expect(image.shape).toEqual([1, 256, 256, 3]);
    expect(logits.shape).toEqual([1, 30, 30, 1]);
    tf.dispose([image, logits]);
  });

  it("have the reference parameter counts: upstream's unet_256 (54,413,955; its log prints 54.414 M) plus the biases of our two encoder layers without batch norm, and its PatchGAN (2,768,705)", () => {
    const layout = generatorLayout(networkOptions(resolveTrainOptions({ imageSize: 256, ngf: 64, ndf: 64 })));
    expect(generatorParameterCount(256, 64)).toBe(54_413_955 + 64 + 512);
    // The TF.js layers export, built through its own ops from the one definition, agrees (moving statistics included).
    const small = generatorLayout(networkOptions(resolveTrainOptions({ imageSize: 64, ngf: 4, ndf: 4 })));
    const specs = networkWeights(generatorLayers(small));
    const model = generatorToLayersModel(small, initialWeights(specs, 3), { epsilon: 1e-5, momentum: 0.9 }, 0.5);
    expect(model.countParams()).toBe(parameterCount(specs, 'all'));
    model.dispose();
    expect(discriminatorParameterCount(64)).toBe(2_768_705);
    expect(layout.encoder).toHaveLength(8);
  });

  it('initialise weights from the seed alone', () => {
    const specs = networkWeights(generatorLayers(generatorLayout(networkOptions(resolveTrainOptions({ imageSize: 64, ngf: 2, ndf: 2 })))));
    const [a, b, c] = [initialWeights(specs, NETWORK_SEEDS.generator(9)), initialWeights(specs, NETWORK_SEEDS.generator(9)), initialWeights(specs, NETWORK_SEEDS.generator(10))];
    const kernel = specs[0].name;
    expect(Array.from(a.get(kernel)!)).toEqual(Array.from(b.get(kernel)!));
    expect(Array.from(a.get(kernel)!)).not.toEqual(Array.from(c.get(kernel)!));
    const values = a.get(kernel)!;
    const mean = values.reduce((x, y) => x + y, 0) / values.length;
    const std = Math.sqrt(values.reduce((x, y) => x + (y - mean) ** 2, 0) / values.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
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
