import type { RgbImage } from '../../imaging/rgb';

export interface CropRect {
  sx: number;
  sy: number;
  side: number;
}

/** The largest centred square of a width x height frame. */
export function centreSquare(width: number, height: number): CropRect {
  const side = Math.min(width, height);
  return { sx: Math.floor((width - side) / 2), sy: Math.floor((height - side) / 2), side };
}

/** centreSquare with even offsets and side, as 4:2:0 camera frames can only be cut (VideoFrame.copyTo's rect). */
export function evenCentreSquare(width: number, height: number): CropRect {
  const side = Math.min(width, height) & ~1;
  return { sx: ((width - side) >> 1) & ~1, sy: ((height - side) >> 1) & ~1, side };
}

/** Canvas RGBA pixels -> RgbImage (alpha dropped). */
export function rgbaToRgb(rgba: Uint8ClampedArray, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, i = 0, o = 0; p < width * height; p++, i += 4, o += 3) {
    data[o] = rgba[i];
    data[o + 1] = rgba[i + 1];
    data[o + 2] = rgba[i + 2];
  }
  return { width, height, data };
}

/** Interleaved RGB values (bytes, or integers 0..255 from a tensor) -> opaque RGBA into `out`. */
export function rgbIntoRgba(rgb: ArrayLike<number>, out: Uint8ClampedArray): void {
  for (let i = 0, o = 0; o < out.length; i += 3, o += 4) {
    out[o] = rgb[i];
    out[o + 1] = rgb[i + 1];
    out[o + 2] = rgb[i + 2];
    out[o + 3] = 255;
  }
}
