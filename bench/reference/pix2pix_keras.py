"""Minimal pix2pix in Keras: the throughput reference for bench/train.ts.

Same architecture as model/networks.ts (U-Net generator with levels derived from the size,
70x70 PatchGAN discriminator, conv -> batch norm -> LeakyReLU blocks, bias only where no batch
norm follows, dropout 0.5 on the first three decoder blocks), same losses (sigmoid cross-entropy
on logits, lambda * L1, discriminator loss halved), Adam 2e-4 / beta1 0.5, one tf.function step
with one generator forward. Data is random: only speed is measured.

Prints one JSON line:
  {"size", "ngf", "ndf", "batch", "train_img_per_s", "infer_img_per_s", "train_steps", "infer_steps",
   "tensorflow", "trace_s", "peak_rss_mb"}

Usage: python pix2pix_keras.py --size 256 --ngf 64 --ndf 64 --batch 1 --seconds 20
"""

import argparse
import json
import math
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

INIT = tf.keras.initializers.RandomNormal(0.0, 0.02)


def down(filters, batchnorm):
    block = tf.keras.Sequential()
    block.add(tf.keras.layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=INIT, use_bias=not batchnorm))
    if batchnorm:
        block.add(tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5))
    block.add(tf.keras.layers.LeakyReLU(0.2))
    return block


def up(filters, dropout):
    block = tf.keras.Sequential()
    block.add(tf.keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=INIT, use_bias=False))
    block.add(tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5))
    if dropout:
        block.add(tf.keras.layers.Dropout(0.5))
    block.add(tf.keras.layers.ReLU())
    return block


def encoder_filters(size, ngf):
    levels = int(math.log2(size))
    return [ngf * min(2**i, 8) for i in range(levels)]


def generator(size, ngf):
    filters = encoder_filters(size, ngf)
    inputs = tf.keras.layers.Input(shape=[size, size, 3])
    x = inputs
    skips = []
    for i, f in enumerate(filters):
        # No batch norm on the first layer (paper) nor on the 1x1 bottleneck (original code).
        x = down(f, batchnorm=0 < i < len(filters) - 1)(x)
        skips.append(x)
    skips = list(reversed(skips[:-1]))
    for i, (skip, f) in enumerate(zip(skips, reversed(filters[:-1]))):
        x = up(f, dropout=i < 3)(x)
        x = tf.keras.layers.Concatenate()([x, skip])
    x = tf.keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", kernel_initializer=INIT, activation="tanh")(x)
    return tf.keras.Model(inputs=inputs, outputs=x)


def discriminator(size, ndf):
    inp = tf.keras.layers.Input(shape=[size, size, 3])
    tar = tf.keras.layers.Input(shape=[size, size, 3])
    x = tf.keras.layers.Concatenate()([inp, tar])
    x = down(ndf, batchnorm=False)(x)
    x = down(ndf * 2, batchnorm=True)(x)
    x = down(ndf * 4, batchnorm=True)(x)
    x = tf.keras.layers.ZeroPadding2D()(x)
    x = tf.keras.layers.Conv2D(ndf * 8, 4, strides=1, kernel_initializer=INIT, use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    x = tf.keras.layers.LeakyReLU(0.2)(x)
    x = tf.keras.layers.ZeroPadding2D()(x)
    x = tf.keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=INIT)(x)
    return tf.keras.Model(inputs=[inp, tar], outputs=x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget per measurement (train, infer)")
    parser.add_argument("--lambda-l1", type=float, default=100.0)
    parser.add_argument("--infer-only", action="store_true", help="measure inference only (bench/infer.ts)")
    parser.add_argument("--matmul", type=int, default=0, help="measure a float32 NxN matmul's GFLOP/s instead (the machine's peak)")
    args = parser.parse_args()
    if args.matmul:
        n = args.matmul
        a, b = tf.random.uniform([n, n]), tf.random.uniform([n, n])
        mm = tf.function(lambda: tf.linalg.matmul(a, b))
        mm().numpy()
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds or runs < 3:
            mm().numpy()
            runs += 1
        print(json.dumps({"matmul": n, "gflops": 2 * n ** 3 * runs / (time.perf_counter() - start) / 1e9, "tensorflow": tf.__version__}))
        return

    G = generator(args.size, args.ngf)
    D = discriminator(args.size, args.ndf)
    g_opt = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(inp, tar):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = G(inp, training=True)
            real_logits = D([inp, tar], training=True)
            fake_logits = D([inp, fake], training=True)
            g_gan = bce(tf.ones_like(fake_logits), fake_logits)
            g_l1 = tf.reduce_mean(tf.abs(tar - fake))
            g_loss = g_gan + args.lambda_l1 * g_l1
            d_loss = 0.5 * (bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits))
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
        return g_loss, d_loss

    @tf.function
    def infer(inp):
        return G(inp, training=False)

    shape = [args.batch, args.size, args.size, 3]
    inp = tf.random.uniform(shape, -1, 1)
    tar = tf.random.uniform(shape, -1, 1)

    t0 = time.perf_counter()
    if not args.infer_only:
        for _ in range(2):  # trace + warm-up
            g_loss, _ = train_step(inp, tar)
        float(g_loss)
    trace_s = time.perf_counter() - t0

    def measure(fn, budget):
        steps, start = 0, time.perf_counter()
        while True:
            result = fn()
            steps += 1
            if time.perf_counter() - start >= budget and steps >= 3:
                break
        _ = [float(tf.reduce_sum(t)) for t in (result if isinstance(result, tuple) else (result,))]
        return steps, time.perf_counter() - start

    train_steps, train_s = measure(lambda: train_step(inp, tar), args.seconds) if not args.infer_only else (0, 1.0)
    infer(inp).numpy()
    infer(inp).numpy()
    infer_steps, infer_s = measure(lambda: infer(inp), args.seconds if args.infer_only else args.seconds / 2)

    print(json.dumps({
        "size": args.size, "ngf": args.ngf, "ndf": args.ndf, "batch": args.batch,
        "train_img_per_s": train_steps * args.batch / train_s,
        "infer_img_per_s": infer_steps * args.batch / infer_s,
        "train_steps": train_steps, "infer_steps": infer_steps,
        "tensorflow": tf.__version__, "trace_s": trace_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
