import { resolve } from 'node:path';
import type { RgbImage } from '../imaging/rgb';
import { ffmpegBinaries } from '../platform';
import { checkExit, startTool } from './process';
import { probeVideo, type ToolOptions, type VideoInfo } from './probe';
import { formatRational, rationalToNumber, toRational, type Rational } from './rational';

export interface DecodeOptions extends ToolOptions {
  /** probeVideo's result for this file; probed when absent. */
  video?: VideoInfo;
  /** Output frame size (default: the video's display size). Frames are stretched to it; see coverSize. */
  size?: { width: number; height: number };
  /** Frame rate to decode at (default: the video's). Frame indices count frames at this rate. */
  frameRate?: number | Rational;
  /** First frame to yield (default 0). */
  startFrame?: number;
  /** How many frames to yield at most (default: to the end). */
  frameCount?: number;
}

export interface DecodedFrame {
  /** Position in the whole video at the decode frame rate, from 0. */
  index: number;
  image: RgbImage;
}

/** Seconds decoded before the wanted frame after a seek, so the rate conversion sees the same neighbours. */
const SEEK_MARGIN_SECONDS = 1;

/**
 * Streams frames as raw RGB from ffmpeg, one at a time (the pipe applies backpressure, so memory
 * stays at about one frame whatever the video's length). Breaking out of the loop or aborting kills ffmpeg.
 *
 * Exactness: frames are put on a constant-rate grid anchored at the video stream's first timestamp
 * (fps filter with start_time, timestamps kept with -copyts), and the wanted range is selected by its
 * position on that grid. A seek only skips ahead to a keyframe well before the range; the grid then
 * pads up to the first decoded frame, so frame n is the same frame whether decoding started at 0 or
 * at a seek point.
 *
 * Throws MissingBinaryError, NotAVideoError / EmptyVideoError (when probing), FfmpegError, or the abort reason.
 */
export async function* decodeFrames(path: string, options: DecodeOptions = {}): AsyncGenerator<DecodedFrame> {
  const { signal } = options;
  const video = options.video ?? (await probeVideo(path, options));
  const { ffmpeg } = await ffmpegBinaries(options.env);
  const rate = options.frameRate !== undefined ? toRational(options.frameRate) : video.frameRate;
  const startFrame = options.startFrame ?? 0;
  const frameCount = options.frameCount;
  if (!Number.isInteger(startFrame) || startFrame < 0) throw new RangeError(`startFrame must be a non-negative integer, got ${startFrame}`);
  if (frameCount !== undefined && (!Number.isInteger(frameCount) || frameCount < 0)) throw new RangeError(`frameCount must be a non-negative integer, got ${frameCount}`);
  const { width, height } = options.size ?? { width: video.width, height: video.height };
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`bad output size ${width}x${height}`);
  if (frameCount === 0) return;

  const tool = startTool(ffmpeg, decodeArgs(path, video, rate, startFrame, frameCount, width, height), { signal });
  const frameBytes = width * height * 3;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let index = startFrame;
  try {
    for await (const chunk of tool.child.stdout! as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          yield { index: index++, image: { width, height, data: frame } };
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    checkExit(tool, await tool.exited, signal);
  } finally {
    await tool.kill();
  }
}

function decodeArgs(path: string, video: VideoInfo, rate: Rational, startFrame: number, frameCount: number | undefined, width: number, height: number): string[] {
  const anchored = video.startTime !== undefined;
  const seekSeconds = startFrame / rationalToNumber(rate) - SEEK_MARGIN_SECONDS;
  const seek = anchored && seekSeconds > 0 ? ['-noaccurate_seek', '-ss', seekSeconds.toFixed(6)] : [];
  const grid = anchored ? `fps=fps=${formatRational(rate)}:start_time=${video.startTime}` : `fps=fps=${formatRational(rate)}`;
  const range = frameCount !== undefined ? `between(n\\,${startFrame}\\,${startFrame + frameCount - 1})` : `gte(n\\,${startFrame})`;
  const filters = [grid, ...(startFrame > 0 || frameCount !== undefined ? [`select=${range}`] : []), `scale=${width}:${height}:flags=bicubic+accurate_rnd+full_chroma_int`, 'format=rgb24'];
  return [
    '-nostdin', '-hide_banner', '-v', 'error',
    '-copyts', ...seek,
    '-i', resolve(path),
    '-map', `0:${video.streamIndex}`,
    '-vf', filters.join(','),
    '-fps_mode', 'passthrough',
    ...(frameCount !== undefined ? ['-frames:v', String(frameCount)] : []),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

/** The size whose shorter side is `side`, keeping the video's aspect ratio: decode at it, then centre-crop. */
export function coverSize(video: Pick<VideoInfo, 'width' | 'height'>, side: number): { width: number; height: number } {
  const scale = side / Math.min(video.width, video.height);
  return { width: Math.max(side, Math.round(video.width * scale)), height: Math.max(side, Math.round(video.height * scale)) };
}
