/**
 * A model's whole training state as plain arrays (what a checkpoint stores), read from and written
 * to whichever engine holds it: both networks' weights, both optimisers' moments and update
 * counts, and the step.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkAdamState, type AdamState } from './adam';
import { variableName, type NetworkName, type Pix2PixNetworks, type StepEngine } from './engines/engine';
import { WeightMismatchError } from './errors';
import type { WeightValues } from './fold';

export interface ModelSnapshot {
  /** Completed training steps. */
  step: number;
  generator: WeightValues;
  discriminator: WeightValues;
  optimizerG: AdamState;
  optimizerD: AdamState;
}

/** What snapshots read and write: the model's engine and bookkeeping. */
export interface SnapshotTarget {
  step: number;
  readonly networks: Pix2PixNetworks;
  readonly engine: StepEngine;
  readonly optimizerSteps: Record<NetworkName, number>;
}

const NETWORKS = ['generator', 'discriminator'] as const;
const OPTIMIZER = { generator: 'optimizerG', discriminator: 'optimizerD' } as const;

/** Variable names in snapshot order: G weights, D weights, then m and v of G, then of D. */
function snapshotNames(networks: Pix2PixNetworks): string[] {
  const names = NETWORKS.flatMap((n) => networks[n].weights.map((w) => variableName(n, w.name)));
  for (const n of NETWORKS) for (const m of ['m', 'v'] as const) names.push(...networks[n].trainable.map((w) => variableName(n, w.name, m)));
  return names;
}

function assemble(target: SnapshotTarget, values: Float32Array[], step: number): ModelSnapshot {
  let next = 0;
  const take = (count: number) => values.slice(next, (next += count));
  const { networks } = target;
  const [generator, discriminator] = NETWORKS.map((n) => {
    const arrays = take(networks[n].weights.length);
    return new Map(networks[n].weights.map((w, i) => [w.name, arrays[i]]));
  });
  const optimizer = (n: NetworkName): AdamState => {
    const count = networks[n].trainable.length;
    return { step: target.optimizerSteps[n], m: take(count), v: take(count) };
  };
  return { step, generator, discriminator, optimizerG: optimizer('generator'), optimizerD: optimizer('discriminator') };
}

/** One network's weights by name, copied to JS. */
export function readWeights(target: SnapshotTarget, network: NetworkName): WeightValues {
  const specs = target.networks[network].weights;
  const tensors = target.engine.read(specs.map((w) => variableName(network, w.name)));
  return new Map(specs.map((w, i) => [w.name, copyOut(tensors[i])]));
}

/** Reads the whole state now (one engine read), copying every array to JS. */
export function readSnapshot(target: SnapshotTarget): ModelSnapshot {
  const tensors = target.engine.read(snapshotNames(target.networks));
  return assemble(target, tensors.map(copyOut), target.step);
}

/** Like readSnapshot, yielding to the event loop between arrays so heartbeats keep running. */
export async function readSnapshotAsync(target: SnapshotTarget): Promise<ModelSnapshot> {
  // One engine read fixes the moment; the copies to JS follow, one array at a time.
  const tensors = target.engine.read(snapshotNames(target.networks));
  const step = target.step;
  const values: Float32Array[] = [];
  for (const tensor of tensors) {
    values.push(copyOut(tensor));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return assemble(target, values, step);
}

/**
 * Writes whatever `snapshot` holds: networks' weights (each complete), optimiser states (with their
 * update counts), and the step. Throws WeightMismatchError or OptimizerStateMismatchError before writing anything.
 */
export function writeSnapshot(target: SnapshotTarget, snapshot: Partial<ModelSnapshot>): void {
  const values = new Map<string, Float32Array>();
  for (const n of NETWORKS) {
    const weights = snapshot[n];
    if (!weights) continue;
    const specs = target.networks[n].weights;
    const missing = specs.filter((w) => !weights.has(w.name)).map((w) => w.name);
    if (missing.length > 0) throw new WeightMismatchError(`${n} weights missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    for (const w of specs) {
      const value = weights.get(w.name)!;
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (value.length !== size) throw new WeightMismatchError(`${n} weight ${w.name} has ${value.length} values, expected ${size} (shape ${w.shape})`);
      values.set(variableName(n, w.name), value);
    }
  }
  for (const n of NETWORKS) {
    const state = snapshot[OPTIMIZER[n]];
    if (!state) continue;
    const trainable = target.networks[n].trainable;
    checkAdamState(state, trainable);
    trainable.forEach((w, i) => {
      values.set(variableName(n, w.name, 'm'), state.m[i]);
      values.set(variableName(n, w.name, 'v'), state.v[i]);
    });
  }
  target.engine.write(values);
  for (const n of NETWORKS) {
    const state = snapshot[OPTIMIZER[n]];
    if (state) target.optimizerSteps[n] = state.step;
  }
  if (snapshot.step !== undefined) target.step = snapshot.step;
}

function copyOut(tensor: tf.Tensor): Float32Array {
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return values;
}
