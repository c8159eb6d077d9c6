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
import { Adam, checkAdamState, type AdamState } from './adam';
import { gradientsFromOneForward } from './gradients';
import { compileInference, type InferencePlan } from './inference';
import { discriminatorLoss, generatorLoss } from './losses';
import {
  createDiscriminator,
  createGenerator,
  discriminate,
  disposeNetwork,
  dropoutMask,
  dropoutSeedOf,
  generate,
  trainableParameters,
  type Discriminator,
  type Generator,
  type Network,
} from './networks';
import { networkOptions, type TrainOptions } from './options';
import { defaultParameterKind, ParameterReader, type Parameter, type ParameterKind } from './params';
import { seedFor } from './random';
import { GraphTrainer } from './graph/graph-trainer';
import { variableName } from './graph/train-graph';
import { graphExecutionEnabled } from './graph/session';
import { WeightMismatchError } from './errors';
export { WeightMismatchError };

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

/**
 * How training steps run:
 * - 'graph' (native backend): the whole step is one TensorFlow graph in a libtensorflow session
 *   (model/graph/), as Keras's tf.function step is: no per-op dispatch from JS, Grappler's
 *   rewrites, independent ops in parallel. Weights and Adam moments live in the session's variables
 *   while training; the eager networks are brought up to date when someone reads them.
 * - 'eager': tfjs ops one by one under a gradient tape (any backend).
 * BLOOMSIGHT_GRAPH=0 forces 'eager' (for comparisons).
 */
export type StepEngine = 'graph' | 'eager';

export function defaultStepEngine(): StepEngine {
  return graphExecutionEnabled() ? 'graph' : 'eager';
}

export class Pix2Pix {
  /** Completed training steps. */
  step = 0;
  readonly engine: StepEngine;
  private readonly networks: { generator: Generator; discriminator: Discriminator };
  private readonly generatorParameters: Parameter[];
  private readonly discriminatorParameters: Parameter[];
  /** Eager engine: the optimisers. */
  private readonly eager?: { g: Adam; d: Adam };
  /** Graph engine: the session (made at the first step), and where the newest values are. */
  private graph?: GraphTrainer;
  private graphState = {
    /** The session's weights are newer than the eager networks (steps ran since the last pull). */
    weightsNewer: false,
    /** The eager networks may have been written since the last push. */
    networksWritten: true,
    /** Adam moments and update counts not yet in the session (restore, or zeros for a new model). */
    pendingOptimizers: undefined as { g: AdamState; d: AdamState } | undefined,
    optimizerSteps: { g: 0, d: 0 },
  };

  constructor(
    readonly options: TrainOptions,
    readonly parameterKind: ParameterKind = defaultParameterKind(),
    engine: StepEngine = defaultStepEngine(),
  ) {
    const net = networkOptions(options);
    this.engine = engine;
    this.networks = {
      generator: createGenerator(net, options.seed, parameterKind),
      discriminator: createDiscriminator(net, options.seed, parameterKind),
    };
    this.generatorParameters = trainableParameters(this.networks.generator);
    this.discriminatorParameters = trainableParameters(this.networks.discriminator);
    if (engine === 'eager') {
      const adam = { learningRate: options.learningRate, beta1: options.beta1, beta2: options.beta2, epsilon: options.adamEpsilon };
      this.eager = { g: new Adam(this.generatorParameters, adam, parameterKind), d: new Adam(this.discriminatorParameters, adam, parameterKind) };
    }
  }

  /** The generator, with its current weights (reading or writing it is safe at any time). */
  get generator(): Generator {
    this.exposeNetworks();
    return this.networks.generator;
  }

  get discriminator(): Discriminator {
    this.exposeNetworks();
    return this.networks.discriminator;
  }

  /** Names and shapes of both networks' weights, and which are trainable (no weights are read). */
  weightLayout() {
    const layout = (network: Network) => ({
      shapes: new Map(network.weights.map((w) => [w.name, w.shape])),
      trainable: network.weights.filter((w) => w.trainable).map((w) => w.name),
    });
    return { generator: layout(this.networks.generator), discriminator: layout(this.networks.discriminator) };
  }

  /**
   * One optimisation step of both networks. Returns the losses as a tensor
   * [gGan, gL1, dReal, dFake] that the caller reads (or not) and disposes; reading it is the only sync.
   */
  trainStep(batch: Batch): tf.Tensor1D {
    const dropoutSeed = seedFor(this.options.seed, `dropout/${this.step}`);
    const losses = this.eager ? this.eagerStep(this.eager, batch, dropoutSeed) : this.graphStep(batch, dropoutSeed);
    this.step += 1;
    return losses;
  }

  private eagerStep(optimizers: { g: Adam; d: Adam }, batch: Batch, dropoutSeed: number): tf.Tensor1D {
    return tf.tidy(() => {
      const reader = new ParameterReader();
      const { outputs, grads } = gradientsFromOneForward(
        () => this.forward(batch, dropoutSeed, reader),
        (out) => [
          { y: out.lossD, xs: reader.leaves(this.discriminatorParameters) }, // backward_D
          { y: out.lossG, xs: reader.leaves(this.generatorParameters) }, // backward_G
        ],
      );
      optimizers.d.apply(grads[0]);
      optimizers.g.apply(grads[1]);
      return tf.stack([outputs.gGan, outputs.gL1, outputs.dReal, outputs.dFake]) as tf.Tensor1D;
    });
  }

  private graphStep(batch: Batch, dropoutSeed: number): tf.Tensor1D {
    const graph = this.syncGraph();
    const { beta1, beta2, dropout } = this.options;
    const steps = this.graphState.optimizerSteps;
    const powers = (t: number): [number, number] => [beta1 ** t, beta2 ** t];
    const dropoutMasks = new Map(graph.graph.dropoutBlocks.map(({ block, shape }) => [block, dropoutMask(shape.reduce((a, b) => a * b, 1), dropout, dropoutSeedOf(dropoutSeed, block))]));
    const losses = graph.step({ input: batch.input, target: batch.target, dropoutMasks, betaPowers: { g: powers(steps.g + 1), d: powers(steps.d + 1) } });
    steps.g += 1;
    steps.d += 1;
    this.graphState.weightsNewer = true;
    return losses;
  }

  /** Makes the session (first step) and pushes into it whatever changed outside it. */
  private syncGraph(): GraphTrainer {
    const state = this.graphState;
    const created = this.graph === undefined;
    const graph = (this.graph ??= new GraphTrainer(this.options, this.networks.generator, this.networks.discriminator));
    const values = new Map<string, tf.Tensor | Float32Array>();
    tf.tidy(() => {
      if (state.networksWritten) {
        for (const [network, prefix] of [[this.networks.generator, 'g'], [this.networks.discriminator, 'd']] as const) {
          for (const w of network.weights) values.set(variableName(prefix, w), w.read());
        }
      }
      const pending = state.pendingOptimizers;
      if (created && !pending) {
        // A new session's moments are zeros unless a restore gave some.
        graph.zeroMoments();
        state.optimizerSteps = { g: 0, d: 0 };
      }
      if (pending) {
        for (const [params, prefix, adam] of [[this.generatorParameters, 'g', pending.g], [this.discriminatorParameters, 'd', pending.d]] as const) {
          params.forEach((p, i) => {
            values.set(variableName(prefix, p, 'm'), adam.m[i]);
            values.set(variableName(prefix, p, 'v'), adam.v[i]);
          });
        }
        state.optimizerSteps = { g: pending.g.step, d: pending.d.step };
      }
      if (values.size > 0) graph.assign(values);
    });
    state.networksWritten = false;
    state.pendingOptimizers = undefined;
    return graph;
  }

  /** Brings the eager networks up to date before anyone reads (or writes) them. */
  private exposeNetworks(): void {
    if (!this.graph) return;
    if (this.graphState.weightsNewer) {
      for (const [network, prefix] of [[this.networks.generator, 'g'], [this.networks.discriminator, 'd']] as const) {
        const tensors = this.graph.read(network.weights.map((w) => variableName(prefix, w)));
        writeWeights(network, new Map(network.weights.map((w, i) => [w.name, tensors[i].dataSync() as Float32Array])));
        tf.dispose(tensors);
      }
      this.graphState.weightsNewer = false;
    }
    // The caller may write them (fine-tuning, restore): push them before the next step.
    this.graphState.networksWritten = true;
  }

  private forward(batch: Batch, dropoutSeed: number, reader: ParameterReader) {
    const { input, target } = batch;
    const mode = { training: true, dropoutSeed } as const;
    const fake = generate(this.networks.generator, input, mode, reader);
    const realLogits = discriminate(this.networks.discriminator, input, target, mode, reader);
    const fakeLogits = discriminate(this.networks.discriminator, input, fake, mode, reader);
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
    const generator = this.generator;
    return tf.tidy(() => generate(generator, input, { training: false }, new ParameterReader()));
  }

  /** The generator's current weights compiled for fast inference (what an export's loader runs). Caller disposes. */
  compileInference(): InferencePlan {
    const generator = this.generator;
    return compileInference(readWeights(generator), generator.options);
  }

  snapshot(): ModelSnapshot {
    const plan = this.snapshotPlan();
    return plan.assemble(plan.copies.map((copy) => copy()));
  }

  /** Like snapshot(), yielding to the event loop between parameters so heartbeats keep running. */
  async snapshotAsync(): Promise<ModelSnapshot> {
    const plan = this.snapshotPlan();
    const values: Float32Array[] = [];
    for (const copy of plan.copies) {
      values.push(copy());
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return plan.assemble(values);
  }

  /**
   * One copy function per weight and Adam moment (G weights, D weights, then m and v of G, then of D),
   * and how to assemble their results. Values still in the graph session are fetched by one run here
   * (no copy yet) so the snapshot is of this moment even if the copies run later.
   */
  private snapshotPlan(): { copies: Array<() => Float32Array>; assemble(values: Float32Array[]): ModelSnapshot } {
    const { generator, discriminator } = this.networks;
    const fromSession = new Map<string, tf.Tensor>();
    if (this.graph) {
      const names: string[] = [];
      if (this.graphState.weightsNewer) names.push(...generator.weights.map((w) => variableName('g', w)), ...discriminator.weights.map((w) => variableName('d', w)));
      if (!this.graphState.pendingOptimizers) {
        for (const [prefix, params] of [['g', this.generatorParameters], ['d', this.discriminatorParameters]] as const) {
          for (const p of params) names.push(variableName(prefix, p, 'm'), variableName(prefix, p, 'v'));
        }
      }
      const tensors = names.length > 0 ? this.graph.read(names) : [];
      names.forEach((name, i) => fromSession.set(name, tensors[i]));
    }
    const copy = (name: string, otherwise: () => Float32Array) => () => {
      const tensor = fromSession.get(name);
      if (!tensor) return otherwise();
      const values = tensor.dataSync() as Float32Array;
      tensor.dispose();
      return values;
    };
    const optimizer = (prefix: 'g' | 'd', params: Parameter[]) => {
      const adam = this.eager?.[prefix];
      const pending = this.graphState.pendingOptimizers?.[prefix];
      const moment = (which: 'm' | 'v') =>
        params.map((p, i) => copy(variableName(prefix, p, which), () => (adam ? adam.momentValues(i, which) : (pending?.[which][i] ?? new Float32Array(p.size)))));
      return { step: adam ? adam.iterations : this.graphState.optimizerSteps[prefix], m: moment('m'), v: moment('v') };
    };
    const parts = {
      generator: generator.weights.map((w) => copy(variableName('g', w), () => w.values())),
      discriminator: discriminator.weights.map((w) => copy(variableName('d', w), () => w.values())),
      optimizerG: optimizer('g', this.generatorParameters),
      optimizerD: optimizer('d', this.discriminatorParameters),
    };
    const step = this.step;
    return {
      copies: [...parts.generator, ...parts.discriminator, ...parts.optimizerG.m, ...parts.optimizerG.v, ...parts.optimizerD.m, ...parts.optimizerD.v],
      assemble(values) {
        let next = 0;
        const take = (count: number) => values.slice(next, (next += count));
        const names = (network: Network) => network.weights.map((w) => w.name);
        const zip = (keys: string[], vals: Float32Array[]) => new Map(keys.map((k, i) => [k, vals[i]]));
        return {
          step,
          generator: zip(names(generator), take(generator.weights.length)),
          discriminator: zip(names(discriminator), take(discriminator.weights.length)),
          optimizerG: { step: parts.optimizerG.step, m: take(parts.optimizerG.m.length), v: take(parts.optimizerG.v.length) },
          optimizerD: { step: parts.optimizerD.step, m: take(parts.optimizerD.m.length), v: take(parts.optimizerD.v.length) },
        };
      },
    };
  }

  /** Restores weights, optimiser moments and step. Throws WeightMismatchError or OptimizerStateMismatchError. */
  restore(snapshot: ModelSnapshot): void {
    writeWeights(this.networks.generator, snapshot.generator);
    writeWeights(this.networks.discriminator, snapshot.discriminator);
    this.graphState.weightsNewer = false;
    this.graphState.networksWritten = true;
    if (this.eager) {
      this.eager.g.restore(snapshot.optimizerG);
      this.eager.d.restore(snapshot.optimizerD);
    } else {
      checkAdamState(snapshot.optimizerG, this.generatorParameters);
      checkAdamState(snapshot.optimizerD, this.discriminatorParameters);
      this.graphState.pendingOptimizers = { g: snapshot.optimizerG, d: snapshot.optimizerD };
      this.graphState.optimizerSteps = { g: snapshot.optimizerG.step, d: snapshot.optimizerD.step };
    }
    this.step = snapshot.step;
  }

  dispose(): void {
    this.graph?.dispose();
    disposeNetwork(this.networks.generator);
    disposeNetwork(this.networks.discriminator);
    this.eager?.g.dispose();
    this.eager?.d.dispose();
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
