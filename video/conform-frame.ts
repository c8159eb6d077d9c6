import sharp from 'sharp';
import { assertRgb, type RgbImage } from '../imaging/rgb';

/**
 * A decoded frame as the model's square input: centre crop, resized with sharp when the frame's
 * shorter side is not already `size`. The crop is fixed (never saliency-based, unlike conformRgb for
 * photos), so it cannot jump between frames.
 */
export async function conformFrame(frame: RgbImage, size: number): Promise<RgbImage> {
  assertRgb(frame);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  if (Math.min(frame.width, frame.height) === size) return centreCrop(frame, size);
  const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(size, size, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

function centreCrop(frame: RgbImage, size: number): RgbImage {
  if (frame.width === size && frame.height === size) return frame;
  const left = Math.floor((frame.width - size) / 2);
  const top = Math.floor((frame.height - size) / 2);
  const data = new Uint8Array(size * size * 3);
  const rowBytes = size * 3;
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * frame.width + left) * 3;
    data.set(frame.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width: size, height: size, data };
}
