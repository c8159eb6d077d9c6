/**
 * NetworkOps that assemble a tf.layers model: the generator in TensorFlow.js's layers format (the
 * export that `tf.loadLayersModel` reads, used by the camera page's fallback and by anyone who loads
 * the model in tfjs). Inference form: batch norm with moving statistics, dropout inactive.
 *
 * Layer names are fixed by the layout ('enc2_conv', 'enc2_bn', 'enc2_lrelu', ...), so a layer's
 * weights are named `<layer>/<weight>` and an export's model.json is the same bytes every time.
 */
import * as tf from '@tensorflow/tfjs';
import { KERNEL_SIZE, weightNames, type ConvLayer, type GeneratorLayout } from '../layout';
import { generator, type NetworkOps } from '../networks';
import type { BatchNormSettings } from './tfjs';

/** The tf.layers layer names of one of our layers: its convolution, and its batch norm if it has one. */
export function layersModelNames(layer: ConvLayer): { conv: string; batchNorm?: string } {
  return { conv: `${layer.name}_${layer.transposed ? 'convT' : 'conv'}`, ...(layer.after === 'batchNorm' ? { batchNorm: `${layer.name}_bn` } : {}) };
}

class LayersOps implements NetworkOps<tf.SymbolicTensor> {
  /** Each layer with weights, and our names of its weights in the layer's order. */
  readonly weighted: Array<[tf.layers.Layer, string[]]> = [];
  /** Names activations after the layer they follow. */
  private last = 'input';

  constructor(
    private readonly batchNorm: BatchNormSettings,
    private readonly dropoutRate: number,
  ) {}

  conv(x: tf.SymbolicTensor, layer: ConvLayer): tf.SymbolicTensor {
    this.last = layer.name;
    const layerNames = layersModelNames(layer);
    const settings = {
      name: layerNames.conv,
      filters: layer.outChannels,
      kernelSize: KERNEL_SIZE,
      strides: layer.stride,
      padding: layer.padding,
      useBias: layer.after === 'bias',
      kernelInitializer: 'zeros' as const, // overwritten by the weights; skips random init work
    };
    const conv = layer.transposed ? tf.layers.conv2dTranspose(settings) : tf.layers.conv2d(settings);
    const weightOrder = layersModelWeights(layer);
    this.weighted.push([conv, weightOrder.conv]);
    const y = conv.apply(x) as tf.SymbolicTensor;
    if (layer.after === 'bias') return y;
    const norm = tf.layers.batchNormalization({ name: layerNames.batchNorm, ...this.batchNorm });
    this.weighted.push([norm, weightOrder.batchNorm!]);
    return norm.apply(y) as tf.SymbolicTensor;
  }

  dropout(x: tf.SymbolicTensor, layer: ConvLayer): tf.SymbolicTensor {
    return layer.dropout ? this.apply(tf.layers.dropout({ name: `${layer.name}_dropout`, rate: this.dropoutRate }), x) : x;
  }

  leakyRelu = (x: tf.SymbolicTensor, alpha: number) => this.apply(tf.layers.leakyReLU({ name: `${this.last}_lrelu`, alpha }), x);
  relu = (x: tf.SymbolicTensor) => this.apply(tf.layers.reLU({ name: `${this.last}_relu` }), x);
  tanh = (x: tf.SymbolicTensor) => this.apply(tf.layers.activation({ name: `${this.last}_tanh`, activation: 'tanh' }), x);
  concat = (a: tf.SymbolicTensor, b: tf.SymbolicTensor) => tf.layers.concatenate({ name: `${this.last}_skip`, axis: 3 }).apply([a, b]) as tf.SymbolicTensor;
  padOne = (x: tf.SymbolicTensor) => this.apply(tf.layers.zeroPadding2d({ name: `${this.last}_pad`, padding: 1 }), x);

  private apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
    return layer.apply(x) as tf.SymbolicTensor;
  }
}

/** Our names of a layer's weights in the order tf.layers keeps them (kernel, bias; gamma, beta, moving mean, moving variance). */
export function layersModelWeights(layer: ConvLayer): { conv: string[]; batchNorm?: string[] } {
  const names = weightNames(layer);
  return layer.after === 'bias' ? { conv: [names.kernel, names.bias] } : { conv: [names.kernel], batchNorm: [names.gamma, names.beta, names.movingMean, names.movingVariance] };
}

/** The generator as a tf.layers model holding copies of `weights` (caller disposes). */
export function generatorToLayersModel(layout: GeneratorLayout, weights: Map<string, Float32Array>, batchNorm: BatchNormSettings, dropoutRate: number): tf.LayersModel {
  const ops = new LayersOps(batchNorm, dropoutRate);
  const input = tf.input({ shape: [layout.imageSize, layout.imageSize, 3], name: 'partial_information' });
  const model = tf.model({ name: 'bloomsight_pix2pix_generator', inputs: input, outputs: generator(ops, layout, input) });
  for (const [layer, names] of ops.weighted) {
    const values = layer.getWeights().map((w, i) => tf.tensor(weights.get(names[i])!, w.shape, 'float32'));
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}
