/**
 * The training-time layers whose tfjs gradients cost many small ops, each in two implementations
 * with the same maths:
 *
 * - composed (any backend): tfjs ops. Batch norm = tf.moments + tf.batchNorm, whose gradient is
 *   ~20 ops; LeakyReLU/ReLU/tanh gradients are 2-3 ops each.
 * - native (native backend): libtensorflow's FusedBatchNormV3 / FusedBatchNormGradV3 (one op each,
 *   moving averages updated inside the op, as Keras does) and LeakyReluGrad / ReluGrad / TanhGrad.
 *
 * Batch norm updates the moving averages with the unbiased batch variance, as Keras and PyTorch do.
 * BLOOMSIGHT_FUSED_KERNELS=0 forces the composed path (for comparisons).
 */
import * as tf from '@tensorflow/tfjs';
import { floatTypeAttr, nativeBackend, type NativeBackend, type OpAttr } from './native';
import type { BatchNorm } from './networks';
import type { ParameterReader } from './params';

function fusedBackend(): NativeBackend | undefined {
  return process.env.BLOOMSIGHT_FUSED_KERNELS === '0' ? undefined : nativeBackend();
}

/** Whether the fused native kernels are in use (reported by benches and exports). */
export function usingFusedKernels(): boolean {
  return fusedBackend() !== undefined;
}

export interface BatchNormSettings {
  epsilon: number;
  momentum: number;
}

export function batchNormTraining(x: tf.Tensor4D, norm: BatchNorm, reader: ParameterReader, settings: BatchNormSettings): tf.Tensor4D {
  const native = fusedBackend();
  return native ? fusedBatchNorm(native, x, norm, reader, settings) : composedBatchNorm(x, norm, reader, settings);
}

export function batchNormInference(x: tf.Tensor4D, norm: BatchNorm, reader: ParameterReader, settings: BatchNormSettings): tf.Tensor4D {
  const [mean, variance, beta, gamma] = [norm.movingMean, norm.movingVariance, norm.beta, norm.gamma].map((p) => reader.get(p) as tf.Tensor1D);
  return tf.batchNorm4d(x, mean, variance, beta, gamma, settings.epsilon);
}

function updateMovingAverages(norm: BatchNorm, mean: tf.Tensor, unbiasedVariance: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const movingMean = norm.movingMean.read();
    const movingVariance = norm.movingVariance.read();
    norm.movingMean.assign(tf.add(tf.mul(movingMean, momentum), tf.mul(mean, 1 - momentum)));
    norm.movingVariance.assign(tf.add(tf.mul(movingVariance, momentum), tf.mul(unbiasedVariance, 1 - momentum)));
  });
}

function composedBatchNorm(x: tf.Tensor4D, norm: BatchNorm, reader: ParameterReader, settings: BatchNormSettings): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  updateMovingAverages(norm, mean, tf.mul(variance, n / Math.max(n - 1, 1)), settings.momentum);
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, reader.get(norm.beta) as tf.Tensor1D, reader.get(norm.gamma) as tf.Tensor1D, settings.epsilon);
}

function fusedBatchNorm(backend: NativeBackend, x: tf.Tensor4D, norm: BatchNorm, reader: ParameterReader, settings: BatchNormSettings): tf.Tensor4D {
  const { binding } = backend;
  const attrs: OpAttr[] = [
    floatTypeAttr(backend, 'T'),
    floatTypeAttr(backend, 'U'),
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: settings.epsilon },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
  ];
  // Given the running statistics and this factor, the op returns them already updated (what Keras does).
  const forwardAttrs: OpAttr[] = [...attrs, { name: 'exponential_avg_factor', type: binding.TF_ATTR_FLOAT, value: 1 - settings.momentum }];
  const forward = tf.customGrad((input, gamma, beta, save) => {
    const runningMean = norm.movingMean.read();
    const runningVariance = norm.movingVariance.read();
    const [y, newMean, newVariance, ...reserve] = backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      forwardAttrs,
      [input as tf.Tensor, gamma as tf.Tensor, beta as tf.Tensor, runningMean, runningVariance],
      6,
    );
    // (The reads are left to the enclosing tidy: a tf.Variable parameter returns itself.)
    norm.movingMean.assign(newMean);
    norm.movingVariance.assign(newVariance);
    tf.dispose([newMean, newVariance]);
    (save as tf.GradSaveFunc)([input as tf.Tensor, gamma as tf.Tensor, ...reserve]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, savedGamma, r1, r2, r3] = saved;
        const [dx, dGamma, dBeta, r4, r5] = backend.executeMultipleOutputs('FusedBatchNormGradV3', attrs, [dy, savedInput, savedGamma, r1, r2, r3], 5);
        tf.dispose([r4, r5]);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return forward(x, reader.get(norm.gamma), reader.get(norm.beta)) as tf.Tensor4D;
}

/**
 * Activations whose gradient is one native op (LeakyReluGrad, ReluGrad, TanhGrad) instead of
 * tfjs's two or three (compare, select, multiply). Same values either way.
 */
export function leakyRelu(x: tf.Tensor4D, alpha: number): tf.Tensor4D {
  const native = fusedBackend();
  if (!native) return tf.leakyRelu(x, alpha);
  const attrs: OpAttr[] = [floatTypeAttr(native), { name: 'alpha', type: native.binding.TF_ATTR_FLOAT, value: alpha }];
  return tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([input as tf.Tensor]);
    return {
      value: tf.leakyRelu(input as tf.Tensor4D, alpha),
      gradFunc: (dy: tf.Tensor, [features]: tf.Tensor[]) => native.executeSingleOutput('LeakyReluGrad', attrs, [dy, features]),
    };
  })(x) as tf.Tensor4D;
}

export function relu(x: tf.Tensor4D): tf.Tensor4D {
  const native = fusedBackend();
  if (!native) return tf.relu(x);
  return tf.customGrad((input, save) => {
    const y = tf.relu(input as tf.Tensor4D);
    (save as tf.GradSaveFunc)([y]);
    return {
      value: y,
      // ReluGrad accepts the Relu's outputs as "features" as well as its inputs.
      gradFunc: (dy: tf.Tensor, [outputs]: tf.Tensor[]) => native.executeSingleOutput('ReluGrad', [floatTypeAttr(native)], [dy, outputs]),
    };
  })(x) as tf.Tensor4D;
}

export function tanh(x: tf.Tensor4D): tf.Tensor4D {
  const native = fusedBackend();
  if (!native) return tf.tanh(x);
  return tf.customGrad((input, save) => {
    const y = tf.tanh(input as tf.Tensor4D);
    (save as tf.GradSaveFunc)([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [outputs]: tf.Tensor[]) => native.executeSingleOutput('TanhGrad', [floatTypeAttr(native)], [outputs, dy]),
    };
  })(x) as tf.Tensor4D;
}
