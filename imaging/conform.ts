import sharp, { type FailOnOptions, type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { ImageDecodeError, toDecodeError } from './errors';
import type { RgbImage } from './rgb';

/** How to pick the square crop: libvips' saliency ("attention") or the geometric centre. */
export type FitStrategy = 'attention' | 'centre';

export interface ConformOptions {
  /** Output side in pixels. Default 256. */
  size?: number;
  /** Default 'attention': flowers are often off-centre in scraped photos. */
  fit?: FitStrategy;
  /** Refuse inputs whose header claims more pixels than this (decompression bombs). Default 40 MP. */
  limitInputPixels?: number;
  /** sharp's failOn: 'warning' (default) also rejects truncated or damaged JPEGs, which would train on grey bands. */
  failOn?: FailOnOptions;
}

export const DEFAULT_CONFORM_SIZE = 256;
export const DEFAULT_LIMIT_INPUT_PIXELS = 40_000_000;

/** Raster photo formats we train on; SVG, PDF and the like are refused rather than rendered. */
const ACCEPTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

/**
 * Turns arbitrary downloaded image bytes into a size x size, 3-channel, 8-bit sRGB PNG:
 * EXIF orientation applied, alpha flattened onto white, cover-cropped to a square.
 * Throws ImageDecodeError for corrupt, unsupported or oversized input.
 */
export async function conformImage(bytes: Buffer | Uint8Array, options: ConformOptions = {}): Promise<Buffer> {
  const pipeline = await conformPipeline(bytes, options);
  try {
    return await pipeline.png().toBuffer();
  } catch (error) {
    throw toDecodeError(error);
  }
}

/** Same as conformImage but returns raw pixels, saving a PNG encode/decode on hot paths. */
export async function conformRgb(bytes: Buffer | Uint8Array, options: ConformOptions = {}): Promise<RgbImage> {
  const pipeline = await conformPipeline(bytes, options);
  try {
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw toDecodeError(error);
  }
}

async function conformPipeline(bytes: Buffer | Uint8Array, options: ConformOptions): Promise<Sharp> {
  const size = options.size ?? DEFAULT_CONFORM_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError(`conform size must be an integer in 1..4096, got ${size}`);
  const inputOptions: SharpOptions = {
    limitInputPixels: options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS,
    failOn: options.failOn ?? 'warning',
    sequentialRead: true,
  };
  await assertAcceptedFormat(bytes, inputOptions);
  const position = (options.fit ?? 'attention') === 'attention' ? sharp.strategy.attention : 'centre';
  return sharp(bytes, inputOptions)
    .rotate()
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .resize(size, size, { fit: 'cover', position })
    .toColourspace('srgb');
}

/** Reads only the header, so the pixel limit and format check happen before any decoding. */
async function assertAcceptedFormat(bytes: Buffer | Uint8Array, inputOptions: SharpOptions): Promise<void> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, inputOptions).metadata();
  } catch (error) {
    throw toDecodeError(error);
  }
  if (!metadata.format || !ACCEPTED_FORMATS.has(metadata.format)) {
    throw new ImageDecodeError('unsupported', `unsupported image format: ${metadata.format ?? 'unknown'}`);
  }
  const limit = inputOptions.limitInputPixels;
  const pixels = (metadata.width ?? 0) * (metadata.height ?? 0);
  if (typeof limit === 'number' && limit > 0 && pixels > limit) {
    throw new ImageDecodeError('too-large', `image too large: ${metadata.width}x${metadata.height} exceeds ${limit} pixels`);
  }
}
