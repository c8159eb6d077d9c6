/**
 * Training pairs in memory, their order and their jitter.
 *
 * Pairs are kept as bytes, already resized to the jitter size (286/256 of the image size, bilinear),
 * so a step only crops, maybe mirrors, and scales to [-1, 1] in one JS pass, then uploads one tensor
 * per half. The same crop and flip apply to both halves of a pair.
 *
 * Order: epoch e visits the pairs in a permutation drawn from (seed, e); the sample at global
 * position p is jittered with draws keyed by (seed, p). So the data-order state is just the cursor
 * (samples consumed), and resuming at a cursor replays exactly what an uninterrupted run would.
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../imaging/rgb';
import type { Batch } from './pix2pix';
import { createPrng, permutation, seedFor } from './random';
import { DatasetError } from './errors';
import { BYTE_TO_UNIT } from './pixels';
export { DatasetError };

export interface ImagePair {
  /** Partial information (what the generator sees). */
  input: RgbImage;
  /** The real photograph (what it should produce). */
  target: RgbImage;
}

export interface JitterOptions {
  enabled: boolean;
  resizeRatio: number;
  mirror: boolean;
}

/** Where in the data a run is: saved with every checkpoint. */
export interface DataOrderState {
  /** Samples consumed so far (steps * batch size). */
  cursor: number;
  seed: number;
  pairCount: number;
}

/** The crop and flip of one sample. */
export interface Jitter {
  x: number;
  y: number;
  flip: boolean;
}

export class PairDataset {
  /** Side of the stored (pre-jitter) images. */
  readonly loadSize: number;
  /** Per pair: loadSize^2 pixels x 6 bytes (input RGB, target RGB interleaved). */
  private readonly pixels: Uint8Array[];
  private epochOrder: { epoch: number; order: Uint32Array } | undefined;

  /** Prefer PairDataset.load for large sets: it yields to the event loop while preparing. */
  constructor(
    pairs: ImagePair[],
    readonly imageSize: number,
    readonly jitter: JitterOptions,
    readonly seed: number,
    prepared?: Uint8Array[],
  ) {
    if (pairs.length === 0) throw new DatasetError('no training pairs');
    this.loadSize = loadSizeOf(imageSize, jitter);
    this.pixels = prepared ?? pairs.map((pair, i) => preparePair(pair, i, imageSize, this.loadSize));
  }

  /** Validates and resizes the pairs, yielding to the event loop every few pairs (heartbeats keep going). */
  static async load(pairs: ImagePair[], imageSize: number, jitter: JitterOptions, seed: number): Promise<PairDataset> {
    if (pairs.length === 0) throw new DatasetError('no training pairs');
    const loadSize = loadSizeOf(imageSize, jitter);
    const prepared: Uint8Array[] = [];
    for (let i = 0; i < pairs.length; i++) {
      prepared.push(preparePair(pairs[i], i, imageSize, loadSize));
      if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    return new PairDataset(pairs, imageSize, jitter, seed, prepared);
  }

  get size(): number {
    return this.pixels.length;
  }

  /** Bytes held (for the memory estimate). */
  get byteLength(): number {
    return this.pixels.reduce((sum, p) => sum + p.byteLength, 0);
  }

  /** Which pair the sample at global position `cursor` is. */
  pairAt(cursor: number): number {
    const epoch = Math.floor(cursor / this.size);
    if (this.epochOrder?.epoch !== epoch) {
      this.epochOrder = { epoch, order: permutation(this.size, seedFor(this.seed, `epoch/${epoch}`)) };
    }
    return this.epochOrder.order[cursor % this.size];
  }

  jitterAt(cursor: number): Jitter {
    const room = this.loadSize - this.imageSize;
    if (!this.jitter.enabled) return { x: 0, y: 0, flip: false };
    const random = createPrng(seedFor(this.seed, `jitter/${cursor}`));
    const x = Math.floor(random() * (room + 1));
    const y = Math.floor(random() * (room + 1));
    return { x, y, flip: this.jitter.mirror && random() < 0.5 };
  }

  /** The batch of `batchSize` samples starting at `cursor`. The caller disposes the tensors. */
  batch(cursor: number, batchSize: number): Batch {
    const s = this.imageSize;
    const plane = s * s * 3;
    const input = new Float32Array(batchSize * plane);
    const target = new Float32Array(batchSize * plane);
    for (let b = 0; b < batchSize; b++) {
      const position = cursor + b;
      this.crop(this.pixels[this.pairAt(position)], this.jitterAt(position), input, target, b * plane);
    }
    return { input: tf.tensor4d(input, [batchSize, s, s, 3]), target: tf.tensor4d(target, [batchSize, s, s, 3]) };
  }

  private crop(source: Uint8Array, jitter: Jitter, input: Float32Array, target: Float32Array, offset: number): void {
    const s = this.imageSize;
    const n = this.loadSize;
    let o = offset;
    for (let row = 0; row < s; row++) {
      const rowStart = ((row + jitter.y) * n + jitter.x) * 6;
      for (let col = 0; col < s; col++) {
        const i = rowStart + (jitter.flip ? s - 1 - col : col) * 6;
        input[o] = source[i] / 127.5 - 1;
        input[o + 1] = source[i + 1] / 127.5 - 1;
        input[o + 2] = source[i + 2] / 127.5 - 1;
        target[o] = source[i + 3] / 127.5 - 1;
        target[o + 1] = source[i + 4] / 127.5 - 1;
        target[o + 2] = source[i + 5] / 127.5 - 1;
        o += 3;
      }
    }
  }
}

function loadSizeOf(imageSize: number, jitter: JitterOptions): number {
  return jitter.enabled ? Math.round(imageSize * jitter.resizeRatio) : imageSize;
}

/** Checks a pair and returns it resized to loadSize, input and target interleaved (6 bytes a pixel). */
function preparePair(pair: ImagePair, index: number, imageSize: number, loadSize: number): Uint8Array {
  for (const [half, image] of [['input', pair.input], ['target', pair.target]] as const) {
    if (image.width !== imageSize || image.height !== imageSize || image.data.length !== imageSize ** 2 * 3) {
      throw new DatasetError(`pair ${index}: ${half} is ${image.width}x${image.height}, expected ${imageSize}x${imageSize} RGB`);
    }
  }
  const both = tf.tidy(() => {
    const halves = [pair.input, pair.target].map((image) => tf.tensor3d(image.data, [imageSize, imageSize, 3], 'int32'));
    let x = tf.concat(halves, 2).toFloat();
    if (loadSize !== imageSize) x = tf.image.resizeBilinear(x as tf.Tensor3D, [loadSize, loadSize], false, true);
    return tf.clipByValue(tf.round(x), 0, 255);
  });
  const bytes = Uint8Array.from(both.dataSync());
  both.dispose();
  return bytes;
}

/** RGB bytes -> [1, h, w, 3] float tensor in [-1, 1] (no jitter): evaluation and inference input. */
export function imageToTensor(images: RgbImage[]): tf.Tensor4D {
  const { width, height } = images[0];
  const data = new Float32Array(images.length * width * height * 3);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height) throw new DatasetError('images in one batch must share their size');
    const offset = b * width * height * 3;
    for (let i = 0; i < image.data.length; i++) data[offset + i] = BYTE_TO_UNIT[image.data[i]];
  });
  return tf.tensor4d(data, [images.length, height, width, 3]);
}

/** [b, h, w, 3] in [-1, 1] -> RGB bytes (rounded, clamped). */
export function tensorToImages(batch: tf.Tensor4D): RgbImage[] {
  const [b, height, width] = batch.shape;
  const values = batch.dataSync();
  const plane = width * height * 3;
  return Array.from({ length: b }, (_, k) => {
    // A clamped array rounds half to even where Math.round rounds half up; for (v + 1) * 127.5 the only
    // exact half is 127.5 (255 has no factor 2), and both round it to 128: same bytes, no branches.
    const clamped = new Uint8ClampedArray(plane);
    for (let i = 0; i < plane; i++) clamped[i] = (values[k * plane + i] + 1) * 127.5;
    return { width, height, data: new Uint8Array(clamped.buffer) };
  });
}

