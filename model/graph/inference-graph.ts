/**
 * The folded inference generator (model/inference.ts) as one graph in a libtensorflow session:
 * conv -> bias -> activation per layer, skip connections, tanh; any batch size. The layers' values
 * are assigned once into session variables.
 */
import * as tf from '@tensorflow/tfjs';
import { LEAKY_SLOPE } from '../networks';
import { GraphBuilder, type Sym } from './builder';
import { GraphSession } from './session';

export interface FoldedLayer {
  /** Convolution [k, k, in, out] or transposed convolution [k, k, out, in]. */
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export interface FoldedGenerator {
  encoder: FoldedLayer[];
  decoder: FoldedLayer[];
  output: FoldedLayer;
}

const INPUT = 'infer/input';
const OUTPUT = 'infer/output';

export class GraphGenerator {
  private readonly session: GraphSession;

  /** Copies the layers' values into the session; the caller keeps ownership of `layers`. */
  constructor(layers: FoldedGenerator, imageSize: number) {
    const g = new GraphBuilder();
    const inits: Array<[string, tf.Tensor]> = [];
    const fetches: string[] = [];
    const load = (name: string, value: tf.Tensor): Sym => {
      const variable = g.variable(name, value.shape);
      const fed = g.placeholder(`init/${name}`, value.shape);
      g.identity(fed, `init/${name}/assigned`, [g.assign(variable, fed)]);
      inits.push([`init/${name}`, value]);
      fetches.push(`init/${name}/assigned`);
      return g.read(variable);
    };
    const layer = (name: string, l: FoldedLayer) => ({ kernel: load(`${name}/kernel`, l.kernel), bias: load(`${name}/bias`, l.bias) });
    const encoder = layers.encoder.map((l, i) => layer(`enc${i + 1}`, l));
    const decoder = layers.decoder.map((l, j) => layer(`dec${j + 1}`, l));
    const output = layer('out', layers.output);

    const skips: Sym[] = [];
    let x = g.placeholder(INPUT, [-1, imageSize, imageSize, 3]);
    for (const l of encoder) {
      x = g.leakyRelu(g.biasAdd(g.conv2d(x, l.kernel, 2, 'SAME'), l.bias), LEAKY_SLOPE);
      skips.push(x);
    }
    decoder.forEach((l, j) => {
      x = g.concatChannels(g.relu(g.biasAdd(g.conv2dTranspose(x, l.kernel), l.bias)), skips[skips.length - 2 - j]);
    });
    g.identity(g.tanh(g.biasAdd(g.conv2dTranspose(x, output.kernel), output.bias)), OUTPUT);

    this.session = new GraphSession(g.nodes);
    try {
      tf.dispose(this.session.run(inits, fetches));
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
