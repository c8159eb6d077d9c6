/**
 * The pix2pix model: both networks, both optimisers, and one training step that reads like the paper.
 *
 * One step = ONE generator forward and two discriminator forwards (real pair, generated pair); the
 * discriminator and generator gradients both come from that single recorded forward
 * (model/gradients.ts), then each optimiser applies its own. As in the Keras tutorial (and unlike the
 * PyTorch code, which runs D a third time after updating it), G's adversarial term sees D before
 * this step's update.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam, type AdamState } from './adam';
import { gradientsFromOneForward } from './gradients';
import { compileInference, type InferencePlan } from './inference';
import { discriminatorLoss, generatorLoss } from './losses';
import {
  createDiscriminator,
  createGenerator,
  discriminate,
  disposeNetwork,
  generate,
  trainableParameters,
  type Discriminator,
  type Generator,
  type Network,
} from './networks';
import { networkOptions, type TrainOptions } from './options';
import { defaultParameterKind, ParameterReader, type Parameter, type ParameterKind } from './params';
import { seedFor } from './random';

export interface Batch {
  /** Partial information (k-means clusters, edges), [batch, size, size, 3] in [-1, 1]. */
  input: tf.Tensor4D;
  /** The real photograph, same shape. */
  target: tf.Tensor4D;
}

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

/** Weight values by their stable names, in network order. */
export type WeightValues = Map<string, Float32Array>;

export interface ModelSnapshot {
  /** Completed training steps. */
  step: number;
  generator: WeightValues;
  discriminator: WeightValues;
  optimizerG: AdamState;
  optimizerD: AdamState;
}

/** Thrown when weights to load do not match the network (other size, filters, or a foreign file). */
export class WeightMismatchError extends Error {
  override readonly name = 'WeightMismatchError';
}

export class Pix2Pix {
  readonly generator: Generator;
  readonly discriminator: Discriminator;
  readonly optimizerG: Adam;
  readonly optimizerD: Adam;
  /** Completed training steps. */
  step = 0;
  private readonly generatorParameters: Parameter[];
  private readonly discriminatorParameters: Parameter[];

  constructor(
    readonly options: TrainOptions,
    readonly parameterKind: ParameterKind = defaultParameterKind(),
  ) {
    const net = networkOptions(options);
    this.generator = createGenerator(net, options.seed, parameterKind);
    this.discriminator = createDiscriminator(net, options.seed, parameterKind);
    this.generatorParameters = trainableParameters(this.generator);
    this.discriminatorParameters = trainableParameters(this.discriminator);
    const adam = { learningRate: options.learningRate, beta1: options.beta1, beta2: options.beta2, epsilon: options.adamEpsilon };
    this.optimizerG = new Adam(this.generatorParameters, adam, parameterKind);
    this.optimizerD = new Adam(this.discriminatorParameters, adam, parameterKind);
  }

  /**
   * One optimisation step of both networks. Returns the losses as a tensor
   * [gGan, gL1, dReal, dFake] that the caller reads (or not) and disposes; reading it is the only sync.
   */
  trainStep(batch: Batch): tf.Tensor1D {
    const dropoutSeed = seedFor(this.options.seed, `dropout/${this.step}`);
    const losses = tf.tidy(() => {
      const reader = new ParameterReader();
      const { outputs, grads } = gradientsFromOneForward(
        () => this.forward(batch, dropoutSeed, reader),
        (out) => [
          { y: out.lossD, xs: reader.leaves(this.discriminatorParameters) }, // backward_D
          { y: out.lossG, xs: reader.leaves(this.generatorParameters) }, // backward_G
        ],
      );
      this.optimizerD.apply(grads[0]);
      this.optimizerG.apply(grads[1]);
      return tf.stack([outputs.gGan, outputs.gL1, outputs.dReal, outputs.dFake]) as tf.Tensor1D;
    });
    this.step += 1;
    return losses;
  }

  private forward(batch: Batch, dropoutSeed: number, reader: ParameterReader) {
    const { input, target } = batch;
    const mode = { training: true, dropoutSeed } as const;
    const fake = generate(this.generator, input, mode, reader);
    const realLogits = discriminate(this.discriminator, input, target, mode, reader);
    const fakeLogits = discriminate(this.discriminator, input, fake, mode, reader);
    const lossD = discriminatorLoss(realLogits, fakeLogits);
    const lossG = generatorLoss(fakeLogits, fake, target, this.options.lambdaL1);
    return { lossD: lossD.total, lossG: lossG.total, gGan: lossG.gan, gL1: lossG.l1, dReal: lossD.real, dFake: lossD.fake };
  }

  /** Reads the losses tensor returned by trainStep (and disposes it). */
  readLosses(losses: tf.Tensor1D): StepLosses {
    const [gGan, gL1, dReal, dFake] = losses.dataSync();
    losses.dispose();
    return { gGan, gL1, g: gGan + this.options.lambdaL1 * gL1, dReal, dFake, d: (dReal + dFake) / 2 };
  }

  /** The generator in inference mode (moving batch-norm statistics, no dropout): what an export computes. */
  translate(input: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => generate(this.generator, input, { training: false }, new ParameterReader()));
  }

  /** The generator's current weights compiled for fast inference (what an export's loader runs). Caller disposes. */
  compileInference(): InferencePlan {
    return compileInference(readWeights(this.generator), this.generator.options);
  }

  snapshot(): ModelSnapshot {
    return {
      step: this.step,
      generator: readWeights(this.generator),
      discriminator: readWeights(this.discriminator),
      optimizerG: this.optimizerG.snapshot(),
      optimizerD: this.optimizerD.snapshot(),
    };
  }

  /** Like snapshot(), yielding to the event loop between parameters so heartbeats keep running. */
  async snapshotAsync(): Promise<ModelSnapshot> {
    const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
    const weights = async (network: Network): Promise<WeightValues> => {
      const values: WeightValues = new Map();
      for (const w of network.weights) {
        values.set(w.name, w.values());
        await yieldNow();
      }
      return values;
    };
    const step = this.step;
    return {
      step,
      generator: await weights(this.generator),
      discriminator: await weights(this.discriminator),
      optimizerG: await this.optimizerG.snapshotAsync(yieldNow),
      optimizerD: await this.optimizerD.snapshotAsync(yieldNow),
    };
  }

  /** Restores weights, optimiser moments and step. Throws WeightMismatchError or OptimizerStateMismatchError. */
  restore(snapshot: ModelSnapshot): void {
    writeWeights(this.generator, snapshot.generator);
    writeWeights(this.discriminator, snapshot.discriminator);
    this.optimizerG.restore(snapshot.optimizerG);
    this.optimizerD.restore(snapshot.optimizerD);
    this.step = snapshot.step;
  }

  dispose(): void {
    disposeNetwork(this.generator);
    disposeNetwork(this.discriminator);
    this.optimizerG.dispose();
    this.optimizerD.dispose();
  }
}

export function readWeights(network: Network): WeightValues {
  return new Map(network.weights.map((w) => [w.name, w.values()]));
}

/** Writes every weight of `network` from `values` (all must be present with matching sizes). */
export function writeWeights(network: Network, values: WeightValues): void {
  const missing = network.weights.filter((w) => !values.has(w.name)).map((w) => w.name);
  if (missing.length > 0) throw new WeightMismatchError(`${network.kind} weights missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  for (const w of network.weights) {
    const value = values.get(w.name)!;
    if (value.length !== w.size) {
      throw new WeightMismatchError(`${network.kind} weight ${w.name} has ${value.length} values, expected ${w.size} (shape ${w.shape})`);
    }
  }
  tf.tidy(() => {
    for (const w of network.weights) w.assign(tf.tensor(values.get(w.name)!, w.shape, 'float32'));
  });
}
