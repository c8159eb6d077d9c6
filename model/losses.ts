/**
 * The pix2pix objective, written once over a few scalar-producing operations: a conditional GAN loss
 * (sigmoid cross-entropy on the discriminator's patch logits) plus lambda * L1 between the generated
 * and the real image. The eager step runs it on tfjs tensors (tfjs differentiates it); the graph step
 * builds it into the graph, and the graph builder's reverse mode differentiates it.
 */
export interface LossOps<T> {
  softplus(x: T): T;
  neg(x: T): T;
  abs(x: T): T;
  sub(a: T, b: T): T;
  /** Sum of two scalars. */
  add(a: T, b: T): T;
  /** x times a constant. */
  scale(x: T, factor: number): T;
  /** Mean over all elements: a scalar. */
  mean(x: T): T;
}

/** Mean sigmoid cross-entropy of logits against an all-`label` target: softplus(-x) for 1, softplus(x) for 0. */
export function ganLoss<T>(ops: LossOps<T>, logits: T, label: 0 | 1): T {
  return ops.mean(ops.softplus(label === 1 ? ops.neg(logits) : logits));
}

export function l1Loss<T>(ops: LossOps<T>, generated: T, target: T): T {
  return ops.mean(ops.abs(ops.sub(generated, target)));
}

export interface Pix2PixLosses<T> {
  /** D's loss on the real pair and on the generated pair. */
  dReal: T;
  dFake: T;
  /** Halved, as in the paper ("we divide the objective by 2 while optimizing D"). */
  d: T;
  gGan: T;
  gL1: T;
  /** gGan + lambda * gL1. */
  g: T;
}

export function pix2pixLosses<T>(ops: LossOps<T>, logits: { real: T; fake: T }, generated: T, target: T, lambdaL1: number): Pix2PixLosses<T> {
  const dReal = ganLoss(ops, logits.real, 1);
  const dFake = ganLoss(ops, logits.fake, 0);
  const gGan = ganLoss(ops, logits.fake, 1);
  const gL1 = l1Loss(ops, generated, target);
  return { dReal, dFake, d: ops.scale(ops.add(dReal, dFake), 0.5), gGan, gL1, g: ops.add(gGan, ops.scale(gL1, lambdaL1)) };
}
