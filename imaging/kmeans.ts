import { DEFAULT_KMEANS_SEED } from './defaults';
import { srgbToLab } from './lab';
import { minCostMatching } from './matching';
import { assertRgb, type RgbImage } from './rgb';
import { createPrng } from './prng';

export interface KmeansOptions {
  /** Number of clusters, 1..255. */
  k: number;
  /** PRNG seed for k-means++; the default makes the same image always give the same clusters. */
  seed?: number;
  /** Upper bound on Lloyd iterations. Default 40; photos usually converge well before. */
  maxIter?: number;
  /**
   * Warm start (Lab, k*3): skip k-means++ and keep cluster i attached to initial centre i,
   * so palette colours stay put across video frames.
   */
  initialCentres?: Float32Array;
}

export interface KmeansResult {
  /** Cluster index per pixel, row-major. */
  labels: Uint8Array;
  /** Lab centre per cluster (k*3). Cold start: sorted by L, then a, then b (dark clusters first). */
  centresLab: Float32Array;
  /** Pixels per cluster. A cluster is empty only if the image has fewer than k distinct colours (or, warm-started, if a colour vanished). */
  sizes: Uint32Array;
  /** Lloyd iterations run. */
  iterations: number;
}

export const DEFAULT_KMEANS_MAX_ITER = 40;

// Clustering runs on a 32x32x32 histogram of quantised colours (each bin represented by the
// exact mean of its pixels) rather than on every pixel: a 256x256 photo has ~1-3k occupied
// bins instead of 65k pixels, so Lloyd iterations cost microseconds. Pixels then take their
// bin's cluster. Quantising to 8 sRGB levels moves cluster boundaries by less than 8 levels.
const BITS = 5;
const SHIFT = 8 - BITS;
const LEVELS = 1 << BITS;
const BIN_COUNT = LEVELS * LEVELS * LEVELS;

interface WeightedColours {
  count: number;
  /** Lab per point, count*3. */
  lab: Float64Array;
  /** Pixels per point. */
  weight: Float64Array;
  /** Histogram bin of each point. */
  bin: Int32Array;
}

export function kmeansColours(image: RgbImage, options: KmeansOptions): KmeansResult {
  assertRgb(image);
  const { k } = options;
  if (!Number.isInteger(k) || k < 1 || k > 255) throw new RangeError(`k must be an integer in 1..255, got ${k}`);
  const maxIter = options.maxIter ?? DEFAULT_KMEANS_MAX_ITER;
  const warm = options.initialCentres;
  if (warm && warm.length !== k * 3) throw new RangeError(`initialCentres must hold k*3 = ${k * 3} values, got ${warm.length}`);

  const points = colourHistogram(image);
  const centres = warm ? Float64Array.from(warm) : kmeansPlusPlus(points, k, createPrng(options.seed ?? DEFAULT_KMEANS_SEED));
  const assignment = new Int32Array(points.count).fill(-1);
  const iterations = lloyd(points, centres, k, assignment, maxIter, !warm);

  const order = warm ? orderByInitialCentres(centres, warm, k) : orderByLab(centres, k);
  return buildResult(image, points, centres, assignment, order, k, iterations);
}

// Scratch tables reused across calls (kmeansColours is synchronous, so calls never overlap).
// histogram holds [count, sumR, sumG, sumB] per bin and is all zero between calls.
const histogram = new Float64Array(BIN_COUNT * 4);
const labelOfBin = new Uint8Array(BIN_COUNT);

function binOf(r: number, g: number, b: number): number {
  return ((r >> SHIFT) << (2 * BITS)) | ((g >> SHIFT) << BITS) | (b >> SHIFT);
}

function colourHistogram(image: RgbImage): WeightedColours {
  const { data } = image;
  let count = 0;
  for (let i = 0; i < data.length; i += 3) {
    const r = data[i], g = data[i + 1], b = data[i + 2];
    const o = binOf(r, g, b) << 2;
    if (histogram[o]++ === 0) count++;
    histogram[o + 1] += r;
    histogram[o + 2] += g;
    histogram[o + 3] += b;
  }

  const lab = new Float64Array(count * 3);
  const weight = new Float64Array(count);
  const binOfPoint = new Int32Array(count);
  let p = 0;
  for (let bin = 0; bin < BIN_COUNT && p < count; bin++) {
    const o = bin << 2;
    const n = histogram[o];
    if (n === 0) continue;
    srgbToLab(histogram[o + 1] / n, histogram[o + 2] / n, histogram[o + 3] / n, lab, p * 3);
    histogram[o] = histogram[o + 1] = histogram[o + 2] = histogram[o + 3] = 0;
    weight[p] = n;
    binOfPoint[p] = bin;
    p++;
  }
  return { count, lab, weight, bin: binOfPoint };
}

function squaredDistance(a: Float64Array, ai: number, b: Float64Array, bi: number): number {
  const dL = a[ai] - b[bi], da = a[ai + 1] - b[bi + 1], db = a[ai + 2] - b[bi + 2];
  return dL * dL + da * da + db * db;
}

/** Greedy k-means++ (as in scikit-learn): each new centre is the best of a few D²-weighted samples. */
function kmeansPlusPlus(points: WeightedColours, k: number, random: () => number): Float64Array {
  const { count, lab, weight } = points;
  const centres = new Float64Array(k * 3);
  const closest = new Float64Array(count);
  const trials = 2 + Math.floor(Math.log(k));

  const first = sampleIndex(weight, null, count, random);
  centres.set(lab.subarray(first * 3, first * 3 + 3), 0);
  let potential = 0;
  for (let i = 0; i < count; i++) {
    closest[i] = squaredDistance(lab, i * 3, centres, 0);
    potential += weight[i] * closest[i];
  }

  for (let c = 1; c < k; c++) {
    let bestIndex = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      // With no spread left (fewer distinct colours than k) fall back to weight-only sampling.
      const candidate = potential > 0 ? sampleIndex(weight, closest, count, random) : sampleIndex(weight, null, count, random);
      let candidatePotential = 0;
      for (let i = 0; i < count; i++) {
        candidatePotential += weight[i] * Math.min(closest[i], squaredDistance(lab, i * 3, lab, candidate * 3));
      }
      if (candidatePotential < bestPotential) {
        bestPotential = candidatePotential;
        bestIndex = candidate;
      }
    }
    centres.set(lab.subarray(bestIndex * 3, bestIndex * 3 + 3), c * 3);
    potential = 0;
    for (let i = 0; i < count; i++) {
      const d = squaredDistance(lab, i * 3, lab, bestIndex * 3);
      if (d < closest[i]) closest[i] = d;
      potential += weight[i] * closest[i];
    }
  }
  return centres;
}

/** Samples i with probability proportional to weight[i] * (scale ? scale[i] : 1). */
function sampleIndex(weight: Float64Array, scale: Float64Array | null, count: number, random: () => number): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += scale ? weight[i] * scale[i] : weight[i];
  let target = random() * total;
  let last = 0;
  for (let i = 0; i < count; i++) {
    const mass = scale ? weight[i] * scale[i] : weight[i];
    if (mass <= 0) continue;
    last = i;
    target -= mass;
    if (target < 0) return i;
  }
  return last; // only reached through floating-point rounding
}

/** Weighted Lloyd iterations; centres and assignment are updated in place. Returns iterations run. */
function lloyd(
  points: WeightedColours,
  centres: Float64Array,
  k: number,
  assignment: Int32Array,
  maxIter: number,
  reseedEmpty: boolean,
): number {
  const { count, lab, weight } = points;
  const sums = new Float64Array(k * 3);
  const mass = new Float64Array(k);
  assignNearest(lab, count, centres, k, assignment);
  let iteration = 0;
  while (iteration < maxIter) {
    iteration++;
    sums.fill(0);
    mass.fill(0);
    for (let i = 0; i < count; i++) {
      const c = assignment[i], w = weight[i];
      mass[c] += w;
      sums[c * 3] += w * lab[i * 3];
      sums[c * 3 + 1] += w * lab[i * 3 + 1];
      sums[c * 3 + 2] += w * lab[i * 3 + 2];
    }
    let reseeded = false;
    for (let c = 0; c < k; c++) {
      if (mass[c] > 0) {
        centres[c * 3] = sums[c * 3] / mass[c];
        centres[c * 3 + 1] = sums[c * 3 + 1] / mass[c];
        centres[c * 3 + 2] = sums[c * 3 + 2] / mass[c];
      } else if (reseedEmpty) {
        reseeded = reseedAtWorstPoint(points, centres, c, assignment) || reseeded;
      }
    }
    const changed = assignNearest(lab, count, centres, k, assignment);
    if (changed === 0 && !reseeded) break;
  }
  return iteration;
}

/** Moves an empty cluster's centre onto the point contributing most error. Returns false if there is none. */
function reseedAtWorstPoint(points: WeightedColours, centres: Float64Array, empty: number, assignment: Int32Array): boolean {
  const { count, lab, weight } = points;
  let worst = -1;
  let worstError = 0;
  for (let i = 0; i < count; i++) {
    const error = weight[i] * squaredDistance(lab, i * 3, centres, assignment[i] * 3);
    if (error > worstError) {
      worstError = error;
      worst = i;
    }
  }
  if (worst < 0) return false;
  centres.set(lab.subarray(worst * 3, worst * 3 + 3), empty * 3);
  return true;
}

/**
 * Assigns each point to its nearest centre (lowest index wins ties); returns how many changed.
 * A point within half the distance from its centre to the next-nearest centre cannot be closer
 * to any other centre (triangle inequality), so most points skip the full scan after a few iterations.
 */
function assignNearest(lab: Float64Array, count: number, centres: Float64Array, k: number, assignment: Int32Array): number {
  const safeRadiusSq = new Float64Array(k).fill(Infinity);
  for (let c = 0; c < k; c++) {
    for (let d = c + 1; d < k; d++) {
      const quarter = squaredDistance(centres, c * 3, centres, d * 3) / 4;
      if (quarter < safeRadiusSq[c]) safeRadiusSq[c] = quarter;
      if (quarter < safeRadiusSq[d]) safeRadiusSq[d] = quarter;
    }
  }
  let changed = 0;
  for (let i = 0; i < count; i++) {
    const L = lab[i * 3], a = lab[i * 3 + 1], b = lab[i * 3 + 2];
    const own = assignment[i];
    if (own >= 0) {
      const dL = L - centres[own * 3], da = a - centres[own * 3 + 1], db = b - centres[own * 3 + 2];
      if (dL * dL + da * da + db * db < safeRadiusSq[own]) continue;
    }
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < k; c++) {
      const dL = L - centres[c * 3], da = a - centres[c * 3 + 1], db = b - centres[c * 3 + 2];
      const d = dL * dL + da * da + db * db;
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    if (own !== best) {
      assignment[i] = best;
      changed++;
    }
  }
  return changed;
}

/** order[newIndex] = oldIndex, sorting centres by L, then a, then b. */
function orderByLab(centres: Float64Array, k: number): Int32Array {
  const order = Array.from({ length: k }, (_, i) => i);
  order.sort((x, y) => centres[x * 3] - centres[y * 3] || centres[x * 3 + 1] - centres[y * 3 + 1] || centres[x * 3 + 2] - centres[y * 3 + 2] || x - y);
  return Int32Array.from(order);
}

/** order[i] = the final cluster matched to initial centre i (minimum total drift). */
function orderByInitialCentres(centres: Float64Array, initial: Float32Array, k: number): Int32Array {
  const cost = new Float64Array(k * k);
  const initial64 = Float64Array.from(initial);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) cost[i * k + j] = squaredDistance(initial64, i * 3, centres, j * 3);
  return minCostMatching(cost, k);
}

function buildResult(
  image: RgbImage,
  points: WeightedColours,
  centres: Float64Array,
  assignment: Int32Array,
  order: Int32Array,
  k: number,
  iterations: number,
): KmeansResult {
  const newIndexOf = new Uint8Array(k);
  const centresLab = new Float32Array(k * 3);
  for (let n = 0; n < k; n++) {
    newIndexOf[order[n]] = n;
    centresLab.set(centres.subarray(order[n] * 3, order[n] * 3 + 3), n * 3);
  }

  const sizes = new Uint32Array(k);
  for (let i = 0; i < points.count; i++) {
    const label = newIndexOf[assignment[i]];
    labelOfBin[points.bin[i]] = label;
    sizes[label] += points.weight[i];
  }

  const { data } = image;
  const labels = new Uint8Array(image.width * image.height);
  for (let i = 0, p = 0; i < data.length; i += 3, p++) {
    labels[p] = labelOfBin[binOf(data[i], data[i + 1], data[i + 2])];
  }
  return { labels, centresLab, sizes, iterations };
}
