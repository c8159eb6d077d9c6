/**
 * Where the networks' weights live.
 *
 * - On the native backend: TensorFlow resource variables (VarHandleOp), driven through tfjs-node's
 *   generic op executor. Their point is the optimiser: ResourceApplyAdam updates weight, m and v in
 *   place in ONE pass per variable, where composed tfjs ops take about twelve passes over every
 *   parameter array (at 256x256 / 64 filters that alone costs more than a whole Keras step).
 * - Anywhere else: ordinary tf.Variables.
 *
 * The networks only ever `read()` a parameter (a leaf tensor the gradient tape differentiates
 * against) and `assign()` new values (moving batch-norm statistics, checkpoint restore).
 * Set BLOOMSIGHT_RESOURCE_VARIABLES=0 to force tf.Variables (for comparisons).
 */
import * as tf from '@tensorflow/tfjs';
import { nativeBackend, type NativeBackend, type OpAttr } from './native';

export interface Parameter {
  /** Stable name: the checkpoint key. */
  readonly name: string;
  readonly shape: number[];
  readonly size: number;
  readonly trainable: boolean;
  /**
   * The current value as a tensor, to be used inside a tf.tidy (which frees it). Never dispose it
   * directly: for a tf.Variable parameter it is the variable itself. Do not keep it across an
   * update: a read of a resource variable shares its buffer while it lives.
   */
  read(): tf.Tensor;
  /** Replaces the value (same shape). Does not take ownership of `value`. */
  assign(value: tf.Tensor): void;
  /** The current values, copied to JS. */
  values(): Float32Array;
  dispose(): void;
}

export type ParameterKind = 'resource' | 'variable';

/** The kind used by new models: resource variables when the native backend allows them. */
export function defaultParameterKind(): ParameterKind {
  return process.env.BLOOMSIGHT_RESOURCE_VARIABLES !== '0' && nativeBackend() ? 'resource' : 'variable';
}

export function createParameter(kind: ParameterKind, name: string, initial: tf.Tensor, trainable: boolean): Parameter {
  if (kind === 'resource') {
    const backend = nativeBackend();
    if (!backend) throw new Error('resource variables need the native tensorflow backend');
    return new ResourceParameter(backend, name, initial, trainable);
  }
  return new VariableParameter(name, initial, trainable);
}

class VariableParameter implements Parameter {
  readonly variable: tf.Variable;
  constructor(
    readonly name: string,
    initial: tf.Tensor,
    readonly trainable: boolean,
  ) {
    this.variable = tf.variable(initial, trainable);
  }
  get shape(): number[] {
    return this.variable.shape;
  }
  get size(): number {
    return this.variable.size;
  }
  read(): tf.Tensor {
    return this.variable;
  }
  assign(value: tf.Tensor): void {
    this.variable.assign(value);
  }
  values(): Float32Array {
    return (this.variable.dataSync() as Float32Array).slice();
  }
  dispose(): void {
    this.variable.dispose();
  }
}

let resourceCounter = 0;

export class ResourceParameter implements Parameter {
  /** The resource handle (a scalar tfjs tensor of dtype 'string' wrapping a TF handle). */
  readonly handle: tf.Tensor;
  readonly shape: number[];
  readonly size: number;
  private readonly dtypeAttr: OpAttr[];

  constructor(
    private readonly backend: NativeBackend,
    readonly name: string,
    initial: tf.Tensor,
    readonly trainable: boolean,
  ) {
    const { binding } = backend;
    this.shape = initial.shape;
    this.size = initial.size;
    this.dtypeAttr = [{ name: 'dtype', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT }];
    resourceCounter += 1;
    this.handle = tf.keep(
      backend.executeSingleOutput(
        'VarHandleOp',
        [
          { name: 'container', type: binding.TF_ATTR_STRING, value: '' },
          // Unique per process: resource variables with the same shared_name are the same variable.
          { name: 'shared_name', type: binding.TF_ATTR_STRING, value: `bloomsight_${process.pid}_${resourceCounter}` },
          ...this.dtypeAttr,
          { name: 'shape', type: binding.TF_ATTR_SHAPE, value: this.shape },
        ],
        [],
      ),
    );
    this.assign(initial);
  }

  read(): tf.Tensor {
    return this.backend.executeSingleOutput('ReadVariableOp', this.dtypeAttr, [this.handle]);
  }

  assign(value: tf.Tensor): void {
    if (!tf.util.arraysEqual(value.shape, this.shape)) throw new Error(`${this.name}: cannot assign shape ${value.shape} to ${this.shape}`);
    this.backend.executeMultipleOutputs('AssignVariableOp', this.dtypeAttr, [this.handle, value], 0);
  }

  values(): Float32Array {
    const value = this.read();
    const copy = (value.dataSync() as Float32Array).slice();
    value.dispose();
    return copy;
  }

  dispose(): void {
    if (this.handle.isDisposed) return;
    const { binding } = this.backend;
    this.backend.executeMultipleOutputs('DestroyResourceOp', [{ name: 'ignore_lookup_error', type: binding.TF_ATTR_BOOL, value: true }], [this.handle], 0);
    this.handle.dispose();
  }
}

/**
 * Reads each parameter at most once per forward pass and remembers the tensor, so the gradient
 * code can name the exact leaves the tape saw.
 */
export class ParameterReader {
  private readonly reads = new Map<Parameter, tf.Tensor>();

  get(parameter: Parameter): tf.Tensor {
    let value = this.reads.get(parameter);
    if (!value) {
      value = parameter.read();
      this.reads.set(parameter, value);
    }
    return value;
  }

  /** The leaves read for these parameters (all must have been read). */
  leaves(parameters: Parameter[]): tf.Tensor[] {
    return parameters.map((p) => {
      const value = this.reads.get(p);
      if (!value) throw new Error(`parameter ${p.name} was not used by the forward pass`);
      return value;
    });
  }
}
