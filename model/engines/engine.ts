/**
 * What a step engine is: something that holds both networks' weights and Adam moments, and runs one
 * pix2pix training step on a batch. Two implement it, with the same maths:
 *
 *   eager.ts  tfjs ops one by one under a gradient tape (any backend)
 *   graph.ts  the whole step as one libtensorflow graph in a session (native backend; the default there)
 *
 * Both run the step defined once in model/pix2pix.ts (`StepDefinition.forward`), so an engine only
 * supplies its ops, its gradients and its Adam updates.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DiscriminatorLayout, GeneratorLayout, WeightSpec } from '../layout';
import type { LossOps, Pix2PixLosses } from '../losses';
import type { NetworkOps } from '../networks';
import type { TrainOptions } from '../options';
import type { EngineName } from '../tfjs-internals';

export type { EngineName };

export type NetworkName = 'generator' | 'discriminator';

export interface Batch {
  /** Partial information, [b, s, s, 3] in [-1, 1]. */
  input: tf.Tensor4D;
  /** The photo. */
  target: tf.Tensor4D;
}

export interface NetworkSpec<L> {
  layout: L;
  /** Every weight in checkpoint order. */
  weights: WeightSpec[];
  /** The trainable ones: the optimiser's parameters, in order. */
  trainable: WeightSpec[];
}

export interface Pix2PixNetworks {
  generator: NetworkSpec<GeneratorLayout>;
  discriminator: NetworkSpec<DiscriminatorLayout>;
}

/** Each network's ops (they read that network's weights) and the losses' ops. */
export interface StepOps<T> {
  generator: NetworkOps<T>;
  discriminator: NetworkOps<T>;
  losses: LossOps<T>;
}

/** The step, defined once (model/pix2pix.ts) and run by every engine. */
export interface StepDefinition {
  options: TrainOptions;
  networks: Pix2PixNetworks;
  forward<T>(ops: StepOps<T>, input: T, target: T): { fake: T; losses: Pix2PixLosses<T> };
}

export interface StepInputs {
  batch: Batch;
  /** Seeds this step's dropout masks (model/dropout.ts). */
  dropoutSeed: number;
  /** Adam's update number t (from 1) for each optimiser in this step. */
  updates: Record<NetworkName, number>;
}

export interface StepEngine {
  readonly name: EngineName;
  /** One optimisation step of both networks; returns [gGan, gL1, dReal, dFake] for the caller to read and dispose. */
  step(inputs: StepInputs): tf.Tensor1D;
  /** Current values of variables by name (see variableName; caller disposes). */
  read(names: readonly string[]): tf.Tensor[];
  /** Replaces variables' values (weights, moving statistics, Adam moments). */
  write(values: ReadonlyMap<string, Float32Array>): void;
  dispose(): void;
}

/** Variable names shared by both engines: 'g/enc1/conv/kernel', 'd/d2/bn/gamma/m', ... */
export function variableName(network: NetworkName, weight: string, moment?: 'm' | 'v'): string {
  return `${network === 'generator' ? 'g' : 'd'}/${weight}${moment ? `/${moment}` : ''}`;
}

/** Every variable of a model: both networks' weights, then Adam's m and v of each trainable weight. */
export function allVariables(networks: Pix2PixNetworks): Array<{ name: string; shape: readonly number[] }> {
  const out: Array<{ name: string; shape: readonly number[] }> = [];
  for (const network of ['generator', 'discriminator'] as const) {
    for (const w of networks[network].weights) out.push({ name: variableName(network, w.name), shape: w.shape });
    for (const w of networks[network].trainable) for (const m of ['m', 'v'] as const) out.push({ name: variableName(network, w.name, m), shape: w.shape });
  }
  return out;
}
