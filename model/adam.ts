/**
 * Adam (Kingma & Ba), in TensorFlow's formulation (what Keras and ResourceApplyAdam compute):
 *
 *   lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
 *   m += (g - m) * (1 - b1);   v += (g^2 - v) * (1 - b2);   theta -= lr_t * m / (sqrt(v) + eps)
 *
 * The eager engine runs it as tfjs ops; the graph engine runs ResourceApplyAdam with b1^t and b2^t
 * fed from here. Its whole state is in plain view (update count, m and v of every parameter), so a
 * checkpoint restores it bit for bit; b1^t and b2^t are recomputed in double precision from the
 * update count, never accumulated.
 */
import * as tf from '@tensorflow/tfjs';
import { OptimizerStateMismatchError } from './errors';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface AdamState {
  /** Updates applied so far. */
  step: number;
  /** Per parameter, in the optimiser's parameter order. */
  m: Float32Array[];
  v: Float32Array[];
}

/** The Adam settings of a model's training options. */
export function adamOptions(options: { learningRate: number; beta1: number; beta2: number; adamEpsilon: number }): AdamOptions {
  return { learningRate: options.learningRate, beta1: options.beta1, beta2: options.beta2, epsilon: options.adamEpsilon };
}

/** b1^t and b2^t for update number t (from 1). */
export function betaPowers(options: AdamOptions, t: number): [number, number] {
  return [options.beta1 ** t, options.beta2 ** t];
}

/** Update number t (from 1) of one parameter and its moments, in place. Call inside tf.tidy. */
export function adamUpdate(theta: tf.Variable, m: tf.Variable, v: tf.Variable, grad: tf.Tensor, t: number, options: AdamOptions): void {
  const [b1t, b2t] = betaPowers(options, t);
  const stepSize = (options.learningRate * Math.sqrt(1 - b2t)) / (1 - b1t);
  const m1 = tf.add(m, tf.mul(tf.sub(grad, m), 1 - options.beta1));
  const v1 = tf.add(v, tf.mul(tf.sub(tf.square(grad), v), 1 - options.beta2));
  m.assign(m1);
  v.assign(v1);
  theta.assign(tf.sub(theta, tf.div(tf.mul(m1, stepSize), tf.add(tf.sqrt(v1), options.epsilon))));
}

/** Throws OptimizerStateMismatchError unless `state` has moments of the right sizes for `parameters`. */
export function checkAdamState(state: AdamState, parameters: ReadonlyArray<{ name: string; shape: readonly number[] }>): void {
  const n = parameters.length;
  if (state.m.length !== n || state.v.length !== n) {
    throw new OptimizerStateMismatchError(`optimiser state has ${state.m.length} moments, the model has ${n} parameters`);
  }
  parameters.forEach((p, i) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (state.m[i].length !== size || state.v[i].length !== size) {
      throw new OptimizerStateMismatchError(`optimiser moments of ${p.name} have ${state.m[i].length} values, the parameter has ${size}`);
    }
  });
}
