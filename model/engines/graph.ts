/**
 * The graph engine: the whole step as one libtensorflow graph (model/graph/train-graph.ts) in a
 * session (no per-op dispatch from JS, Grappler's rewrites, independent ops in parallel), as Keras's
 * tf.function step runs. Weights and Adam moments live in the session's variables; reads and writes
 * go through per-variable fetches and feeds.
 */
import * as tf from '@tensorflow/tfjs';
import { adamOptions, betaPowers } from '../adam';
import { dropoutMask, dropoutSeedOf } from '../dropout';
import { GraphSession } from '../graph/session';
import { buildTrainGraph, STEP, ZERO_MOMENTS, type GraphVariable, type TrainGraph } from '../graph/train-graph';
import type { StepDefinition, StepEngine, StepInputs } from './engine';

export class GraphEngine implements StepEngine {
  readonly name = 'graph';
  private readonly graph: TrainGraph;
  private readonly session: GraphSession;
  private readonly byName: Map<string, GraphVariable>;

  /** Adam moments start at zero; the caller writes the initial weights before the first step. */
  constructor(private readonly definition: StepDefinition) {
    this.graph = buildTrainGraph(definition);
    this.session = new GraphSession(this.graph.nodes);
    this.byName = new Map(this.graph.variables.map((v) => [v.name, v]));
    tf.dispose(this.session.run([], [ZERO_MOMENTS]));
  }

  step({ batch, dropoutSeed, updates }: StepInputs): tf.Tensor1D {
    const { options } = this.definition;
    return tf.tidy(() => {
      const fed: Array<[string, tf.Tensor]> = [
        [STEP.input, batch.input],
        [STEP.target, batch.target],
      ];
      for (const { layer, shape } of this.graph.dropoutLayers) {
        const mask = dropoutMask(shape.reduce((a, b) => a * b, 1), options.dropout, dropoutSeedOf(dropoutSeed, layer));
        fed.push([STEP.dropout(layer), tf.tensor(mask, shape, 'float32')]);
      }
      for (const network of ['generator', 'discriminator'] as const) {
        const names = STEP.betaPowers(network);
        betaPowers(adamOptions(options), updates[network]).forEach((power, i) => fed.push([names[i], tf.scalar(power)]));
      }
      const [losses] = this.session.run(fed, [STEP.losses]);
      return losses as tf.Tensor1D;
    });
  }

  read(names: readonly string[]): tf.Tensor[] {
    return this.session.run(
      [],
      names.map((name) => this.variable(name).valueOutput),
    );
  }

  write(values: ReadonlyMap<string, Float32Array>): void {
    tf.tidy(() => {
      const feeds: Array<[string, tf.Tensor]> = [...values].map(([name, value]) => {
        const variable = this.variable(name);
        return [variable.initInput, tf.tensor(value, variable.shape, 'float32')];
      });
      // The session runs only what the fetches need: exactly the fed variables' assigns.
      tf.dispose(this.session.run(feeds, feeds.map(([input]) => `${input}/assigned`)));
    });
  }

  dispose(): void {
    this.session.dispose();
  }

  private variable(name: string): GraphVariable {
    const variable = this.byName.get(name);
    if (!variable) throw new Error(`the training graph has no variable ${name}`);
    return variable;
  }
}
