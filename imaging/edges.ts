import { DEFAULT_CANNY_HIGH, DEFAULT_CANNY_LOW, DEFAULT_CANNY_SIGMA } from './defaults';
import { gaussianKernel, gaussianSmooth } from './gaussian';
import { assertRgb, type RgbImage } from './rgb';

export interface CannyOptions {
  /**
   * Hysteresis thresholds on gradient magnitude, as fractions of the largest gradient the
   * contrast-stretched image can have (a black-to-white step edge scores 1). Pixels above
   * `high` seed edges; edges extend through pixels above `low`. Defaults 0.06 and 0.15.
   */
  low?: number;
  high?: number;
  /** Gaussian smoothing before differentiation, in pixels. Default 1.4. */
  sigma?: number;
}

/** Canny edge map as an RGB image: white (255) one-pixel edges on black, 3 channels for the network. */
export function edgeImage(image: RgbImage, options: CannyOptions = {}): RgbImage {
  const mask = cannyEdges(image, options);
  const data = new Uint8Array(mask.length * 3);
  for (let p = 0, o = 0; p < mask.length; p++, o += 3) {
    if (mask[p]) data[o] = data[o + 1] = data[o + 2] = 255;
  }
  return { width: image.width, height: image.height, data };
}

/** Canny edge mask (1 = edge), row-major. */
export function cannyEdges(image: RgbImage, options: CannyOptions = {}): Uint8Array {
  assertRgb(image);
  const low = options.low ?? DEFAULT_CANNY_LOW;
  const high = options.high ?? DEFAULT_CANNY_HIGH;
  const sigma = options.sigma ?? DEFAULT_CANNY_SIGMA;
  if (!(low > 0 && low <= high)) throw new RangeError(`need 0 < low <= high, got low=${low} high=${high}`);
  const { width, height } = image;

  const luma = stretchedLuminance(image);
  const smooth = gaussianSmooth(luma, width, height, sigma);
  const { magnitude, direction } = sobel(smooth, width, height);
  const thin = nonMaximumSuppression(magnitude, direction, width, height);
  const scale = fullStepGradient(sigma);
  const edges = hysteresis(thin, width, height, low * scale, high * scale);
  thinToSinglePixel(edges, width, height);
  return edges;
}

/** Rec. 601 luma mapped so the image's darkest pixel is 0 and its brightest 1 (like ImageAdjust). */
function stretchedLuminance(image: RgbImage): Float32Array {
  const { data } = image;
  const luma = new Float32Array(image.width * image.height);
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0, i = 0; p < luma.length; p++, i += 3) {
    const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    luma[p] = y;
    if (y < min) min = y;
    if (y > max) max = y;
  }
  const range = max - min;
  for (let p = 0; p < luma.length; p++) luma[p] = range > 0 ? (luma[p] - min) / range : 0;
  return luma;
}

// Gradient directions, quantised to the neighbour pair that lies across the edge.
const HORIZONTAL = 0; // compare left/right
const DIAGONAL_DOWN = 1; // compare up-left/down-right
const VERTICAL = 2; // compare up/down
const DIAGONAL_UP = 3; // compare up-right/down-left
const TAN_22_5 = Math.SQRT2 - 1;
const TAN_67_5 = Math.SQRT2 + 1;

function sobel(source: Float32Array, width: number, height: number): { magnitude: Float32Array; direction: Uint8Array } {
  const magnitude = new Float32Array(source.length);
  const direction = new Uint8Array(source.length);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const nw = source[p - width - 1], n = source[p - width], ne = source[p - width + 1];
      const w = source[p - 1], e = source[p + 1];
      const sw = source[p + width - 1], s = source[p + width], se = source[p + width + 1];
      const gx = ne + 2 * e + se - nw - 2 * w - sw;
      const gy = sw + 2 * s + se - nw - 2 * n - ne;
      magnitude[p] = Math.sqrt(gx * gx + gy * gy);
      const ax = Math.abs(gx), ay = Math.abs(gy);
      direction[p] = ay <= ax * TAN_22_5 ? HORIZONTAL : ay >= ax * TAN_67_5 ? VERTICAL : gx * gy > 0 ? DIAGONAL_DOWN : DIAGONAL_UP;
    }
  }
  return { magnitude, direction };
}

/** Keeps only pixels that are local maxima across the edge; ties go to one side so plateaus stay one pixel wide. */
function nonMaximumSuppression(magnitude: Float32Array, direction: Uint8Array, width: number, height: number): Float32Array {
  const out = new Float32Array(magnitude.length);
  const offsets = [1, width + 1, width, width - 1]; // indexed by direction
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const m = magnitude[p];
      if (m === 0) continue;
      const o = offsets[direction[p]];
      if (m > magnitude[p - o] && m >= magnitude[p + o]) out[p] = m;
    }
  }
  return out;
}

/** Grows edges from pixels above `high` through 8-connected pixels above `low`. */
function hysteresis(strength: Float32Array, width: number, height: number, low: number, high: number): Uint8Array {
  const edges = new Uint8Array(strength.length);
  const stack = new Int32Array(strength.length);
  let top = 0;
  for (let p = 0; p < strength.length; p++) {
    if (strength[p] < high || edges[p]) continue;
    edges[p] = 1;
    stack[top++] = p;
    while (top > 0) {
      const q = stack[--top];
      const x = q % width;
      const y = (q - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const r = yy * width + xx;
          if (!edges[r] && strength[r] >= low) {
            edges[r] = 1;
            stack[top++] = r;
          }
        }
      }
    }
  }
  return edges;
}

// Neighbour bits, clockwise from north.
const N = 1, NE = 2, E = 4, SE = 8, S = 16, SW = 32, W = 64, NW = 128;

/**
 * REMOVABLE[neighbourhood] = 1 when an edge pixel is redundant for 8-connectivity: it has at least
 * two edge neighbours, they form one 8-connected group without it, and they do not surround it
 * (removing it would open a hole). Endpoints (one neighbour) are never removable.
 */
const REMOVABLE: Uint8Array = (() => {
  const ring = [N, NE, E, SE, S, SW, W, NW];
  const table = new Uint8Array(256);
  for (let pattern = 0; pattern < 256; pattern++) {
    const set = ring.map((bit) => (pattern & bit) !== 0);
    const count = set.filter(Boolean).length;
    const surrounds = (pattern & (N | E | S | W)) === (N | E | S | W);
    table[pattern] = count >= 2 && !surrounds && ringComponents(set) === 1 ? 1 : 0;
  }
  return table;
})();

/** 8-connected groups among the ring positions (N, NE, ..., NW) that are set. */
function ringComponents(set: boolean[]): number {
  // Ring neighbours are adjacent; so are two side (N/E/S/W) pixels either side of a corner.
  const adjacent = (i: number, j: number): boolean => {
    const gap = Math.min((i - j + 8) % 8, (j - i + 8) % 8);
    return gap === 1 || (gap === 2 && i % 2 === 0 && j % 2 === 0);
  };
  const seen = set.map(() => false);
  let components = 0;
  for (let start = 0; start < 8; start++) {
    if (!set[start] || seen[start]) continue;
    components++;
    const queue = [start];
    seen[start] = true;
    while (queue.length > 0) {
      const i = queue.pop()!;
      for (let j = 0; j < 8; j++) {
        if (set[j] && !seen[j] && adjacent(i, j)) {
          seen[j] = true;
          queue.push(j);
        }
      }
    }
  }
  return components;
}

/**
 * NMS leaves 4-connected staircases (corner pixels with three neighbours). One raster pass
 * deletes pixels that are redundant for 8-connectivity, leaving one-pixel-wide lines.
 */
function thinToSinglePixel(edges: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!edges[p]) continue;
      const up = y > 0, down = y < height - 1, left = x > 0, right = x < width - 1;
      const pattern =
        (up && edges[p - width] ? N : 0) |
        (up && right && edges[p - width + 1] ? NE : 0) |
        (right && edges[p + 1] ? E : 0) |
        (down && right && edges[p + width + 1] ? SE : 0) |
        (down && edges[p + width] ? S : 0) |
        (down && left && edges[p + width - 1] ? SW : 0) |
        (left && edges[p - 1] ? W : 0) |
        (up && left && edges[p - width - 1] ? NW : 0);
      if (REMOVABLE[pattern]) edges[p] = 0;
    }
  }
}

/** Peak Sobel magnitude for an ideal 0-to-1 step after smoothing with sigma: the unit of the thresholds. */
function fullStepGradient(sigma: number): number {
  if (sigma <= 0) return 4; // Sobel's [1 2 1] smoothing sums to 4 and the step is 1
  const kernel = gaussianKernel(sigma);
  // Smoothed step s[i] = cumulative kernel; Sobel responds with 4 * (s[i+1] - s[i-1]), largest at the centre.
  const r = (kernel.length - 1) >> 1;
  return 4 * (kernel[r] + (r > 0 ? kernel[r + 1] : 0));
}
