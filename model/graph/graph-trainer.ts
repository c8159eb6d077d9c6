/**
 * The graph training step in use: builds the graph for a model's networks, loads it into a
 * session, and moves values in and out of its variables by their graph names
 * ("g/enc1/conv/kernel", "d/d2/bn/gamma/m", ...).
 */
import * as tf from '@tensorflow/tfjs';
import type { Discriminator, Generator } from '../networks';
import type { TrainOptions } from '../options';
import { GraphSession } from './session';
import { buildTrainGraph, STEP, ZERO_MOMENTS, type GraphVariable, type TrainGraph } from './train-graph';

export interface GraphStepFeeds {
  input: tf.Tensor4D;
  target: tf.Tensor4D;
  /** Dropout masks by decoder block index (see TrainGraph.dropoutBlocks). */
  dropoutMasks: Map<number, Float32Array>;
  /** beta1^t and beta2^t of each optimiser for this update (t counts from 1). */
  betaPowers: { g: [number, number]; d: [number, number] };
}

export class GraphTrainer {
  readonly graph: TrainGraph;
  private readonly session: GraphSession;
  private readonly byName: Map<string, GraphVariable>;

  constructor(options: TrainOptions, generator: Generator, discriminator: Discriminator) {
    this.graph = buildTrainGraph(options, generator, discriminator);
    this.session = new GraphSession(this.graph.nodes);
    this.byName = new Map(this.graph.variables.map((v) => [v.name, v]));
  }

  get variableNames(): string[] {
    return this.graph.variables.map((v) => v.name);
  }

  /** Assigns the given variables (others keep their values; a new session's must all be given once). */
  assign(values: Map<string, tf.Tensor | Float32Array>): void {
    tf.tidy(() => {
      const feeds: Array<[string, tf.Tensor]> = [];
      for (const [name, value] of values) {
        const variable = this.variable(name);
        feeds.push([variable.initInput, value instanceof Float32Array ? tf.tensor(value, variable.shape, 'float32') : value]);
      }
      // The session runs only what the fetches need: exactly the fed variables' assigns.
      this.session.run(feeds, feeds.map(([input]) => `${input}/assigned`)).forEach((t) => t.dispose());
    });
  }

  /** Sets every Adam moment to zero (a new model). */
  zeroMoments(): void {
    tf.dispose(this.session.run([], [ZERO_MOMENTS]));
  }

  /** One training step; returns [gGan, gL1, dReal, dFake] (caller disposes). */
  step(feeds: GraphStepFeeds): tf.Tensor1D {
    return tf.tidy(() => {
      const fed: Array<[string, tf.Tensor]> = [
        [STEP.input, feeds.input],
        [STEP.target, feeds.target],
      ];
      for (const { block, shape } of this.graph.dropoutBlocks) {
        const mask = feeds.dropoutMasks.get(block);
        if (!mask) throw new Error(`dropout mask for decoder block ${block + 1} missing`);
        fed.push([STEP.dropout(block), tf.tensor(mask, shape, 'float32')]);
      }
      for (const network of ['g', 'd'] as const) {
        const [name1, name2] = STEP.betaPowers(network);
        fed.push([name1, tf.scalar(feeds.betaPowers[network][0])], [name2, tf.scalar(feeds.betaPowers[network][1])]);
      }
      const [losses] = this.session.run(fed, [STEP.losses]);
      return losses as tf.Tensor1D;
    });
  }

  /** Current values of the named variables (caller disposes). */
  read(names: string[]): tf.Tensor[] {
    return this.session.run(
      [],
      names.map((name) => this.variable(name).valueOutput),
    );
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
