/**
 * The tensor <-> byte conversions every training batch and every rendered frame go through give the
 * bytes of the plain formulas: round((v + 1) * 127.5) clamped to 0..255 out, byte / 127.5 - 1 in.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { imageToTensor, tensorToImages } from '../model';
import { createPrng } from '../model/random';

describe('tensor <-> byte conversions', () => {
  it('round, clamp and map NaN to 0 exactly as Math.round would', () => {
    const random = createPrng(3);
    const edges = [-1, 0, 1, NaN, -2, 2, -Infinity, Infinity, 0.5 / 127.5, 1 / 255, -1 / 255];
    const exactBytes = Array.from({ length: 256 }, (_, k) => k / 127.5 - 1);
    const values = Float32Array.from([...edges, ...exactBytes, ...Array.from({ length: 3 * 64 * 64 - edges.length - 256 }, () => random() * 2.4 - 1.2)]);
    const [image] = tensorToImages(tf.tensor4d(values, [1, 64, 64, 3]));
    const expected = Array.from(values, (v) => {
      const byte = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
      return Number.isNaN(byte) ? 0 : byte;
    });
    expect(Array.from(image!.data)).toEqual(expected);
  });

  it('maps every byte to byte / 127.5 - 1', () => {
    const bytes = Uint8Array.from({ length: 3 * 256 }, (_, i) => i % 256);
    const tensor = imageToTensor([{ width: 256, height: 1, data: bytes }]);
    expect(Array.from(tensor.dataSync())).toEqual(Array.from(bytes, (b) => Math.fround(b / 127.5 - 1)));
    tensor.dispose();
  });
});
