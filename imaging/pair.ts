import { ImageShapeError } from './errors';
import { readRgb, writePng, type WritePngOptions } from './pixels';
import { assertRgb, type RgbImage } from './rgb';

/** Places images left to right; all must share one height. */
export function concatHorizontal(images: readonly RgbImage[]): RgbImage {
  if (images.length === 0) throw new ImageShapeError('need at least one image');
  const height = images[0]!.height;
  for (const image of images) {
    assertRgb(image);
    if (image.height !== height) throw new ImageShapeError(`heights differ: ${image.height} vs ${height}`);
  }
  const width = images.reduce((sum, image) => sum + image.width, 0);
  const data = new Uint8Array(width * height * 3);
  const stride = width * 3;
  let left = 0;
  for (const image of images) {
    const rowBytes = image.width * 3;
    for (let y = 0; y < height; y++) {
      data.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), y * stride + left);
    }
    left += rowBytes;
  }
  return { width, height, data };
}

/** The training pair pix2pix reads: A (partial information) on the left, B (photo) on the right. */
export async function composePair(partial: RgbImage, photo: RgbImage, options?: WritePngOptions): Promise<Buffer> {
  if (partial.width !== photo.width || partial.height !== photo.height) {
    throw new ImageShapeError(`pair halves differ: ${partial.width}x${partial.height} vs ${photo.width}x${photo.height}`);
  }
  return writePng(concatHorizontal([partial, photo]), options);
}

/** Inverse of composePair. */
export async function splitPair(png: Buffer | Uint8Array): Promise<{ a: RgbImage; b: RgbImage }> {
  const pair = await readRgb(png);
  if (pair.width % 2 !== 0) throw new ImageShapeError(`pair width ${pair.width} is odd`);
  const half = pair.width / 2;
  return { a: cropColumns(pair, 0, half), b: cropColumns(pair, half, half) };
}

/** Side-by-side composite, e.g. original | interpretation | partial, for rendering. */
export async function composeRow(images: readonly RgbImage[], options?: WritePngOptions): Promise<Buffer> {
  return writePng(concatHorizontal(images), options);
}

function cropColumns(image: RgbImage, left: number, width: number): RgbImage {
  const data = new Uint8Array(width * image.height * 3);
  const rowBytes = width * 3;
  for (let y = 0; y < image.height; y++) {
    const from = (y * image.width + left) * 3;
    data.set(image.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width, height: image.height, data };
}
