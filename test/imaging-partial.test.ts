// Partial-information registry, params schema/hash, and the small numeric helpers behind k-means.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CATEGORICAL_PALETTE,
  DEFAULT_KMEANS_SEED,
  labToSrgb,
  paletteForK,
  paramsHash,
  partialInformation,
  PartialParamsSchema,
  srgbToLab,
  type RgbImage,
} from '../imaging';
import { minCostMatching } from '../imaging/matching';
import { createPrng } from '../imaging/prng';
import { sha256Hex } from '../imaging/sha256';

function gradientImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const bright = x >= width / 2 ? 150 : 0; // a hard vertical edge for the edge detector
      data[i] = bright + (x * 100) / (width - 1);
      data[i + 1] = bright + (y * 100) / (height - 1);
      data[i + 2] = bright + 50;
    }
  }
  return { width, height, data };
}

function distinctColours(image: RgbImage): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.data.length; i += 3) seen.add((image.data[i]! << 16) | (image.data[i + 1]! << 8) | image.data[i + 2]!);
  return seen.size;
}

describe('PartialParamsSchema', () => {
  it('fills in defaults for each method', () => {
    expect(PartialParamsSchema.parse({ method: 'kmeans' })).toEqual({ method: 'kmeans', k: 7, paint: 'palette', blurSigma: 0, seed: DEFAULT_KMEANS_SEED });
    expect(PartialParamsSchema.parse({ method: 'edges' })).toEqual({ method: 'edges', low: 0.06, high: 0.15, blurSigma: 0 });
  });

  it.each([
    { method: 'kmeans', k: 1 },
    { method: 'kmeans', k: 33 },
    { method: 'kmeans', k: 7.5 },
    { method: 'kmeans', paint: 'rainbow' },
    { method: 'kmeans', blurSigma: 0.1 },
    { method: 'kmeans', blurSigma: -1 },
    { method: 'kmeans', seed: -1 },
    { method: 'kmeans', colours: 7 },
    { method: 'edges', low: 0.3, high: 0.1 },
    { method: 'edges', low: 0 },
    { method: 'edges', k: 7 },
    { method: 'sketch' },
    {},
  ])('rejects %j', (params) => {
    expect(PartialParamsSchema.safeParse(params).success).toBe(false);
  });
});

describe('paramsHash', () => {
  it('is a pinned 16-hex-char id (changing it orphans stored pairs: bump PARTIAL_ALGORITHM_VERSION on purpose)', () => {
    expect(paramsHash({ method: 'kmeans' })).toBe('38d3ef02bc899a52');
    expect(paramsHash({ method: 'edges' })).toBe('bad328dfc52d6990');
  });

  it('ignores defaults and key order, and separates different params', () => {
    const base = paramsHash({ method: 'kmeans' });
    expect(paramsHash({ seed: DEFAULT_KMEANS_SEED, k: 7, method: 'kmeans', paint: 'palette', blurSigma: 0 })).toBe(base);
    const variants = [
      paramsHash({ method: 'kmeans', k: 8 }),
      paramsHash({ method: 'kmeans', paint: 'mean' }),
      paramsHash({ method: 'kmeans', blurSigma: 1 }),
      paramsHash({ method: 'kmeans', seed: 1 }),
      paramsHash({ method: 'edges' }),
      paramsHash({ method: 'edges', high: 0.2 }),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('rejects invalid params', () => {
    expect(() => paramsHash({ method: 'kmeans', k: 99 })).toThrow();
  });

  it('uses a sha256 that matches node:crypto', () => {
    for (const text of ['', 'abc', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'blüte 🌸'.repeat(40)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });

  it('lives in a module that Temporal workflow code can import (no sharp, no node built-ins)', () => {
    const visited = new Set<string>();
    const forbidden: string[] = [];
    const visit = (file: string) => {
      if (visited.has(file)) return;
      visited.add(file);
      const source = readFileSync(file, 'utf8');
      // Type-only imports are erased at compile time and do not count.
      for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm)) {
        const specifier = match[1]!;
        if (specifier.startsWith('.')) visit(resolve(dirname(file), `${specifier}.ts`));
        else if (specifier !== 'zod') forbidden.push(`${file}: ${specifier}`);
      }
    };
    visit(join(__dirname, '..', 'imaging', 'partial-params.ts'));
    expect(forbidden).toEqual([]);
    expect(visited.size).toBeGreaterThan(1);
  });
});

describe('partialInformation', () => {
  const photo = gradientImage(64, 48);

  it('k-means: same size, at most k palette colours, deterministic', async () => {
    const a = await partialInformation(photo, { method: 'kmeans', k: 5 });
    const b = await partialInformation(photo, { method: 'kmeans', k: 5 });
    expect([a.width, a.height, a.data.length]).toEqual([64, 48, 64 * 48 * 3]);
    expect(distinctColours(a)).toBe(5);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    const palette = paletteForK(5);
    const paletteKeys = new Set(Array.from({ length: 5 }, (_, c) => (palette[c * 3]! << 16) | (palette[c * 3 + 1]! << 8) | palette[c * 3 + 2]!));
    for (let i = 0; i < a.data.length; i += 3) expect(paletteKeys.has((a.data[i]! << 16) | (a.data[i + 1]! << 8) | a.data[i + 2]!)).toBe(true);
  });

  it('edges: binary white-on-black, blur applied first changes the result', async () => {
    const sharpEdges = await partialInformation(photo, { method: 'edges' });
    expect(new Set(sharpEdges.data)).toEqual(new Set([0, 255]));
    const blurred = await partialInformation(photo, { method: 'edges', blurSigma: 3 });
    expect(Buffer.from(blurred.data).equals(Buffer.from(sharpEdges.data))).toBe(false);
  });

  it('does not modify the input photo', async () => {
    const before = Buffer.from(photo.data);
    await partialInformation(photo, { method: 'kmeans', blurSigma: 2 });
    await partialInformation(photo, { method: 'edges', blurSigma: 2 });
    expect(Buffer.from(photo.data).equals(before)).toBe(true);
  });
});

describe('colour science and palette', () => {
  it('converts sRGB to Lab (D65) and back', () => {
    const lab = new Float64Array(3);
    srgbToLab(255, 255, 255, lab);
    expect(lab[0]).toBeCloseTo(100, 2);
    expect(Math.abs(lab[1]!) + Math.abs(lab[2]!)).toBeLessThan(0.01);
    srgbToLab(255, 0, 0, lab);
    expect([lab[0], lab[1], lab[2]].map((v) => Math.round(v! * 10) / 10)).toEqual([53.2, 80.1, 67.2]);
    const back = new Uint8Array(3);
    const random = createPrng(7);
    for (let n = 0; n < 200; n++) {
      const rgb = [0, 0, 0].map(() => Math.floor(random() * 256));
      srgbToLab(rgb[0]!, rgb[1]!, rgb[2]!, lab);
      labToSrgb(lab[0]!, lab[1]!, lab[2]!, back);
      expect(Array.from(back)).toEqual(rgb);
    }
  });

  it('has 32 well-separated palette colours, handed out dark to light', () => {
    expect(new Set(CATEGORICAL_PALETTE).size).toBe(32);
    const labs = CATEGORICAL_PALETTE.map((hex) => {
      const v = Number.parseInt(hex.slice(1), 16);
      const lab = new Float64Array(3);
      srgbToLab((v >> 16) & 255, (v >> 8) & 255, v & 255, lab);
      return lab;
    });
    let minDistance = Infinity;
    for (let i = 0; i < labs.length; i++) {
      for (let j = i + 1; j < labs.length; j++) minDistance = Math.min(minDistance, Math.hypot(labs[i]![0]! - labs[j]![0]!, labs[i]![1]! - labs[j]![1]!, labs[i]![2]! - labs[j]![2]!));
    }
    expect(minDistance).toBeGreaterThan(30);

    const seven = paletteForK(7);
    const lightness = Array.from({ length: 7 }, (_, c) => {
      const lab = new Float64Array(3);
      srgbToLab(seven[c * 3]!, seven[c * 3 + 1]!, seven[c * 3 + 2]!, lab);
      return lab[0]!;
    });
    expect([...lightness].sort((a, b) => a - b)).toEqual(lightness);
    expect(() => paletteForK(33)).toThrow(RangeError);
  });
});

describe('helpers', () => {
  it('seeded PRNG repeats its sequence', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const seqA = Array.from({ length: 10 }, a);
    expect(Array.from({ length: 10 }, b)).toEqual(seqA);
    expect(Array.from({ length: 10 }, c)).not.toEqual(seqA);
    expect(seqA.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('minCostMatching finds the optimal assignment (checked by brute force)', () => {
    const random = createPrng(3);
    const permutations = (items: number[]): number[][] =>
      items.length <= 1 ? [items] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + (trial % 6);
      const cost = Float64Array.from({ length: n * n }, () => Math.floor(random() * 100));
      const colOfRow = minCostMatching(cost, n);
      expect(new Set(colOfRow).size).toBe(n);
      const total = (cols: ArrayLike<number>) => Array.from(cols).reduce((sum, col, row) => sum + cost[row * n + col]!, 0);
      const best = Math.min(...permutations(Array.from({ length: n }, (_, i) => i)).map(total));
      expect(total(colOfRow)).toBe(best);
    }
  });
});
