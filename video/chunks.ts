import { resolve } from 'node:path';
import { ImageShapeError } from '../imaging/errors';
import type { PartialParamsInput } from '../imaging/partial-params';
import { assertRgb, type RgbImage } from '../imaging/rgb';
import { conformFrame } from './conform-frame';
import { coverSize, decodeFrames } from './decode';
import type { EncoderOptions } from './encode';
import { ChunkRangeError } from './errors';
import { FrameClient, type FrameThread } from './frame-client';
import { probeVideo, type ToolOptions, type VideoInfo } from './probe';
import { rationalToNumber, toRational, type Rational } from './rational';
import { StablePartial, type PartialMode } from './stable-partial';
import { StageClock, type StageTimes } from './stage-clock';

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
  /** Where everything but inference runs; default 'worker' (overlapping inference). Same frames either way. */
  frameThread?: FrameThread;
}

export interface RenderChunkResult {
  outPath: string;
  frames: number;
  /** Lab centres after the chunk's last frame: the next chunk's startCentres. Undefined for edges / naive. */
  endCentres?: number[];
  translateCalls: number;
  /** Where the time went: wall ms per stage on the main thread (inference) and on the frame thread. */
  stageTimes: { main: StageTimes; frames: StageTimes };
}

/**
 * Renders one chunk to its own MP4: decode its frames, centre-crop each to size x size, compute
 * stable partial information, translate in batches, compose the panels side by side, encode.
 *
 * Only translate runs on this thread. Everything else runs in a frame worker thread (frame-server.ts)
 * that prepares up to two batches ahead and encodes behind, so ffmpeg and k-means work while
 * inference blocks this thread. Memory stays at about three batches of frames. outPath appears only
 * when the chunk is complete.
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
  signal?.throwIfAborted();
  const clock = new StageClock();
  const client = FrameClient.open(request.frameThread ?? 'worker');
  const onAbort = () => void client.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  client.onWritten = (frames) => request.onProgress?.(frames);
  let translateCalls = 0;
  try {
    client.start({
      videoPath: resolve(videoPath),
      video,
      frameRate,
      startFrame: chunk.startFrame,
      frameCount: chunk.frameCount,
      size,
      panelCount: panels === 'three' ? 3 : 2,
      partialParams: request.partialParams,
      partialMode: request.partialMode,
      startCentres: request.startCentres,
      encoder: { ...request.encoder, outPath: request.outPath },
      env: request.env,
      readAhead: 2 * batchSize,
    });
    let batch: RgbImage[] = [];
    const flush = async () => {
      const interpretations = await clock.time('inference (translate)', () => translate(batch));
      translateCalls++;
      checkInterpretations(interpretations, batch.length, size);
      client.interpretations(interpretations.map((image) => image.data));
      batch = [];
    };
    const frames = client.frames();
    for (;;) {
      const next = await clock.time('wait for frames', () => frames.next());
      if (next.done) break;
      batch.push({ width: size, height: size, data: next.value.partial });
      if (batch.length === batchSize) await flush();
      signal?.throwIfAborted();
    }
    if (batch.length > 0) await flush();
    if (translateCalls === 0) throw new ChunkRangeError(videoPath, chunk.startFrame, chunk.frameCount);
    const done = await clock.time('wait for encoder to finish', () => client.finish());
    return { outPath: resolve(request.outPath), frames: done.frames, endCentres: done.endCentres, translateCalls, stageTimes: { main: clock.times, frames: done.times } };
  } catch (error) {
    await client.abort();
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}

function checkInterpretations(images: RgbImage[], expected: number, size: number): void {
  if (!Array.isArray(images) || images.length !== expected) throw new ImageShapeError(`translate returned ${Array.isArray(images) ? images.length : typeof images} images for ${expected} inputs`);
  for (const image of images) {
    if (image.width !== size || image.height !== size) throw new ImageShapeError(`translate returned a ${image.width}x${image.height} image; the panels are ${size}x${size}`);
    assertRgb(image);
  }
}

export interface ChunkStartsRequest extends ToolOptions {
  videoPath: string;
  chunks: readonly ChunkPlan[];
  size: number;
  partialParams: PartialParamsInput;
  fps?: number | Rational;
  video?: VideoInfo;
  /** Called after each frame of the pass (the caller heartbeats: the pass can take minutes on a long video). */
  onProgress?: (frames: number, of: number) => void;
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
    request.onProgress?.(index + 1, lastStart);
  }
  return starts;
}
