/**
 * The eager engine: the step as tfjs ops one by one (any backend). Weights and Adam moments are
 * tf.Variables; the forward is recorded once on a gradient tape and walked backwards once per loss
 * (model/gradients.ts), then Adam updates each parameter (model/adam.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { adamOptions, adamUpdate } from '../adam';
import { gradientsFromOneForward } from '../gradients';
import type { Pix2PixLosses } from '../losses';
import { tfjsLossOps, TfjsOps, type TfjsWeights } from '../ops/tfjs';
import { allVariables, variableName, type NetworkName, type StepDefinition, type StepEngine, type StepInputs } from './engine';

export class EagerEngine implements StepEngine {
  readonly name = 'eager';
  private readonly variables = new Map<string, tf.Variable>();

  /** Variables start as zeros: the caller writes the initial weights (and moving variances) before the first step. */
  constructor(private readonly definition: StepDefinition) {
    for (const { name, shape } of allVariables(definition.networks)) {
      this.variables.set(name, tf.tidy(() => tf.variable(tf.zeros([...shape]), false)));
    }
  }

  step({ batch, dropoutSeed, updates }: StepInputs): tf.Tensor1D {
    const { options, networks } = this.definition;
    return tf.tidy(() => {
      const mode = { training: true, dropoutSeed, dropoutRate: options.dropout } as const;
      const settings = { epsilon: options.batchNormEpsilon, momentum: options.batchNormMomentum };
      const ops = {
        generator: new TfjsOps(this.weightsOf('generator'), mode, settings),
        discriminator: new TfjsOps(this.weightsOf('discriminator'), mode, settings),
        losses: tfjsLossOps,
      };
      const params = (network: NetworkName) => networks[network].trainable.map((w) => this.variable(variableName(network, w.name)));
      const { outputs, grads } = gradientsFromOneForward(
        () => ({ ...this.definition.forward<tf.Tensor>(ops, batch.input, batch.target).losses }) as Record<keyof Pix2PixLosses<tf.Tensor>, tf.Scalar>,
        (losses) => [
          { y: losses.d, xs: params('discriminator') }, // backward_D
          { y: losses.g, xs: params('generator') }, // backward_G
        ],
      );
      (['discriminator', 'generator'] as const).forEach((network, k) => {
        networks[network].trainable.forEach((w, i) => {
          const [theta, m, v] = [undefined, 'm' as const, 'v' as const].map((moment) => this.variable(variableName(network, w.name, moment)));
          adamUpdate(theta, m, v, grads[k][i], updates[network], adamOptions(options));
        });
      });
      return tf.stack([outputs.gGan, outputs.gL1, outputs.dReal, outputs.dFake]) as tf.Tensor1D;
    });
  }

  read(names: readonly string[]): tf.Tensor[] {
    return names.map((name) => tf.clone(this.variable(name)));
  }

  write(values: ReadonlyMap<string, Float32Array>): void {
    tf.tidy(() => {
      for (const [name, value] of values) {
        const variable = this.variable(name);
        variable.assign(tf.tensor(value, variable.shape, 'float32'));
      }
    });
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  private weightsOf(network: NetworkName): TfjsWeights {
    return {
      read: (name) => this.variable(variableName(network, name)),
      assign: (name, value) => this.variable(variableName(network, name)).assign(value),
    };
  }

  private variable(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new Error(`the model has no variable ${name}`);
    return variable;
  }
}
