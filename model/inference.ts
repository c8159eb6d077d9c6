/**
 * The generator compiled for inference: batch norm folded into the preceding (transposed)
 * convolution as a per-channel scale and a bias, computed once, then each layer is conv ->
 * bias -> activation. On the native backend the whole generator runs as one libtensorflow graph
 * (model/graph/inference-graph.ts; BLOOMSIGHT_GRAPH=0: op by op, straight to libtensorflow);
 * elsewhere the same maths runs as tfjs ops.
 *
 * Equal to the unfolded generator in eval mode up to float rounding (about 1e-8 on outputs in
 * [-1, 1]); the render path uses it for both an export and an in-memory model, so those two agree
 * exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { encoderFilters, LEAKY_SLOPE } from './networks';
import { floatTypeAttr, nativeBackend, type NativeBackend, type OpAttr } from './native';
import type { NetworkOptions } from './options';
import type { WeightValues } from './pix2pix';
import { GraphGenerator, type FoldedLayer } from './graph/inference-graph';
import { graphExecutionEnabled } from './graph/session';


export interface InferencePlan {
  readonly imageSize: number;
  /** [b, s, s, 3] in [-1, 1] -> translated (caller disposes). */
  run(input: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

/** Thrown by compileInference when the weights do not describe a generator of these options. */
export class InferenceWeightsError extends Error {
  override readonly name = 'InferenceWeightsError';
}

export function compileInference(weights: WeightValues, options: NetworkOptions): InferencePlan {
  const filters = encoderFilters(options.imageSize, options.ngf);
  const get = (name: string, shape?: number[]): tf.Tensor => {
    const values = weights.get(name);
    if (!values) throw new InferenceWeightsError(`generator weight ${name} missing`);
    if (shape && values.length !== shape.reduce((a, b) => a * b, 1)) throw new InferenceWeightsError(`generator weight ${name} has ${values.length} values, expected shape ${shape}`);
    return tf.tensor(values, shape ?? [values.length], 'float32');
  };
  const fold = (prefix: string, kernelName: string, kernelShape: number[], channelAxis: number, normed: boolean): FoldedLayer =>
    tf.tidy(() => {
      const kernel = get(`${prefix}/${kernelName}/kernel`, kernelShape) as tf.Tensor4D;
      const channels = kernelShape[channelAxis];
      if (!normed) {
        const bias = weights.has(`${prefix}/${kernelName}/bias`) ? get(`${prefix}/${kernelName}/bias`, [channels]) : tf.zeros([channels]);
        return { kernel: tf.keep(kernel), bias: tf.keep(bias as tf.Tensor1D) };
      }
      const bn = (n: string) => get(`${prefix}/bn/${n}`, [channels]);
      const scale = tf.div(bn('gamma'), tf.sqrt(tf.add(bn('moving_variance'), options.batchNormEpsilon)));
      const shape = [1, 1, 1, 1];
      shape[channelAxis] = channels;
      return {
        kernel: tf.keep(tf.mul(kernel, tf.reshape(scale, shape)) as tf.Tensor4D),
        bias: tf.keep(tf.sub(bn('beta'), tf.mul(bn('moving_mean'), scale)) as tf.Tensor1D),
      };
    });
  const encoder = filters.map((out, i) => fold(`enc${i + 1}`, 'conv', [4, 4, i === 0 ? 3 : filters[i - 1], out], 3, i > 0 && i < filters.length - 1));
  const decoderFilters = filters.slice(0, -1).reverse();
  const decoder = decoderFilters.map((out, j) => fold(`dec${j + 1}`, 'convT', [4, 4, out, j === 0 ? filters[filters.length - 1] : decoderFilters[j - 1] * 2], 2, true));
  const output = fold('out', 'convT', [4, 4, 3, filters[0] * 2], 2, false);
  const layers = [...encoder, ...decoder, output];
  const dispose = () => {
    for (const layer of layers) tf.dispose([layer.kernel, layer.bias]);
  };
  if (graphExecutionEnabled()) {
    // One session run per batch; the session keeps its own copy of the layers.
    let graph: GraphGenerator;
    try {
      graph = new GraphGenerator({ encoder, decoder, output }, options.imageSize);
    } finally {
      dispose();
    }
    return { imageSize: options.imageSize, run: (input) => graph.run(input), dispose: () => graph.dispose() };
  }
  const ops = nativeBackend() ? nativeOps(nativeBackend()!) : tfjsOps;

  return {
    imageSize: options.imageSize,
    run(input: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        const skips: tf.Tensor4D[] = [];
        let x = input;
        for (const layer of encoder) {
          x = ops.leakyRelu(ops.bias(ops.conv(x, layer.kernel), layer.bias));
          skips.push(x);
        }
        decoder.forEach((layer, j) => {
          x = ops.concat(ops.relu(ops.bias(ops.convT(x, layer.kernel), layer.bias)), skips[skips.length - 2 - j]);
        });
        return ops.tanh(ops.bias(ops.convT(x, output.kernel), output.bias));
      });
    },
    dispose,
  };
}

interface Ops {
  conv(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D;
  convT(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D;
  bias(x: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D;
  leakyRelu(x: tf.Tensor4D): tf.Tensor4D;
  relu(x: tf.Tensor4D): tf.Tensor4D;
  tanh(x: tf.Tensor4D): tf.Tensor4D;
  concat(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D;
}

const doubled = (x: tf.Tensor4D, channels: number): [number, number, number, number] => [x.shape[0], x.shape[1] * 2, x.shape[2] * 2, channels];

const tfjsOps: Ops = {
  conv: (x, kernel) => tf.conv2d(x, kernel, 2, 'same'),
  convT: (x, kernel) => tf.conv2dTranspose(x, kernel, doubled(x, kernel.shape[2]), 2, 'same'),
  bias: (x, bias) => tf.add(x, bias),
  leakyRelu: (x) => tf.leakyRelu(x, LEAKY_SLOPE),
  relu: (x) => tf.relu(x),
  tanh: (x) => tf.tanh(x),
  concat: (a, b) => tf.concat([a, b], 3),
};

function nativeOps(backend: NativeBackend): Ops {
  const { binding } = backend;
  const T = floatTypeAttr(backend);
  const conv: OpAttr[] = [
    T,
    { name: 'strides', type: binding.TF_ATTR_INT, value: [1, 2, 2, 1] },
    { name: 'padding', type: binding.TF_ATTR_STRING, value: 'SAME' },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'use_cudnn_on_gpu', type: binding.TF_ATTR_BOOL, value: true },
    { name: 'dilations', type: binding.TF_ATTR_INT, value: [1, 1, 1, 1] },
  ];
  const biasAdd: OpAttr[] = [T, { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' }];
  const leaky: OpAttr[] = [T, { name: 'alpha', type: binding.TF_ATTR_FLOAT, value: LEAKY_SLOPE }];
  const concat: OpAttr[] = [T, { name: 'N', type: binding.TF_ATTR_INT, value: 2 }, { name: 'Tidx', type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 }];
  const run = (name: string, attrs: OpAttr[], inputs: tf.Tensor[]) => backend.executeSingleOutput(name, attrs, inputs) as tf.Tensor4D;
  return {
    conv: (x, kernel) => run('Conv2D', conv, [x, kernel]),
    convT: (x, kernel) => run('Conv2DBackpropInput', conv, [tf.tensor1d(doubled(x, kernel.shape[2]), 'int32'), kernel, x]),
    bias: (x, bias) => run('BiasAdd', biasAdd, [x, bias]),
    leakyRelu: (x) => run('LeakyRelu', leaky, [x]),
    relu: (x) => run('Relu', [T], [x]),
    tanh: (x) => run('Tanh', [T], [x]),
    concat: (a, b) => run('ConcatV2', concat, [a, b, tf.scalar(3, 'int32')]),
  };
}
