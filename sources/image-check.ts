import sharp from 'sharp';
import { sniffImageFormat, type ImageFormat } from './sniff';

/** Why downloaded bytes were not accepted as an image. None of these improve on retry. */
export const IMAGE_REJECTIONS = ['not-an-image', 'too-many-pixels', 'corrupt-image', 'unsupported-image'] as const;
export type ImageRejection = (typeof IMAGE_REJECTIONS)[number];

/**
 * Thrown by readImageHeader / verifyDecodes: 'not-an-image' when the magic bytes match no raster
 * format, 'too-many-pixels' when the header declares more than maxPixels (a decompression bomb is
 * refused here, before any pixel is decoded), 'corrupt-image' when the header or pixel data is
 * broken or truncated, 'unsupported-image' when this build of libvips cannot decode the format
 * (e.g. HEVC-coded HEIC).
 */
export class ImageRejectedError extends Error {
  override readonly name = 'ImageRejectedError';
  constructor(readonly reason: ImageRejection, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/** Format from the magic bytes, dimensions from the header alone. Cheap: no pixel is decoded. */
export async function readImageHeader(bytes: Buffer, maxPixels: number): Promise<ImageHeader> {
  const format = sniffImageFormat(bytes);
  if (!format) throw new ImageRejectedError('not-an-image', `not an image (starts with ${describeStart(bytes)})`);
  let width: number | undefined;
  let height: number | undefined;
  try {
    // No pixel limit here: we want the declared size to judge it ourselves; metadata() never decodes.
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw toRejection(error);
  }
  if (!width || !height) throw new ImageRejectedError('corrupt-image', `${format} header declares no dimensions`);
  if (width * height > maxPixels) {
    throw new ImageRejectedError('too-many-pixels', `${format} header declares ${width}x${height} = ${width * height} pixels, more than ${maxPixels}`);
  }
  return { format, width, height };
}

/**
 * Decodes every pixel (the first frame of an animation) without keeping them: a box-filter
 * shrink of the full-resolution decode to at most 32x32. Shrink-on-load is off so JPEG really
 * decodes at full size; truncated or corrupt data fails here.
 */
export async function verifyDecodes(bytes: Buffer, maxPixels: number): Promise<void> {
  try {
    await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' })
      .resize({ width: 32, height: 32, fit: 'inside', fastShrinkOnLoad: false })
      .raw()
      .toBuffer();
  } catch (error) {
    throw toRejection(error);
  }
}

/** libvips reports only strings: classify by message; anything unrecognised is corrupt. */
function toRejection(error: unknown): ImageRejectedError {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n')[0] ?? message;
  if (/exceeds pixel limit/i.test(message)) return new ImageRejectedError('too-many-pixels', firstLine, { cause: error });
  if (/unsupported image format|not a known file format|no loader|compression format has not been built in|plugin/i.test(message)) {
    return new ImageRejectedError('unsupported-image', firstLine, { cause: error });
  }
  return new ImageRejectedError('corrupt-image', firstLine, { cause: error });
}

function describeStart(bytes: Buffer): string {
  const head = bytes.subarray(0, 16);
  const printable = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return bytes.length === 0 ? 'nothing: empty body' : JSON.stringify(printable);
}
