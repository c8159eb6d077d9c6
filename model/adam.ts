/**
 * Adam (Kingma & Ba), in TensorFlow's formulation (what Keras and ResourceApplyAdam compute):
 *
 *   lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
 *   m += (g - m) * (1 - b1);   v += (g^2 - v) * (1 - b2);   theta -= lr_t * m / (sqrt(v) + eps)
 *
 * Its whole state is in plain view (step count, m and v of every parameter) so a checkpoint restores
 * it bit for bit; b1^t and b2^t are recomputed in double precision from the step count, never
 * accumulated. (tfjs's AdamOptimizer accumulates beta^t while training but recomputes it with pow()
 * on restore, so a resumed run would drift in the last bits.)
 *
 * On resource parameters one ResourceApplyAdam op per parameter updates theta, m and v in place;
 * otherwise the same maths runs as composed tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { floatTypeAttr, nativeBackend, type NativeBackend } from './native';
import { createParameter, ResourceParameter, type Parameter, type ParameterKind } from './params';
import { OptimizerStateMismatchError } from './errors';
export { OptimizerStateMismatchError };

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface AdamState {
  /** Updates applied so far. */
  step: number;
  /** Per parameter, in the order the optimiser was built with. */
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  private step = 0;
  private readonly m: Parameter[];
  private readonly v: Parameter[];
  /** Scalars made once: a JS number given to a tf op becomes a new tensor on every call. */
  private readonly constants: { learningRate: tf.Scalar; beta1: tf.Scalar; beta2: tf.Scalar; epsilon: tf.Scalar; oneMinusBeta1: tf.Scalar; oneMinusBeta2: tf.Scalar };
  private readonly native: NativeBackend | undefined;

  constructor(
    readonly parameters: Parameter[],
    readonly options: AdamOptions,
    kind: ParameterKind,
  ) {
    const zeros = (p: Parameter, suffix: string) => {
      const initial = tf.zeros(p.shape);
      const moment = createParameter(kind, `${p.name}/${suffix}`, initial, false);
      initial.dispose();
      return moment;
    };
    this.m = parameters.map((p) => zeros(p, 'm'));
    this.v = parameters.map((p) => zeros(p, 'v'));
    this.constants = tf.tidy(() => {
      const c = {
        learningRate: tf.scalar(options.learningRate),
        beta1: tf.scalar(options.beta1),
        beta2: tf.scalar(options.beta2),
        epsilon: tf.scalar(options.epsilon),
        oneMinusBeta1: tf.scalar(1 - options.beta1),
        oneMinusBeta2: tf.scalar(1 - options.beta2),
      };
      Object.values(c).forEach((t) => tf.keep(t));
      return c;
    });
    this.native = kind === 'resource' ? nativeBackend() : undefined;
    if (kind === 'resource' && !this.native) throw new Error('resource parameters need the native backend');
  }

  get iterations(): number {
    return this.step;
  }

  /** Applies one update; `grads[i]` belongs to `parameters[i]`. Does not dispose the gradients. */
  apply(grads: tf.Tensor[]): void {
    if (grads.length !== this.parameters.length) throw new Error(`expected ${this.parameters.length} gradients, got ${grads.length}`);
    const t = this.step + 1;
    tf.tidy(() => {
      const beta1Power = tf.scalar(this.options.beta1 ** t);
      const beta2Power = tf.scalar(this.options.beta2 ** t);
      if (this.native) this.applyFused(this.native, grads, beta1Power, beta2Power);
      else this.applyComposed(grads, t);
    });
    this.step = t;
  }

  private applyFused(backend: NativeBackend, grads: tf.Tensor[], beta1Power: tf.Scalar, beta2Power: tf.Scalar): void {
    const { binding } = backend;
    const attrs = [
      floatTypeAttr(backend),
      { name: 'use_locking', type: binding.TF_ATTR_BOOL, value: false },
      { name: 'use_nesterov', type: binding.TF_ATTR_BOOL, value: false },
    ];
    const c = this.constants;
    grads.forEach((g, i) => {
      const handles = [this.parameters[i], this.m[i], this.v[i]].map((p) => (p as ResourceParameter).handle);
      backend.executeMultipleOutputs('ResourceApplyAdam', attrs, [...handles, beta1Power, beta2Power, c.learningRate, c.beta1, c.beta2, c.epsilon, g], 0);
    });
  }

  private applyComposed(grads: tf.Tensor[], t: number): void {
    const { learningRate, beta1, beta2 } = this.options;
    const stepSize = tf.scalar((learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t));
    const c = this.constants;
    grads.forEach((g, i) => {
      const m0 = this.m[i].read();
      const v0 = this.v[i].read();
      const m = tf.add(m0, tf.mul(tf.sub(g, m0), c.oneMinusBeta1));
      const v = tf.add(v0, tf.mul(tf.sub(tf.square(g), v0), c.oneMinusBeta2));
      this.m[i].assign(m);
      this.v[i].assign(v);
      const theta = this.parameters[i];
      theta.assign(tf.sub(theta.read(), tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), c.epsilon))));
    });
  }

  /** Copies the state out of the tensors (independent of further training). */
  snapshot(): AdamState {
    return { step: this.step, m: this.m.map((p) => p.values()), v: this.v.map((p) => p.values()) };
  }

  /** Like snapshot(), yielding to the event loop between parameters (large models take seconds). */
  async snapshotAsync(yieldNow: () => Promise<void>): Promise<AdamState> {
    const m: Float32Array[] = [];
    const v: Float32Array[] = [];
    for (let i = 0; i < this.m.length; i++) {
      m.push(this.m[i].values());
      v.push(this.v[i].values());
      await yieldNow();
    }
    return { step: this.step, m, v };
  }

  /** The first (`m`) or second (`v`) moment of parameter `index`, copied to JS. */
  momentValues(index: number, which: 'm' | 'v'): Float32Array {
    return (which === 'm' ? this.m : this.v)[index].values();
  }

  restore(state: AdamState): void {
    checkAdamState(state, this.parameters);
    tf.tidy(() => {
      this.parameters.forEach((p, i) => {
        this.m[i].assign(tf.tensor(state.m[i], p.shape, 'float32'));
        this.v[i].assign(tf.tensor(state.v[i], p.shape, 'float32'));
      });
    });
    this.step = state.step;
  }

  dispose(): void {
    for (const p of [...this.m, ...this.v]) p.dispose();
    tf.dispose(Object.values(this.constants));
  }
}

/** Throws OptimizerStateMismatchError unless `state` has moments of the right sizes for `parameters`. */
export function checkAdamState(state: AdamState, parameters: Parameter[]): void {
  const n = parameters.length;
  if (state.m.length !== n || state.v.length !== n) {
    throw new OptimizerStateMismatchError(`optimiser state has ${state.m.length} moments, the model has ${n} parameters`);
  }
  parameters.forEach((p, i) => {
    if (state.m[i].length !== p.size || state.v[i].length !== p.size) {
      throw new OptimizerStateMismatchError(`optimiser moments of ${p.name} have ${state.m[i].length} values, the parameter has ${p.size}`);
    }
  });
}
