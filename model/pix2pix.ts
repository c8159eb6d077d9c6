/**
 * pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks"):
 * a U-Net generator G learns to turn partial information x into the photo y, against a PatchGAN
 * discriminator D that judges (x, y) pairs patch by patch.
 *
 *   D minimises  (BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)) / 2
 *   G minimises  BCE(D(x, G(x)), 1) + lambda * |y - G(x)|_1
 *
 * One step = ONE generator forward and two discriminator forwards (real pair, generated pair); both
 * gradients come from that single forward, then each Adam optimiser applies its own. As in the Keras
 * tutorial (and unlike the PyTorch code, which runs D a third time after updating it), G's
 * adversarial term sees D before this step's update. The step is defined here once; an engine
 * (model/engines/) runs it.
 */
import * as tf from '@tensorflow/tfjs';
import { stepDropoutSeed } from './dropout';
import type { Batch, EngineName, NetworkName, Pix2PixNetworks, StepDefinition, StepEngine, StepOps } from './engines/engine';
import { EagerEngine } from './engines/eager';
import { GraphEngine } from './engines/graph';
import { WeightMismatchError } from './errors';
import type { WeightValues } from './fold';
import { initialWeights, NETWORK_SEEDS } from './init';
import { discriminatorLayers, discriminatorLayout, generatorLayers, generatorLayout, networkWeights } from './layout';
import { pix2pixLosses } from './losses';
import { discriminator, generator } from './networks';
import { TfjsOps } from './ops/tfjs';
import type { TrainOptions } from './options';
import { readSnapshot, readSnapshotAsync, readWeights, writeSnapshot, type ModelSnapshot } from './snapshot';

export type { Batch, EngineName, ModelSnapshot, WeightValues };

/** Losses of one step (means over the batch and patches). */
export interface StepLosses {
  /** Generator's adversarial term: cross-entropy of D's verdict on the fake against "real". */
  gGan: number;
  /** Mean absolute error between generated and real image (before lambda). */
  gL1: number;
  /** gGan + lambda * gL1: what the generator minimises. */
  g: number;
  dReal: number;
  dFake: number;
  /** (dReal + dFake) / 2: what the discriminator minimises. */
  d: number;
}

/** Both networks' layouts and weights for a model's options. */
export function pix2pixNetworks(options: TrainOptions): Pix2PixNetworks {
  const network = <L>(layout: L, layers: Parameters<typeof networkWeights>[0]) => {
    const weights = networkWeights(layers);
    return { layout, weights, trainable: weights.filter((w) => w.trainable) };
  };
  const g = generatorLayout(options);
  const d = discriminatorLayout(options);
  return { generator: network(g, generatorLayers(g)), discriminator: network(d, discriminatorLayers(d)) };
}

/** The objective on one batch, over any runtime's ops: G(x), D on both pairs, both losses. */
export function forward<T>(ops: StepOps<T>, networks: Pix2PixNetworks, x: T, y: T, lambdaL1: number) {
  const fake = generator(ops.generator, networks.generator.layout, x);
  const real = discriminator(ops.discriminator, networks.discriminator.layout, x, y);
  const judged = discriminator(ops.discriminator, networks.discriminator.layout, x, fake);
  return { fake, losses: pix2pixLosses(ops.losses, { real, fake: judged }, fake, y, lambdaL1) };
}

export class Pix2Pix {
  /** Completed training steps. */
  step = 0;
  readonly networks: Pix2PixNetworks;
  readonly engine: StepEngine;
  /** Adam updates applied by each optimiser (equal to `step` unless restored from elsewhere). */
  readonly optimizerSteps: Record<NetworkName, number> = { generator: 0, discriminator: 0 };

  /** A new model with the paper's initial weights drawn from `options.seed`. */
  constructor(
    readonly options: TrainOptions,
    engine: EngineName,
  ) {
    const networks = (this.networks = pix2pixNetworks(options));
    const definition: StepDefinition = { options, networks, forward: (ops, x, y) => forward(ops, networks, x, y, options.lambdaL1) };
    this.engine = engine === 'graph' ? new GraphEngine(definition) : new EagerEngine(definition);
    for (const network of ['generator', 'discriminator'] as const) {
      this.setWeights(network, initialWeights(networks[network].weights, NETWORK_SEEDS[network](options.seed)));
    }
  }

  /** One optimisation step of both networks; returns [gGan, gL1, dReal, dFake] for readLosses (the only sync). */
  trainStep(batch: Batch): tf.Tensor1D {
    const updates = { generator: this.optimizerSteps.generator + 1, discriminator: this.optimizerSteps.discriminator + 1 };
    const losses = this.engine.step({ batch, dropoutSeed: stepDropoutSeed(this.options.seed, this.step), updates });
    Object.assign(this.optimizerSteps, updates);
    this.step += 1;
    return losses;
  }

  readLosses(losses: tf.Tensor1D): StepLosses {
    const [gGan, gL1, dReal, dFake] = losses.dataSync();
    losses.dispose();
    return { gGan, gL1, g: gGan + this.options.lambdaL1 * gL1, dReal, dFake, d: (dReal + dFake) / 2 };
  }

  /** A copy of one network's current weights by name. */
  weights(network: NetworkName): WeightValues {
    return readWeights(this, network);
  }

  /** Replaces one network's weights (fine-tuning); throws WeightMismatchError unless every weight fits. */
  setWeights(network: NetworkName, values: WeightValues): void {
    writeSnapshot(this, { [network]: values });
  }

  /** The generator in inference form (moving statistics, no dropout), eagerly: the reference output. */
  translate(input: tf.Tensor4D): tf.Tensor4D {
    const weights = this.weights('generator');
    const { batchNormEpsilon: epsilon, batchNormMomentum: momentum } = this.options;
    return tf.tidy(() => {
      const tensors = new Map(this.networks.generator.weights.map((w) => [w.name, tf.tensor(weights.get(w.name)!, [...w.shape], 'float32')]));
      const ops = new TfjsOps({ read: (name) => tensors.get(name)!, assign: () => {} }, { training: false }, { epsilon, momentum });
      return generator(ops, this.networks.generator.layout, input) as tf.Tensor4D;
    });
  }

  snapshot(): ModelSnapshot {
    return readSnapshot(this);
  }

  /** Like snapshot(), yielding to the event loop while copying (large models take seconds). */
  snapshotAsync(): Promise<ModelSnapshot> {
    return readSnapshotAsync(this);
  }

  /** Restores weights, optimiser moments and step (throws WeightMismatchError or OptimizerStateMismatchError). */
  restore(snapshot: ModelSnapshot): void {
    writeSnapshot(this, snapshot);
  }

  dispose(): void {
    this.engine.dispose();
  }
}

export { WeightMismatchError };
