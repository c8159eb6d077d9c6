/**
 * RGB bytes <-> the networks' float inputs and outputs, without tfjs: byte / 127.5 - 1 on the way
 * in, round((y + 1) * 127.5) clamped to 0..255 on the way out. NCHW is ONNX's layout.
 */
import type { RgbImage } from '../imaging/rgb';
import { InferenceInputError } from './errors';

/** byte / 127.5 - 1 for every byte value (the float32 the network sees). */
export const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 127.5 - 1);

/** Images of one size -> [b, 3, h, w] float32 in [-1, 1]. */
export function imagesToNchw(images: readonly RgbImage[]): Float32Array {
  const { width, height } = images[0];
  const plane = width * height;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height) throw new InferenceInputError(`images in one batch must share their size (${width}x${height}, then ${image.width}x${image.height})`);
    const base = b * 3 * plane;
    const data = image.data;
    for (let p = 0, i = 0; p < plane; p++, i += 3) {
      out[base + p] = BYTE_TO_UNIT[data[i]];
      out[base + plane + p] = BYTE_TO_UNIT[data[i + 1]];
      out[base + 2 * plane + p] = BYTE_TO_UNIT[data[i + 2]];
    }
  });
  return out;
}

/** [b, 3, h, w] in [-1, 1] -> RGB bytes (rounded, clamped). */
export function nchwToImages(values: Float32Array, batch: number, height: number, width: number): RgbImage[] {
  const plane = width * height;
  return Array.from({ length: batch }, (_, b) => {
    const base = b * 3 * plane;
    // A clamped array rounds half to even where Math.round rounds half up; for (v + 1) * 127.5 the only
    // exact half is 127.5 (255 has no factor 2), and both round it to 128: same bytes, no branches.
    const clamped = new Uint8ClampedArray(plane * 3);
    for (let p = 0, i = 0; p < plane; p++, i += 3) {
      clamped[i] = (values[base + p] + 1) * 127.5;
      clamped[i + 1] = (values[base + plane + p] + 1) * 127.5;
      clamped[i + 2] = (values[base + 2 * plane + p] + 1) * 127.5;
    }
    return { width, height, data: new Uint8Array(clamped.buffer) };
  });
}
