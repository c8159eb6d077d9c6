/**
 * The whole pix2pix training step as ONE TensorFlow graph: generator forward, both discriminator
 * passes, both losses, both gradients, both Adam updates and the batch-norm moving averages. It is
 * what Keras's `tf.function` step compiles to, built here from the same networks as the eager step
 * (model/networks.ts), with the same maths:
 *
 * - losses: D = (softplus(-real) + softplus(fake)) / 2 means, G = softplus(-fake) mean + lambda * L1;
 *   their gradients with respect to the logits and the generated image are written out
 *   (sigmoid(x) - label, sign(fake - target)) and the rest comes from the builder's reverse mode;
 * - D's gradient sums its real and fake passes; G's adversarial term sees D before this step's update;
 * - Adam is ResourceApplyAdam per variable (theta, m, v updated in place), bias correction fed per step;
 * - dropout masks are fed per step (drawn in JS from the step's seed, as the eager step draws them).
 *
 * Besides the step, the graph holds per variable an `init/<name>` placeholder whose
 * `init/<name>/assigned` fetch assigns it (restore), and a `value/<name>` read (snapshots).
 */
import type { TrainOptions } from '../options';
import { LEAKY_SLOPE, type BatchNorm, type Conv, type Discriminator, type Generator } from '../networks';
import type { Parameter } from '../params';
import { GraphBuilder, type Sym, type Variable } from './builder';
import { DT, type NodeSpec } from './proto';

/** Names of the fed and fetched tensors of the step. */
export const STEP = {
  input: 'step/input',
  target: 'step/target',
  losses: 'step/losses',
  dropout: (block: number) => `step/dropout_dec${block + 1}`,
  betaPowers: (network: 'g' | 'd') => [`step/${network}_beta1_power`, `step/${network}_beta2_power`] as const,
};

/** Fetch it to set every Adam moment to zero. */
export const ZERO_MOMENTS = 'init/zero_moments';

/** One variable of the graph: a network weight, a moving statistic or an Adam moment. */
export interface GraphVariable {
  /** Graph-wide name: "g/enc1/conv/kernel", "d/d2/bn/gamma/m", ... */
  name: string;
  shape: number[];
  /** The fed placeholder (fetch `${initInput}/assigned` to assign it), and the read that snapshots fetch. */
  initInput: string;
  valueOutput: string;
}

export interface TrainGraph {
  nodes: NodeSpec[];
  variables: GraphVariable[];
  /** Decoder blocks whose dropout mask is fed each step (empty when dropout is 0). */
  dropoutBlocks: Array<{ block: number; shape: number[] }>;
}

export const variableName = (network: 'g' | 'd', parameter: Parameter, moment?: 'm' | 'v') => `${network}/${parameter.name}${moment ? `/${moment}` : ''}`;

export function buildTrainGraph(options: TrainOptions, generator: Generator, discriminator: Discriminator): TrainGraph {
  const g = new GraphBuilder();
  const variables = new Map<string, Variable>();
  const declare = (name: string, shape: number[]) => {
    const variable = g.variable(name, shape);
    variables.set(name, variable);
    return variable;
  };
  for (const [network, params] of [['g', generator.weights], ['d', discriminator.weights]] as const) {
    for (const p of params) {
      declare(variableName(network, p), p.shape);
      if (p.trainable) for (const moment of ['m', 'v'] as const) declare(variableName(network, p, moment), p.shape);
    }
  }

  // Each trainable weight is read once per step; every use (both D passes, both backward walks) shares the read.
  const reads = new Map<string, Sym>();
  const readOf = (network: 'g' | 'd', p: Parameter): Sym => {
    const name = variableName(network, p);
    let read = reads.get(name);
    if (!read) reads.set(name, (read = g.read(variables.get(name)!)));
    return read;
  };
  // Moving statistics are read and updated per pass, each pass after the previous one's update.
  const statUpdates: string[] = [];
  const lastStatUpdate = new Map<string, string>();
  const batchNorm = (network: 'g' | 'd', x: Sym, norm: BatchNorm, net: { batchNormEpsilon: number; batchNormMomentum: number }) => {
    const stat = (p: Parameter) => {
      const name = variableName(network, p);
      const after = lastStatUpdate.get(name);
      return { name, read: g.read(variables.get(name)!, undefined, after ? [after] : []) };
    };
    const mean = stat(norm.movingMean);
    const variance = stat(norm.movingVariance);
    const out = g.batchNormTraining(x, readOf(network, norm.gamma), readOf(network, norm.beta), mean.read, variance.read, net.batchNormEpsilon, 1 - net.batchNormMomentum);
    for (const [s, value] of [[mean, out.newMean], [variance, out.newVariance]] as const) {
      const update = g.assign(variables.get(s.name)!, value);
      lastStatUpdate.set(s.name, update);
      statUpdates.push(update);
    }
    return out.y;
  };
  const convolve = (network: 'g' | 'd', x: Sym, conv: Conv, stride: 1 | 2) => {
    const y = g.conv2d(x, readOf(network, conv.kernel), stride, stride === 1 ? 'VALID' : 'SAME');
    return conv.bias ? g.biasAdd(y, readOf(network, conv.bias)) : y;
  };
  const upsample = (x: Sym, conv: Conv) => {
    const y = g.conv2dTranspose(x, readOf('g', conv.kernel));
    return conv.bias ? g.biasAdd(y, readOf('g', conv.bias)) : y;
  };

  const { batchSize, imageSize } = options;
  const imageShape = [batchSize, imageSize, imageSize, 3];
  const input = g.placeholder(STEP.input, imageShape);
  const target = g.placeholder(STEP.target, imageShape);

  // Generator (as model/networks.ts generate(), training mode).
  const dropoutBlocks: TrainGraph['dropoutBlocks'] = [];
  const skips: Sym[] = [];
  let x = input;
  for (const block of generator.encoder) {
    x = convolve('g', x, block.conv, 2);
    if (block.norm) x = batchNorm('g', x, block.norm, generator.options);
    x = g.leakyRelu(x, LEAKY_SLOPE);
    skips.push(x);
  }
  generator.decoder.forEach((block, j) => {
    x = batchNorm('g', upsample(x, block.conv), block.norm, generator.options);
    if (block.dropout && generator.options.dropout > 0) {
      const shape = [...x.shape];
      dropoutBlocks.push({ block: j, shape });
      x = g.mulConstant(x, g.placeholder(STEP.dropout(j), shape));
    }
    x = g.concatChannels(g.relu(x), skips[skips.length - 2 - j]);
  });
  const fake = g.tanh(upsample(x, generator.output));

  // Discriminator (as discriminate()), on the real pair and then the generated one.
  const discriminate = (image: Sym): Sym => {
    let y = g.concatChannels(input, image);
    for (const block of discriminator.blocks) {
      if (block.stride === 1) y = g.padOne(y);
      y = convolve('d', y, block.conv, block.stride);
      if (block.norm) y = batchNorm('d', y, block.norm, discriminator.options);
      y = g.leakyRelu(y, LEAKY_SLOPE);
    }
    return convolve('d', g.padOne(y), discriminator.output, 1);
  };
  const realLogits = discriminate(target);
  const fakeLogits = discriminate(fake);

  // Losses (model/losses.ts) and their gradients with respect to logits and image.
  const softplusMean = (logits: Sym, label: 0 | 1) => g.mean(g.unary('Softplus', label === 1 ? g.unary('Neg', logits) : logits));
  const dReal = softplusMean(realLogits, 1);
  const dFake = softplusMean(fakeLogits, 0);
  const gGan = softplusMean(fakeLogits, 1);
  const difference = g.binary('Sub', fake, target);
  const gL1 = g.mean(g.unary('Abs', difference));
  const patches = count(realLogits.shape);
  const scaled = (x: Sym, factor: number) => g.binary('Mul', x, g.scalar(factor));
  const sigmoidReal = g.unary('Sigmoid', realLogits);
  const sigmoidFake = g.unary('Sigmoid', fakeLogits);
  const one = g.scalar(1);
  const gradD = g.gradients(
    [
      [realLogits, scaled(g.binary('Sub', sigmoidReal, one), 0.5 / patches)],
      [fakeLogits, scaled(sigmoidFake, 0.5 / patches)],
    ],
    trainable(discriminator.weights).map((p) => readOf('d', p)),
  );
  const gradG = g.gradients(
    [
      [fakeLogits, scaled(g.binary('Sub', sigmoidFake, one), 1 / patches)],
      [fake, scaled(g.unary('Sign', difference), options.lambdaL1 / count(fake.shape))],
    ],
    trainable(generator.weights).map((p) => readOf('g', p)),
  );

  // Adam: one in-place update per weight, after that weight's read.
  const updates: string[] = [];
  const learningRate = g.scalar(options.learningRate);
  const beta1 = g.scalar(options.beta1);
  const beta2 = g.scalar(options.beta2);
  const epsilon = g.scalar(options.adamEpsilon);
  for (const [network, params, grads] of [['g', generator.weights, gradG], ['d', discriminator.weights, gradD]] as const) {
    const [beta1Power, beta2Power] = STEP.betaPowers(network).map((name) => g.placeholder(name, []));
    trainable(params).forEach((p, i) => {
      const handle = (moment?: 'm' | 'v') => variables.get(variableName(network, p, moment))!.handle;
      const read = readOf(network, p);
      updates.push(
        g.node(
          'ResourceApplyAdam',
          [handle(), handle('m'), handle('v'), beta1Power, beta2Power, learningRate, beta1, beta2, epsilon, grads[i]],
          { T: { type: DT.float }, use_locking: { b: false }, use_nesterov: { b: false } },
          undefined,
          [read.ref],
        ),
      );
    });
  }
  g.pack([gGan, gL1, dReal, dFake], STEP.losses, [...updates, ...statUpdates]);

  // A new model's Adam moments: zeros made in the session (no fed copies of every weight's size).
  const zeroAssigns = [...variables.values()]
    .filter((v) => v.name.endsWith('/m') || v.name.endsWith('/v'))
    .map((v) => g.assign(v, { ref: g.node('Fill', [g.int32s(v.shape), g.scalar(0)], { T: { type: DT.float }, index_type: { type: DT.int32 } }), shape: v.shape }));
  g.identity(g.scalar(0), ZERO_MOMENTS, zeroAssigns);

  // Restore and snapshot: per variable, a fed value with an Identity fetched after its assign, and a read.
  const graphVariables: GraphVariable[] = [];
  for (const variable of variables.values()) {
    const initInput = `init/${variable.name}`;
    const valueOutput = `value/${variable.name}`;
    const value = g.placeholder(initInput, variable.shape);
    g.identity(value, `${initInput}/assigned`, [g.assign(variable, value)]);
    g.read(variable, valueOutput);
    graphVariables.push({ name: variable.name, shape: variable.shape, initInput, valueOutput });
  }

  return { nodes: g.nodes, variables: graphVariables, dropoutBlocks };
}

function trainable(params: Parameter[]): Parameter[] {
  return params.filter((p) => p.trainable);
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

