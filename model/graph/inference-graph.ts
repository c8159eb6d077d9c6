/**
 * The generator in inference form (batch norm folded into each convolution, model/fold.ts) as one
 * graph in a libtensorflow session, for any batch size: the generator definition built with
 * GraphOps. The folded layers are assigned once into session variables. bench/infer.ts compares it
 * with ONNX Runtime and Keras; tests hold ONNX Runtime to it.
 */
import * as tf from '@tensorflow/tfjs';
import { foldLayer, type WeightValues } from '../fold';
import type { GeneratorLayout } from '../layout';
import { generator } from '../networks';
import { GraphOps } from '../ops/graph';
import { GraphBuilder, type Sym } from './builder';
import { GraphSession } from './session';

const INPUT = 'infer/input';
const OUTPUT = 'infer/output';

export class GraphGenerator {
  private readonly session: GraphSession;

  constructor(layout: GeneratorLayout, weights: WeightValues, batchNormEpsilon: number) {
    const g = new GraphBuilder();
    const inits: Array<[string, Float32Array, number[]]> = [];
    const load = (name: string, values: Float32Array, shape: number[]): Sym => {
      const variable = g.variable(name, shape);
      const fed = g.placeholder(`init/${name}`, shape);
      g.identity(fed, `init/${name}/assigned`, [g.assign(variable, fed)]);
      inits.push([`init/${name}`, values, shape]);
      return g.read(variable);
    };
    const ops = new GraphOps(g, {
      kind: 'folded',
      layer: (layer) => {
        const folded = foldLayer(layer, weights, batchNormEpsilon);
        return { kernel: load(`${layer.name}/kernel`, folded.kernel, folded.kernelShape), bias: load(`${layer.name}/bias`, folded.bias, [folded.bias.length]) };
      },
    });
    const input = g.placeholder(INPUT, [-1, layout.imageSize, layout.imageSize, 3]);
    g.identity(generator(ops, layout, input), OUTPUT);

    this.session = new GraphSession(g.nodes);
    try {
      tf.tidy(() => {
        const feeds = inits.map(([name, values, shape]): [string, tf.Tensor] => [name, tf.tensor(values, shape, 'float32')]);
        tf.dispose(this.session.run(feeds, inits.map(([name]) => `${name}/assigned`)));
      });
    } catch (error) {
      this.session.dispose();
      throw error;
    }
  }

  /** [b, s, s, 3] in [-1, 1] -> translated (caller disposes). */
  run(input: tf.Tensor4D): tf.Tensor4D {
    const [output] = this.session.run([[INPUT, input]], [OUTPUT]);
    return output as tf.Tensor4D;
  }

  dispose(): void {
    this.session.dispose();
  }
}
