/**
 * Access to libtensorflow ops that tfjs does not expose, through tfjs-node's generic executor
 * (the same call its own kernels use). Only on the native 'tensorflow' backend; callers fall back
 * to composed tfjs ops elsewhere. BLOOMSIGHT_NATIVE_OPS=0 turns all of it off (for comparisons).
 */
import * as tf from '@tensorflow/tfjs';

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The parts of tfjs-node's NodeJSKernelBackend used here. */
export interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_STRING: number;
    TF_ATTR_SHAPE: number;
    TF_ATTR_INT: number;
    TF_FLOAT: number;
    TF_INT32: number;
  };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
}

export function nativeBackend(): NativeBackend | undefined {
  if (process.env.BLOOMSIGHT_NATIVE_OPS === '0' || tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof backend.executeMultipleOutputs === 'function' && backend.binding ? (backend as NativeBackend) : undefined;
}

export function floatTypeAttr(backend: NativeBackend, name = 'T'): OpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
}
