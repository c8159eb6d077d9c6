import { ImageShapeError } from '../imaging/errors';
import { concatHorizontal } from '../imaging/pair';
import type { PartialParamsInput } from '../imaging/partial-params';
import type { RgbImage } from '../imaging/rgb';
import { conformFrame } from './conform-frame';
import { coverSize, decodeFrames } from './decode';
import { createEncoder, type EncoderOptions } from './encode';
import { ChunkRangeError } from './errors';
import { probeVideo, type ToolOptions, type VideoInfo } from './probe';
import { rationalToNumber, toRational, type Rational } from './rational';
import { StablePartial, type PartialMode } from './stable-partial';

export interface ChunkPlan {
  index: number;
  startFrame: number;
  frameCount: number;
}

/** Splits frames 0..frameCount-1 into consecutive chunks of chunkSize (the last may be shorter). */
export function planChunks(frameCount: number, chunkSize: number): ChunkPlan[] {
  if (!Number.isInteger(frameCount) || frameCount < 0) throw new RangeError(`frameCount must be a non-negative integer, got ${frameCount}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const chunks: ChunkPlan[] = [];
  for (let startFrame = 0; startFrame < frameCount; startFrame += chunkSize) {
    chunks.push({ index: chunks.length, startFrame, frameCount: Math.min(chunkSize, frameCount - startFrame) });
  }
  return chunks;
}

/** Frames the decoder yields at `frameRate`: the probed count at the video's own rate, else duration x rate. */
export function frameCountAt(video: VideoInfo, frameRate?: number | Rational): number {
  if (frameRate === undefined) return video.frameCount;
  const rate = toRational(frameRate);
  if (rate.num * video.frameRate.den === video.frameRate.num * rate.den) return video.frameCount;
  return Math.max(1, Math.round(video.durationSeconds * rationalToNumber(rate)));
}

/** original | interpretation, or original | interpretation | partial information. */
export type Panels = 'two' | 'three';

/** The network: partial-information images in, interpretations out (same count, same size, same order). */
export type Translate = (partials: RgbImage[]) => Promise<RgbImage[]>;

export interface RenderChunkRequest extends ToolOptions {
  videoPath: string;
  chunk: ChunkPlan;
  /** The model's square input size; output frames are size*panels x size. */
  size: number;
  panels: Panels;
  translate: Translate;
  /** As in the model export's metadata (the preprocessing it was trained with). */
  partialParams: PartialParamsInput;
  /** Lab centres the previous chunk ended with (its endCentres, or chunkStartCentres); cold start when absent. */
  startCentres?: readonly number[];
  outPath: string;
  /** Output (and decode) frame rate; default: the video's. */
  fps?: number | Rational;
  /** Frames per translate call. Default 8. */
  batchSize?: number;
  /** Default 'stable'; 'naive' is for comparisons. */
  partialMode?: PartialMode;
  /** probeVideo's result, to skip probing again. */
  video?: VideoInfo;
  encoder?: Pick<EncoderOptions, 'crf' | 'preset' | 'outputHeight'>;
  /** After each batch is encoded: frames of this chunk done so far (for heartbeats). */
  onProgress?: (framesDone: number) => void;
}

export interface RenderChunkResult {
  outPath: string;
  frames: number;
  /** Lab centres after the chunk's last frame: the next chunk's startCentres. Undefined for edges / naive. */
  endCentres?: number[];
  translateCalls: number;
}

/**
 * Renders one chunk to its own MP4: decode its frames, centre-crop each to size x size, compute
 * stable partial information, translate in batches, compose the panels side by side, encode.
 * Memory stays at about one batch of frames. outPath appears only when the chunk is complete.
 * Throws MissingBinaryError, NotAVideoError, EmptyVideoError, ChunkRangeError, FfmpegError,
 * ImageShapeError (translate returned the wrong number or size of images), whatever translate throws,
 * or the abort reason (ffmpeg is killed and the partial file removed).
 */
export async function renderChunk(request: RenderChunkRequest): Promise<RenderChunkResult> {
  const { videoPath, chunk, size, panels, translate, signal } = request;
  const batchSize = request.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const video = request.video ?? (await probeVideo(videoPath, request));
  const frameRate = request.fps !== undefined ? toRational(request.fps) : video.frameRate;
  const partial = new StablePartial(request.partialParams, { mode: request.partialMode, startCentres: request.startCentres });
  const panelCount = panels === 'three' ? 3 : 2;
  const encoder = await createEncoder({ ...request.encoder, outPath: request.outPath, width: size * panelCount, height: size, frameRate, env: request.env, signal });

  let frames = 0;
  let translateCalls = 0;
  let originals: RgbImage[] = [];
  let partials: RgbImage[] = [];
  const flush = async () => {
    if (partials.length === 0) return;
    const interpretations = await translate(partials);
    translateCalls++;
    checkInterpretations(interpretations, partials.length, size);
    for (let i = 0; i < partials.length; i++) {
      const row = [originals[i]!, interpretations[i]!, ...(panelCount === 3 ? [partials[i]!] : [])];
      await encoder.write(concatHorizontal(row));
    }
    frames += partials.length;
    originals = [];
    partials = [];
    request.onProgress?.(frames);
  };

  try {
    const decoded = decodeFrames(videoPath, {
      video,
      size: coverSize(video, size),
      frameRate,
      startFrame: chunk.startFrame,
      frameCount: chunk.frameCount,
      env: request.env,
      signal,
    });
    for await (const { image } of decoded) {
      const original = await conformFrame(image, size);
      originals.push(original);
      partials.push(await partial.next(original));
      if (partials.length === batchSize) await flush();
    }
    await flush();
    if (frames === 0) throw new ChunkRangeError(videoPath, chunk.startFrame, chunk.frameCount);
    const { path } = await encoder.finish();
    return { outPath: path, frames, endCentres: partial.centres(), translateCalls };
  } catch (error) {
    await encoder.abort();
    throw error;
  }
}

function checkInterpretations(images: RgbImage[], expected: number, size: number): void {
  if (!Array.isArray(images) || images.length !== expected) throw new ImageShapeError(`translate returned ${Array.isArray(images) ? images.length : typeof images} images for ${expected} inputs`);
  for (const image of images) {
    if (image.width !== size || image.height !== size) throw new ImageShapeError(`translate returned a ${image.width}x${image.height} image; the panels are ${size}x${size}`);
  }
}

export interface ChunkStartsRequest extends ToolOptions {
  videoPath: string;
  chunks: readonly ChunkPlan[];
  size: number;
  partialParams: PartialParamsInput;
  fps?: number | Rational;
  video?: VideoInfo;
}

/**
 * The startCentres of every chunk, from one sequential pass over the video without inference or
 * encoding (decode, crop and k-means only: a small fraction of rendering). With them all chunks can
 * render in parallel and give exactly the frames of one sequential render. Entries are undefined for
 * the first chunk and for methods without cluster state (edges).
 */
export async function chunkStartCentres(request: ChunkStartsRequest): Promise<Array<number[] | undefined>> {
  const starts: Array<number[] | undefined> = request.chunks.map(() => undefined);
  const partial = new StablePartial(request.partialParams);
  if (partial.params.method !== 'kmeans' || request.chunks.length <= 1) return starts;
  const video = request.video ?? (await probeVideo(request.videoPath, request));
  const frameRate = request.fps !== undefined ? toRational(request.fps) : video.frameRate;
  const startIndex = new Map(request.chunks.map((chunk, i) => [chunk.startFrame, i]));
  const lastStart = Math.max(...request.chunks.map((chunk) => chunk.startFrame));
  const decoded = decodeFrames(request.videoPath, { video, size: coverSize(video, request.size), frameRate, frameCount: lastStart, env: request.env, signal: request.signal });
  for await (const { index, image } of decoded) {
    await partial.next(await conformFrame(image, request.size));
    const next = startIndex.get(index + 1);
    if (next !== undefined) starts[next] = partial.centres();
  }
  return starts;
}
