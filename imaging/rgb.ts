import { ImageShapeError } from './errors';

/** 8-bit sRGB pixels, interleaved RGB, row-major, no padding: data.length === width * height * 3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function createRgb(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

export function assertRgb(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageShapeError(`bad image dimensions ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new ImageShapeError(`expected ${width * height * 3} bytes for ${width}x${height} RGB, got ${data.length}`);
  }
}
