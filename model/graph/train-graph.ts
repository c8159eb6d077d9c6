/**
 * The whole pix2pix training step as ONE TensorFlow graph: the forward defined in model/pix2pix.ts
 * (generator, both discriminator passes, both losses) built with GraphOps, both gradients from the
 * builder's reverse mode, both Adam updates and the batch-norm moving averages. It is what Keras's
 * `tf.function` step compiles to.
 *
 * - D's gradient sums its real and fake passes; G's adversarial term sees D before this step's update;
 * - Adam is ResourceApplyAdam per variable (theta, m, v updated in place), b1^t and b2^t fed per step;
 * - dropout masks are fed per step (drawn in JS from the step's seed, as the eager step draws them).
 *
 * Besides the step, the graph holds per variable an `init/<name>` placeholder whose
 * `init/<name>/assigned` fetch assigns it (restore), and a `value/<name>` read (snapshots).
 */
import { allVariables, variableName, type NetworkName, type StepDefinition } from '../engines/engine';
import { GraphOps, graphLossOps, type GraphTrainingMode } from '../ops/graph';
import { GraphBuilder, type Sym, type Variable } from './builder';
import { DT, type NodeSpec } from './proto';

/** Names of the fed and fetched tensors of the step. */
export const STEP = {
  input: 'step/input',
  target: 'step/target',
  losses: 'step/losses',
  dropout: (layer: string) => `step/dropout/${layer}`,
  betaPowers: (network: NetworkName) => [`step/${network}/beta1_power`, `step/${network}/beta2_power`] as const,
};

/** Fetch it to set every Adam moment to zero. */
export const ZERO_MOMENTS = 'init/zero_moments';

/** One variable of the graph: a network weight, a moving statistic or an Adam moment. */
export interface GraphVariable {
  /** 'g/enc1/conv/kernel', 'd/d2/bn/gamma/m', ... (engines/engine.ts variableName) */
  name: string;
  shape: number[];
  /** The fed placeholder (fetch `${initInput}/assigned` to assign it), and the read that snapshots fetch. */
  initInput: string;
  valueOutput: string;
}

export interface TrainGraph {
  nodes: NodeSpec[];
  variables: GraphVariable[];
  /** Layers whose dropout mask is fed each step (none when dropout is 0). */
  dropoutLayers: Array<{ layer: string; shape: number[] }>;
}

export function buildTrainGraph(definition: StepDefinition): TrainGraph {
  const { options, networks } = definition;
  const g = new GraphBuilder();
  const variables = new Map<string, Variable>(allVariables(networks).map(({ name, shape }) => [name, g.variable(name, [...shape])]));
  const variable = (name: string) => variables.get(name)!;

  // Each trainable weight is read once per step; every use (both D passes, both backward walks) shares the read.
  const reads = new Map<string, Sym>();
  const readOf = (name: string): Sym => {
    let read = reads.get(name);
    if (!read) reads.set(name, (read = g.read(variable(name))));
    return read;
  };
  // Moving statistics are read and updated per pass, each pass after the previous one's update.
  const statUpdates: string[] = [];
  const lastStatUpdate = new Map<string, string>();
  const dropoutLayers: TrainGraph['dropoutLayers'] = [];
  const mode = (network: NetworkName): GraphTrainingMode => ({
    kind: 'training',
    weight: (name) => readOf(variableName(network, name)),
    statistic: (name) => {
      const after = lastStatUpdate.get(variableName(network, name));
      return g.read(variable(variableName(network, name)), undefined, after ? [after] : []);
    },
    updateStatistic: (name, value) => {
      const update = g.assign(variable(variableName(network, name)), value);
      lastStatUpdate.set(variableName(network, name), update);
      statUpdates.push(update);
    },
    dropoutMask: (layer, shape) => {
      dropoutLayers.push({ layer: layer.name, shape: [...shape] });
      return g.placeholder(STEP.dropout(layer.name), [...shape]);
    },
    epsilon: options.batchNormEpsilon,
    momentum: options.batchNormMomentum,
  });

  const imageShape = [options.batchSize, options.imageSize, options.imageSize, 3];
  const input = g.placeholder(STEP.input, imageShape);
  const target = g.placeholder(STEP.target, imageShape);
  const ops = { generator: new GraphOps(g, mode('generator')), discriminator: new GraphOps(g, mode('discriminator')), losses: graphLossOps(g) };
  const { losses } = definition.forward(ops, input, target);

  // backward_D and backward_G: reverse mode from each loss to its own network's weights.
  const one = g.scalar(1);
  const trainableReads = (network: NetworkName) => networks[network].trainable.map((w) => readOf(variableName(network, w.name)));
  const grads = {
    discriminator: g.gradients([[losses.d, one]], trainableReads('discriminator')),
    generator: g.gradients([[losses.g, one]], trainableReads('generator')),
  };

  // Adam: one in-place update per weight, after that weight's read.
  const updates: string[] = [];
  const learningRate = g.scalar(options.learningRate);
  const beta1 = g.scalar(options.beta1);
  const beta2 = g.scalar(options.beta2);
  const epsilon = g.scalar(options.adamEpsilon);
  for (const network of ['generator', 'discriminator'] as const) {
    const [beta1Power, beta2Power] = STEP.betaPowers(network).map((name) => g.placeholder(name, []));
    networks[network].trainable.forEach((w, i) => {
      const handle = (moment?: 'm' | 'v') => variable(variableName(network, w.name, moment)).handle;
      const read = readOf(variableName(network, w.name));
      const attrs = { T: { type: DT.float }, use_locking: { b: false }, use_nesterov: { b: false } };
      const inputs = [handle(), handle('m'), handle('v'), beta1Power, beta2Power, learningRate, beta1, beta2, epsilon, grads[network][i]];
      updates.push(g.node('ResourceApplyAdam', inputs, attrs, undefined, [read.ref]));
    });
  }
  g.pack([losses.gGan, losses.gL1, losses.dReal, losses.dFake], STEP.losses, [...updates, ...statUpdates]);

  // A new model's Adam moments: zeros made in the session (no fed copies of every weight's size).
  const zeroAssigns = [...variables.values()]
    .filter((v) => v.name.endsWith('/m') || v.name.endsWith('/v'))
    .map((v) => g.assign(v, { ref: g.node('Fill', [g.int32s(v.shape), g.scalar(0)], { T: { type: DT.float }, index_type: { type: DT.int32 } }), shape: v.shape }));
  g.identity(g.scalar(0), ZERO_MOMENTS, zeroAssigns);

  // Restore and snapshot: per variable, a fed value with an Identity fetched after its assign, and a read.
  const graphVariables: GraphVariable[] = [];
  for (const v of variables.values()) {
    const initInput = `init/${v.name}`;
    const valueOutput = `value/${v.name}`;
    const value = g.placeholder(initInput, v.shape);
    g.identity(value, `${initInput}/assigned`, [g.assign(v, value)]);
    g.read(v, valueOutput);
    graphVariables.push({ name: v.name, shape: v.shape, initInput, valueOutput });
  }
  return { nodes: g.nodes, variables: graphVariables, dropoutLayers };
}
