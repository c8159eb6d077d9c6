// Imaging library: conform, k-means colourise, edges and pairs on the real fixture photos.
// Pure library tests: no servers. Writes visual artefacts to test-artifacts/imaging/.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cannyEdges,
  colouriseClusters,
  composePair,
  composeRow,
  conformImage,
  conformRgb,
  edgeImage,
  ImageDecodeError,
  ImageShapeError,
  kmeansColours,
  readRgb,
  splitPair,
  type RgbImage,
} from '../imaging';

const PHOTOS_DIR = join(__dirname, 'fixtures', 'photos');
const ARTIFACTS_DIR = join(__dirname, '..', 'test-artifacts', 'imaging');
const photoNames = readdirSync(PHOTOS_DIR).filter((name) => name.endsWith('.jpg')).sort();
const photoBytes = new Map(photoNames.map((name) => [name, readFileSync(join(PHOTOS_DIR, name))]));
const conformed = new Map<string, RgbImage>();

beforeAll(async () => {
  for (const name of photoNames) conformed.set(name, await conformRgb(photoBytes.get(name)!));
});

function distinctColours(image: RgbImage): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.data.length; i += 3) seen.add((image.data[i]! << 16) | (image.data[i + 1]! << 8) | image.data[i + 2]!);
  return seen.size;
}

function sameImage(a: RgbImage, b: RgbImage): boolean {
  return a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));
}

function pixel(image: RgbImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

async function decodeError(promise: Promise<unknown>): Promise<ImageDecodeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageDecodeError);
  return error as ImageDecodeError;
}

/** A valid PNG whose header claims width x height but whose data is a few bytes: a decompression bomb's signature. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const typeAndBody = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndBody));
    return Buffer.concat([length, typeAndBody, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const firstRows = deflateSync(Buffer.alloc((width * 3 + 1) * 4));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', firstRows), chunk('IEND', Buffer.alloc(0))]);
}

/** A real JPEG with its frame header edited to claim 60000x60000. */
function jpegClaimingHuge(jpeg: Buffer): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i < out.length - 9; i++) {
    if (out[i] === 0xff && out[i + 1]! >= 0xc0 && out[i + 1]! <= 0xc2) {
      out.writeUInt16BE(60000, i + 5);
      out.writeUInt16BE(60000, i + 7);
      return out;
    }
  }
  throw new Error('no SOF marker');
}

describe('conformImage', () => {
  it.each(photoNames)('makes %s a 256x256 3-channel 8-bit sRGB PNG', async (name) => {
    const png = await conformImage(photoBytes.get(name)!);
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 256, height: 256, channels: 3, depth: 'uchar', space: 'srgb', hasAlpha: false });
  });

  it('honours size and both fit strategies, and conformRgb matches conformImage', async () => {
    const bytes = photoBytes.get(photoNames[0]!)!;
    for (const fit of ['attention', 'centre'] as const) {
      const png = await conformImage(bytes, { size: 128, fit });
      const rgb = await conformRgb(bytes, { size: 128, fit });
      expect(sameImage(await readRgb(png), rgb)).toBe(true);
      expect(rgb.width).toBe(128);
      expect(rgb.height).toBe(128);
    }
  });

  it('crops a portrait image to a square', async () => {
    const portrait = await sharp(photoBytes.get(photoNames[1]!)!).resize(300, 600, { fit: 'fill' }).jpeg().toBuffer();
    for (const fit of ['attention', 'centre'] as const) {
      const meta = await sharp(await conformImage(portrait, { fit })).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([256, 256, 3]);
    }
  });

  it('flattens alpha onto white', async () => {
    // Left half transparent, right half opaque blue.
    const rgba = Buffer.alloc(100 * 100 * 4);
    for (let y = 0; y < 100; y++) for (let x = 50; x < 100; x++) rgba.set([0, 0, 255, 255], (y * 100 + x) * 4);
    const png = await sharp(rgba, { raw: { width: 100, height: 100, channels: 4 } }).png().toBuffer();
    const out = await readRgb(await conformImage(png, { size: 100, fit: 'centre' }));
    expect((await sharp(await conformImage(png)).metadata()).channels).toBe(3);
    expect(pixel(out, 10, 50)).toEqual([255, 255, 255]);
    expect(pixel(out, 90, 50)).toEqual([0, 0, 255]);
  });

  it('applies EXIF orientation', async () => {
    // Stored: left red, right blue. Orientation 6 means "rotate 90° clockwise to display": red on top.
    const raw = Buffer.alloc(64 * 64 * 3);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) raw.set(x < 32 ? [255, 0, 0] : [0, 0, 255], (y * 64 + x) * 3);
    const jpeg = await sharp(raw, { raw: { width: 64, height: 64, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const out = await readRgb(await conformImage(jpeg, { size: 64, fit: 'centre' }));
    expect(pixel(out, 32, 5)[0]).toBeGreaterThan(200);
    expect(pixel(out, 32, 58)[2]).toBeGreaterThan(200);
  });

  it('reduces 16-bit greyscale input to 8-bit sRGB', async () => {
    const grey16 = await sharp(photoBytes.get(photoNames[2]!)!).toColourspace('grey16').png().toBuffer();
    const meta = await sharp(await conformImage(grey16)).metadata();
    expect(meta).toMatchObject({ channels: 3, depth: 'uchar', space: 'srgb' });
  });

  it('accepts the raster formats scrapers meet (WebP, GIF, TIFF, AVIF, CMYK JPEG, greyscale PNG)', async () => {
    const source = sharp(photoBytes.get(photoNames[5]!)!).resize(200, 150);
    const inputs = [
      await source.clone().webp().toBuffer(),
      await source.clone().gif().toBuffer(),
      await source.clone().tiff().toBuffer(),
      await source.clone().avif({ effort: 0 }).toBuffer(),
      await source.clone().toColourspace('cmyk').jpeg().toBuffer(),
      await source.clone().greyscale().png().toBuffer(),
    ];
    for (const input of inputs) {
      const meta = await sharp(await conformImage(input, { size: 64 })).metadata();
      expect([meta.width, meta.height, meta.channels, meta.space]).toEqual([64, 64, 3, 'srgb']);
    }
  });

  it('rejects a decompression bomb (tiny PNG claiming 20000x20000) as too-large', async () => {
    const bomb = pngClaiming(20000, 20000);
    expect(bomb.length).toBeLessThan(2000);
    expect((await decodeError(conformImage(bomb))).reason).toBe('too-large');
  });

  it('rejects a JPEG header claiming 60000x60000 as too-large, and honours a custom limit', async () => {
    expect((await decodeError(conformImage(jpegClaimingHuge(photoBytes.get(photoNames[0]!)!)))).reason).toBe('too-large');
    expect((await decodeError(conformImage(photoBytes.get(photoNames[0]!)!, { limitInputPixels: 100_000 }))).reason).toBe('too-large');
  });

  it('rejects a truncated JPEG as corrupt', async () => {
    const jpeg = photoBytes.get(photoNames[3]!)!;
    expect((await decodeError(conformImage(jpeg.subarray(0, Math.floor(jpeg.length / 2))))).reason).toBe('corrupt');
    expect((await decodeError(conformImage(jpeg.subarray(0, 300)))).reason).toBe('corrupt');
  });

  it('rejects a JPEG with damaged entropy-coded data as corrupt', async () => {
    const damaged = Buffer.from(photoBytes.get(photoNames[4]!)!);
    damaged.fill(0x55, 2000, 4000);
    expect((await decodeError(conformImage(damaged))).reason).toBe('corrupt');
  });

  it('rejects empty input as corrupt and non-images (HTML, random bytes, SVG) as unsupported', async () => {
    expect((await decodeError(conformImage(Buffer.alloc(0)))).reason).toBe('corrupt');
    expect((await decodeError(conformImage(Buffer.from('<!doctype html><title>404</title>')))).reason).toBe('unsupported');
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));
    expect((await decodeError(conformImage(random))).reason).toBe('unsupported');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect((await decodeError(conformImage(svg))).reason).toBe('unsupported');
  });
});

describe('kmeansColours + colouriseClusters', () => {
  it.each(photoNames)('paints %s with exactly k=7 palette colours', (name) => {
    const photo = conformed.get(name)!;
    const clusters = kmeansColours(photo, { k: 7 });
    expect(clusters.centresLab).toHaveLength(21);
    expect(Math.max(...clusters.labels)).toBeLessThan(7);
    expect(Array.from(clusters.sizes).every((size) => size > 0)).toBe(true);
    expect(Array.from(clusters.sizes).reduce((a, b) => a + b)).toBe(256 * 256);
    expect(distinctColours(colouriseClusters(clusters, 256, 256, 'palette'))).toBe(7);
    expect(distinctColours(colouriseClusters(clusters, 256, 256, 'mean'))).toBeLessThanOrEqual(7);
  });

  it('is bit-identical across calls and across separate decodes of the same bytes', async () => {
    const name = photoNames[5]!;
    const first = kmeansColours(conformed.get(name)!, { k: 7 });
    const again = kmeansColours(conformed.get(name)!, { k: 7 });
    const fromFreshDecode = kmeansColours(await conformRgb(Buffer.from(photoBytes.get(name)!)), { k: 7 });
    for (const other of [again, fromFreshDecode]) {
      expect(Buffer.from(other.labels).equals(Buffer.from(first.labels))).toBe(true);
      expect(Buffer.from(other.centresLab.buffer).equals(Buffer.from(first.centresLab.buffer))).toBe(true);
      expect(other.iterations).toBe(first.iterations);
    }
  });

  it('orders cold-started clusters from dark to light', () => {
    for (const photo of conformed.values()) {
      const { centresLab } = kmeansColours(photo, { k: 7 });
      for (let c = 1; c < 7; c++) expect(centresLab[c * 3]!).toBeGreaterThanOrEqual(centresLab[(c - 1) * 3]!);
    }
  });

  it('warm start keeps cluster i attached to initial centre i, even when the start order is shuffled', () => {
    const photo = conformed.get(photoNames[6]!)!;
    const cold = kmeansColours(photo, { k: 7 });
    const permutation = [3, 6, 0, 5, 1, 4, 2];
    const initial = new Float32Array(21);
    permutation.forEach((from, to) => initial.set(cold.centresLab.subarray(from * 3, from * 3 + 3), to * 3));

    const warm = kmeansColours(photo, { k: 7, initialCentres: initial });
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 3; j++) expect(warm.centresLab[i * 3 + j]!).toBeCloseTo(initial[i * 3 + j]!, 1);
    }
    for (let p = 0; p < cold.labels.length; p += 97) expect(permutation[warm.labels[p]!]).toBe(cold.labels[p]);

    // Next "frame": the same scene slightly brighter. Each cluster stays nearest its own previous centre.
    const brighter = { ...photo, data: photo.data.map((v) => Math.min(255, v + 12)) };
    const next = kmeansColours(brighter, { k: 7, initialCentres: warm.centresLab });
    for (let i = 0; i < 7; i++) {
      let nearest = -1;
      let nearestDistance = Infinity;
      for (let j = 0; j < 7; j++) {
        let d = 0;
        for (let c = 0; c < 3; c++) d += (next.centresLab[i * 3 + c]! - warm.centresLab[j * 3 + c]!) ** 2;
        if (d < nearestDistance) [nearest, nearestDistance] = [j, d];
      }
      expect(nearest).toBe(i);
    }
  });

  it('handles images with fewer distinct colours than k, and a flat image', () => {
    const threeColours: RgbImage = { width: 30, height: 10, data: new Uint8Array(900) };
    for (let p = 0; p < 300; p++) threeColours.data.set(p % 3 === 0 ? [250, 10, 10] : p % 3 === 1 ? [10, 250, 10] : [10, 10, 250], p * 3);
    const clusters = kmeansColours(threeColours, { k: 7 });
    expect(Array.from(clusters.sizes).filter((size) => size > 0)).toHaveLength(3);
    expect(distinctColours(colouriseClusters(clusters, 30, 10, 'palette'))).toBe(3);

    const flat: RgbImage = { width: 8, height: 8, data: new Uint8Array(192).fill(128) };
    const one = kmeansColours(flat, { k: 4 });
    expect(distinctColours(colouriseClusters(one, 8, 8, 'mean'))).toBe(1);
    expect(distinctColours(colouriseClusters(kmeansColours(flat, { k: 1 }), 8, 8, 'mean'))).toBe(1);
  });

  it('supports up to 32 palette colours', () => {
    const photo = conformed.get(photoNames[2]!)!;
    expect(distinctColours(colouriseClusters(kmeansColours(photo, { k: 32 }), 256, 256, 'palette'))).toBe(32);
  });

  it('mean paint is close to the photo (lower error than palette paint)', () => {
    const photo = conformed.get(photoNames[0]!)!;
    const clusters = kmeansColours(photo, { k: 7 });
    const error = (image: RgbImage) => image.data.reduce((sum, v, i) => sum + Math.abs(v - photo.data[i]!), 0) / image.data.length;
    const meanError = error(colouriseClusters(clusters, 256, 256, 'mean'));
    expect(meanError).toBeLessThan(20);
    expect(meanError).toBeLessThan(error(colouriseClusters(clusters, 256, 256, 'palette')));
  });

  it('validates its inputs', () => {
    const photo = conformed.get(photoNames[0]!)!;
    expect(() => kmeansColours(photo, { k: 0 })).toThrow(RangeError);
    expect(() => kmeansColours(photo, { k: 3, initialCentres: new Float32Array(6) })).toThrow(RangeError);
    expect(() => kmeansColours({ width: 2, height: 2, data: new Uint8Array(5) }, { k: 2 })).toThrow(ImageShapeError);
    expect(() => colouriseClusters(kmeansColours(photo, { k: 33 }), 256, 256, 'palette')).toThrow(RangeError);
  });
});

describe('edges', () => {
  function neighbourCount(mask: Uint8Array, width: number, height: number, x: number, y: number): number {
    let count = 0;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if ((dx || dy) && xx >= 0 && yy >= 0 && xx < width && yy < height && mask[yy * width + xx]) count++;
      }
    }
    return count;
  }

  it.each(photoNames)('finds thin edges on %s', (name) => {
    const mask = cannyEdges(conformed.get(name)!);
    let edgePixels = 0;
    let thin = 0;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        if (!mask[y * 256 + x]) continue;
        edgePixels++;
        if (neighbourCount(mask, 256, 256, x, y) <= 2) thin++;
      }
    }
    const fraction = edgePixels / (256 * 256);
    expect(fraction).toBeGreaterThan(0.005);
    expect(fraction).toBeLessThan(0.2);
    expect(thin / edgePixels).toBeGreaterThan(0.95);
  });

  it('gives white-on-black 3-channel output, one line for a step edge, nothing for a flat image', () => {
    const step: RgbImage = { width: 64, height: 32, data: new Uint8Array(64 * 32 * 3) };
    for (let y = 0; y < 32; y++) step.data.fill(200, (y * 64 + 32) * 3, (y * 64 + 64) * 3);
    const out = edgeImage(step);
    expect(new Set(out.data)).toEqual(new Set([0, 255]));
    for (let p = 0; p < 64 * 32; p++) expect(out.data[p * 3]).toBe(out.data[p * 3 + 2]);
    for (let y = 2; y < 30; y++) {
      const row = Array.from({ length: 64 }, (_, x) => out.data[(y * 64 + x) * 3]);
      expect(row.filter((v) => v === 255)).toHaveLength(1);
      expect(Math.abs(row.indexOf(255) - 31.5)).toBeLessThanOrEqual(1);
    }
    const flat: RgbImage = { width: 16, height: 16, data: new Uint8Array(768).fill(90) };
    expect(cannyEdges(flat).every((v) => v === 0)).toBe(true);
  });

  it('higher thresholds keep fewer edges', () => {
    const photo = conformed.get(photoNames[3]!)!;
    const count = (low: number, high: number) => cannyEdges(photo, { low, high }).reduce((a, b) => a + b, 0);
    expect(count(0.1, 0.3)).toBeLessThan(count(0.03, 0.08));
    expect(() => cannyEdges(photo, { low: 0.3, high: 0.1 })).toThrow(RangeError);
  });
});

describe('pairs and rows', () => {
  it('composePair/splitPair round-trips an A|B pair', async () => {
    const photo = conformed.get(photoNames[0]!)!;
    const partial = edgeImage(photo);
    const png = await composePair(partial, photo);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 512, 256, 3]);
    const { a, b } = await splitPair(png);
    expect(sameImage(a, partial)).toBe(true);
    expect(sameImage(b, photo)).toBe(true);
  });

  it('composeRow places images side by side and rejects mismatched heights', async () => {
    const photo = conformed.get(photoNames[1]!)!;
    const row = await readRgb(await composeRow([photo, photo, photo]));
    expect([row.width, row.height]).toEqual([768, 256]);
    expect(pixel(row, 512 + 10, 20)).toEqual(pixel(photo, 10, 20));
    const small: RgbImage = { width: 4, height: 4, data: new Uint8Array(48) };
    await expect(composeRow([photo, small])).rejects.toBeInstanceOf(ImageShapeError);
    await expect(composePair(small, photo)).rejects.toBeInstanceOf(ImageShapeError);
  });
});

describe('artefacts', () => {
  it('writes photo | k-means palette | k-means mean | edges for every fixture', async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    for (const name of photoNames) {
      const photo = conformed.get(name)!;
      const clusters = kmeansColours(photo, { k: 7 });
      const row = await composeRow([
        photo,
        colouriseClusters(clusters, 256, 256, 'palette'),
        colouriseClusters(clusters, 256, 256, 'mean'),
        edgeImage(photo),
      ]);
      writeFileSync(join(ARTIFACTS_DIR, name.replace(/\.jpg$/, '.png')), row);
    }
  });
});
