/** Why an input image was rejected. None of these get better on retry. */
export type ImageDecodeReason = 'too-large' | 'corrupt' | 'unsupported';

/** Thrown when input bytes cannot (or must not) be decoded into an image. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  readonly reason: ImageDecodeReason;

  constructor(reason: ImageDecodeReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Thrown when pixel buffers do not have the shape an operation needs (a caller bug, not bad input). */
export class ImageShapeError extends Error {
  override readonly name = 'ImageShapeError';
}

/**
 * Maps a sharp/libvips failure to an ImageDecodeError. libvips only reports
 * strings, so this matches on message text; anything unrecognised is 'corrupt'.
 */
export function toDecodeError(error: unknown): ImageDecodeError {
  if (error instanceof ImageDecodeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n')[0] ?? message;
  if (/exceeds pixel limit|exceeds channel limit/i.test(message)) {
    return new ImageDecodeError('too-large', `image too large: ${firstLine}`, { cause: error });
  }
  if (/unsupported image format|not a known file format|no loader|heif: .*(unsupported|plugin)/i.test(message)) {
    return new ImageDecodeError('unsupported', `unsupported image: ${firstLine}`, { cause: error });
  }
  return new ImageDecodeError('corrupt', `corrupt image: ${firstLine}`, { cause: error });
}
