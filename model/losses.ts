/**
 * The pix2pix objective: a conditional GAN loss (sigmoid cross-entropy on the discriminator's patch
 * logits) plus lambda * L1 between the generated and the real image.
 */
import * as tf from '@tensorflow/tfjs';

/** Mean sigmoid cross-entropy of logits against an all-`label` target: softplus(-x) for 1, softplus(x) for 0. */
export function ganLoss(logits: tf.Tensor, label: 0 | 1): tf.Scalar {
  return tf.mean(tf.softplus(label === 1 ? tf.neg(logits) : logits));
}

export function l1Loss(generated: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.mean(tf.abs(tf.sub(generated, target)));
}

export interface DiscriminatorLoss {
  real: tf.Scalar;
  fake: tf.Scalar;
  /** Halved, as in the paper ("we divide the objective by 2 while optimizing D"). */
  total: tf.Scalar;
}

export function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): DiscriminatorLoss {
  const real = ganLoss(realLogits, 1);
  const fake = ganLoss(fakeLogits, 0);
  return { real, fake, total: tf.mul(tf.add(real, fake), 0.5) };
}

export interface GeneratorLoss {
  gan: tf.Scalar;
  l1: tf.Scalar;
  total: tf.Scalar;
}

export function generatorLoss(fakeLogits: tf.Tensor, generated: tf.Tensor, target: tf.Tensor, lambdaL1: number): GeneratorLoss {
  const gan = ganLoss(fakeLogits, 1);
  const l1 = l1Loss(generated, target);
  return { gan, l1, total: tf.add(gan, tf.mul(l1, lambdaL1)) };
}
