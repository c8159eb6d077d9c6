import type { RgbImage } from './rgb';

// sRGB (D65) <-> CIE L*a*b* (D65 white). Distances in Lab approximate perceived colour difference (ΔE76).

const WHITE_X = 0.95047;
const WHITE_Y = 1.0;
const WHITE_Z = 1.08883;
const EPSILON = 216 / 24389; // (6/29)^3
const KAPPA = 24389 / 27;

/** sRGB channel value 0..255 (may be fractional) to linear light 0..1. */
export function srgbToLinear(value: number): number {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

/** Linearisation of every 8-bit value, so per-pixel conversion needs no pow(). */
export const SRGB_TO_LINEAR_LUT: Float64Array = (() => {
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = srgbToLinear(v);
  return lut;
})();

function labF(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

/** Linear-light RGB (0..1) to Lab, written to out[offset..offset+2]. */
export function linearRgbToLab(r: number, g: number, b: number, out: Float32Array | Float64Array, offset: number): void {
  const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / WHITE_X);
  const fy = labF((0.2126729 * r + 0.7151522 * g + 0.072175 * b) / WHITE_Y);
  const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / WHITE_Z);
  out[offset] = 116 * fy - 16;
  out[offset + 1] = 500 * (fx - fy);
  out[offset + 2] = 200 * (fy - fz);
}

/** Linearisation through the lookup table, interpolating between entries for fractional values (e.g. means). */
export function srgbToLinearFast(value: number): number {
  const i = Math.min(254, Math.max(0, Math.floor(value)));
  const lo = SRGB_TO_LINEAR_LUT[i];
  return lo + (value - i) * (SRGB_TO_LINEAR_LUT[i + 1] - lo);
}

/** sRGB 0..255 (fractional allowed) to Lab. */
export function srgbToLab(r: number, g: number, b: number, out: Float32Array | Float64Array, offset = 0): void {
  linearRgbToLab(srgbToLinearFast(r), srgbToLinearFast(g), srgbToLinearFast(b), out, offset);
}

/** Every pixel to Lab (L, a, b interleaved) using the linearisation lookup table. */
export function imageToLab(image: RgbImage): Float32Array {
  const { data } = image;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i += 3) {
    linearRgbToLab(SRGB_TO_LINEAR_LUT[data[i]], SRGB_TO_LINEAR_LUT[data[i + 1]], SRGB_TO_LINEAR_LUT[data[i + 2]], out, i);
  }
  return out;
}

function labFInverse(f: number): number {
  const cube = f * f * f;
  return cube > EPSILON ? cube : (116 * f - 16) / KAPPA;
}

function linearToSrgbByte(c: number): number {
  const v = c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, v)) * 255);
}

/** Lab to 8-bit sRGB (out-of-gamut colours are clipped), written to out[offset..offset+2]. */
export function labToSrgb(L: number, a: number, b: number, out: Uint8Array, offset = 0): void {
  const fy = (L + 16) / 116;
  const x = WHITE_X * labFInverse(fy + a / 500);
  const y = WHITE_Y * labFInverse(fy);
  const z = WHITE_Z * labFInverse(fy - b / 200);
  out[offset] = linearToSrgbByte(3.2404542 * x - 1.5371385 * y - 0.4985314 * z);
  out[offset + 1] = linearToSrgbByte(-0.969266 * x + 1.8760108 * y + 0.041556 * z);
  out[offset + 2] = linearToSrgbByte(0.0556434 * x - 0.2040259 * y + 1.0572252 * z);
}
