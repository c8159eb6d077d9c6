// Messages between renderChunk (main thread: inference) and the frame server (decode, partial
// information, compose, encode), which usually runs in a worker thread. Pixels travel as
// transferred ArrayBuffers: moved, never copied.
import { ImageDecodeError, ImageShapeError } from '../imaging/errors';
import type { PartialParamsInput } from '../imaging/partial-params';
import { MissingBinaryError } from '../platform';
import type { EncoderOptions } from './encode';
import { ChunkRangeError, EmptyVideoError, FfmpegError, NotAVideoError } from './errors';
import type { VideoInfo } from './probe';
import type { Rational } from './rational';
import type { PartialMode } from './stable-partial';
import type { StageTimes } from './stage-clock';

/** Everything the frame server needs for one chunk (structured-clonable: no functions, no signal). */
export interface FrameJob {
  videoPath: string;
  video: VideoInfo;
  frameRate: Rational;
  startFrame: number;
  frameCount: number;
  size: number;
  panelCount: 2 | 3;
  partialParams: PartialParamsInput;
  partialMode?: PartialMode;
  startCentres?: readonly number[];
  encoder: Pick<EncoderOptions, 'outPath' | 'crf' | 'preset' | 'outputHeight'>;
  env?: NodeJS.ProcessEnv;
  /** Frames the server may prepare beyond those already encoded (bounds memory). */
  readAhead: number;
}

export type ToServer =
  | { type: 'start'; job: FrameJob }
  /** The network's images for the next frames in order (one translate batch). */
  | { type: 'interpretations'; images: Uint8Array[] }
  | { type: 'finish' }
  | { type: 'abort' };

export type FromServer =
  | { type: 'frame'; index: number; partial: Uint8Array }
  | { type: 'frames-end'; frames: number }
  /** Frames encoded so far, after each interpretations batch. */
  | { type: 'written'; frames: number }
  | { type: 'done'; frames: number; endCentres?: number[]; times: StageTimes }
  | { type: 'aborted' }
  | { type: 'error'; error: SerialisedError };

export interface SerialisedError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export function serialiseError(error: unknown): SerialisedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) if (key !== 'cause' && isPlain(value)) fields[key] = value;
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

/** The error as the frame server threw it: the library's error classes survive the thread boundary. */
export function deserialiseError(e: SerialisedError): Error {
  const f = e.fields as Record<string, never>;
  let error: Error;
  switch (e.name) {
    case 'FfmpegError':
      error = new FfmpegError(f.tool, f.exitCode, f.signal, f.stderrTail);
      break;
    case 'NotAVideoError':
      error = new NotAVideoError(f.file, f.detail);
      break;
    case 'EmptyVideoError':
      error = new EmptyVideoError(f.file, f.detail);
      break;
    case 'ChunkRangeError':
      error = new ChunkRangeError(f.file, f.startFrame, f.frameCount);
      break;
    case 'MissingBinaryError':
      error = new MissingBinaryError(f.binary, f.hint);
      break;
    case 'ImageShapeError':
      error = new ImageShapeError(e.message);
      break;
    case 'ImageDecodeError':
      error = new ImageDecodeError(f.reason, e.message);
      break;
    case 'RangeError':
      error = new RangeError(e.message);
      break;
    default:
      error = new Error(e.message);
      error.name = e.name;
  }
  error.message = e.message;
  if (e.stack) error.stack = e.stack;
  return error;
}

function isPlain(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value);
}
