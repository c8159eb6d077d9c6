import sharp from 'sharp';
import { MIN_BLUR_SIGMA } from './defaults';
import { assertRgb, type RgbImage } from './rgb';

/** Gaussian blur via libvips. sigma 0 returns the input unchanged (same object). */
export async function blurRgb(image: RgbImage, sigma: number): Promise<RgbImage> {
  if (sigma === 0) return image;
  if (!(sigma >= MIN_BLUR_SIGMA && sigma <= 1000)) throw new RangeError(`blur sigma must be 0 or in ${MIN_BLUR_SIGMA}..1000, got ${sigma}`);
  assertRgb(image);
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .blur(sigma)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
