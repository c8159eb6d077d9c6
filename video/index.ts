/**
 * bloomsight's video library: probe, decode, stable partial information, render chunks, encode and join.
 * Library code: knows nothing of Temporal (the render activities call these functions).
 *
 *   probe.ts           probeVideo: size, rate, frame count, audio, via ffprobe
 *   decode.ts          decodeFrames: raw RGB frames streamed from ffmpeg, any frame range, exact
 *   conform-frame.ts   conformFrame: centre crop to the model's square input
 *   stable-partial.ts  StablePartial: k-means partial information without frame-to-frame flicker
 *   chunks.ts          planChunks, renderChunk (one chunk to one MP4), chunkStartCentres (parallel chunks)
 *   frame-server.ts    everything of a chunk but inference (decode ... encode), run by renderChunk in
 *                      a worker thread (frame-worker.cjs, frame-client.ts, frame-protocol.ts)
 *   stage-clock.ts     StageClock: time per stage, for renderChunk's breakdown
 *   encode.ts          createEncoder / encodeFrames (H.264 MP4), joinChunks (+ original audio), makeGif
 *   stack.ts           stackPanels: panels of several renders side by side in one MP4 (comparisons)
 *   flicker.ts         meanAbsoluteDifference, FlickerMeter
 *   errors.ts          NotAVideoError, EmptyVideoError, FfmpegError, ChunkRangeError
 *   pan-clip.ts        makePanClip: a synthetic panning video from still photos (tests, benchmarks)
 */
export { MissingBinaryError } from '../platform';
export {
  chunkStartCentres,
  frameCountAt,
  planChunks,
  renderChunk,
  type ChunkPlan,
  type ChunkStartsRequest,
  type Panels,
  type RenderChunkRequest,
  type RenderChunkResult,
  type Translate,
} from './chunks';
export { conformFrame } from './conform-frame';
export type { FrameThread } from './frame-client';
export { StageClock, type StageTimes } from './stage-clock';
export { coverSize, decodeFrames, type DecodedFrame, type DecodeOptions } from './decode';
export { createEncoder, encodeFrames, joinChunks, makeGif, type EncoderOptions, type FrameEncoder, type GifOptions, type JoinOptions } from './encode';
export { stackPanels, type StackColumn, type StackRequest } from './stack';
export { ChunkRangeError, EmptyVideoError, FfmpegError, NotAVideoError } from './errors';
export { FlickerMeter, meanAbsoluteDifference } from './flicker';
export { makePanClip, type PanClipOptions } from './pan-clip';
export { probeVideo, type ToolOptions, type VideoInfo } from './probe';
export { formatRational, parseRational, rationalToNumber, toRational, type Rational } from './rational';
export { StablePartial, type PartialMode, type StablePartialOptions } from './stable-partial';
