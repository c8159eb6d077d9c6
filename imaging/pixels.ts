import sharp from 'sharp';
import { toDecodeError } from './errors';
import { assertRgb, type RgbImage } from './rgb';

export type { RgbImage };

/** Decodes any image sharp reads (normally our own PNGs) to 8-bit sRGB RGB; alpha is flattened onto white. */
export async function readRgb(bytes: Buffer | Uint8Array): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes)
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw toDecodeError(error);
  }
}

export interface WritePngOptions {
  /** zlib level 0..9; 6 balances size and encode time for photos. */
  compressionLevel?: number;
}

export async function writePng(image: RgbImage, options: WritePngOptions = {}): Promise<Buffer> {
  assertRgb(image);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png({ compressionLevel: options.compressionLevel ?? 6 })
    .toBuffer();
}
