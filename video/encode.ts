import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertRgb, type RgbImage } from '../imaging/rgb';
import { ImageShapeError } from '../imaging/errors';
import { ffmpegBinaries } from '../platform';
import { FfmpegError } from './errors';
import { checkExit, runTool, startTool } from './process';
import type { ToolOptions } from './probe';
import { formatRational, toRational, type Rational } from './rational';

export interface EncoderOptions extends ToolOptions {
  outPath: string;
  /** Size of every frame written (odd sizes are padded by one pixel: yuv420p needs even sizes). */
  width: number;
  height: number;
  frameRate: number | Rational;
  /** x264 constant rate factor; 18 is visually lossless for most content. */
  crf?: number;
  /** x264 speed preset; 'veryfast' keeps encoding far below inference cost. */
  preset?: string;
  /** Scale the written frames to this height (aspect kept, lanczos) in the encoder; default: as written. */
  outputHeight?: number;
}

export interface FrameEncoder {
  /** Queues one frame; resolves when ffmpeg has accepted it (backpressure). */
  write(frame: RgbImage): Promise<void>;
  /** Closes the stream, waits for ffmpeg, and moves the finished file to outPath. */
  finish(): Promise<{ path: string; frames: number }>;
  /** Kills ffmpeg and removes the partial file. Safe to call more than once. */
  abort(): Promise<void>;
}

/** Frames that may wait in our write buffer before write() applies backpressure. */
const WRITE_AHEAD_FRAMES = 16;

/** Colour tags matching the conversion, so players do not guess BT.601 vs BT.709. */
const BT709 = ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'];

/** The H.264 output every bloomsight video is written with (the rendered chunks and the side-by-side comparisons). */
export function h264OutputArgs(options: Pick<EncoderOptions, 'crf' | 'preset'> = {}): string[] {
  return [
    // One x264 thread: the bytes then depend on nothing but the frames and options (x264's output
    // changes with its thread count, i.e. with the machine's cores), so chunks rendered on different
    // gpu workers join into the same file; and frame threads cost CPU that inference needs.
    '-threads', '1', '-c:v', 'libx264', '-preset', options.preset ?? 'veryfast', '-crf', String(options.crf ?? 18), '-pix_fmt', 'yuv420p', ...BT709,
    '-movflags', '+faststart', '-map_metadata', '-1',
  ];
}

/**
 * An H.264 MP4 writer fed RgbImage frames (libx264, yuv420p, +faststart). ffmpeg writes to a
 * temporary name beside outPath, so outPath only ever holds a complete file.
 * Throws MissingBinaryError; write/finish throw FfmpegError or the abort reason.
 */
export async function createEncoder(options: EncoderOptions): Promise<FrameEncoder> {
  const { width, height, signal } = options;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`bad frame size ${width}x${height}`);
  const { ffmpeg } = await ffmpegBinaries(options.env);
  signal?.throwIfAborted();
  const outPath = resolve(options.outPath);
  const partialPath = partialName(outPath);
  const rate = formatRational(toRational(options.frameRate));
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', rate, '-i', 'pipe:0',
    '-vf', `${options.outputHeight ? `scale=-2:${options.outputHeight}:flags=lanczos,` : ''}pad=ceil(iw/2)*2:ceil(ih/2)*2,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p`,
    ...h264OutputArgs(options), '-f', 'mp4', partialPath,
  ];
  const tool = startTool(ffmpeg, args, { signal, stdin: true });
  const stdin = tool.child.stdin!;
  let pipeError: Error | undefined;
  stdin.on('error', (error) => {
    pipeError = error; // EPIPE when ffmpeg died; its exit status says why
  });
  let frames = 0;
  let settled = false;

  const failure = async (): Promise<never> => {
    settled = true;
    const exit = await tool.exited;
    await rm(partialPath, { force: true });
    checkExit(tool, exit, signal);
    throw new FfmpegError('ffmpeg', exit.code, exit.signal, tool.stderrTail() || `stopped reading frames (${pipeError?.message ?? 'exited early'})`);
  };

  return {
    async write(frame) {
      assertRgb(frame);
      if (frame.width !== width || frame.height !== height) throw new ImageShapeError(`encoder takes ${width}x${height} frames, got ${frame.width}x${frame.height}`);
      if (settled) throw new Error('encoder already finished or aborted');
      if (pipeError || tool.child.exitCode !== null || signal?.aborted) return failure();
      frames++;
      stdin.write(frame.data);
      // Let a few frames queue up before waiting: the caller gets back to decoding and inference
      // while libuv feeds ffmpeg, instead of stalling once per frame on a 64 KiB pipe.
      if (stdin.writableLength > WRITE_AHEAD_FRAMES * frame.data.length) {
        const outcome = await Promise.race([once(stdin, 'drain').then(() => 'drained' as const), tool.exited.then(() => 'exited' as const)]);
        if (outcome === 'exited') return failure();
      }
    },
    async finish() {
      if (settled) throw new Error('encoder already finished or aborted');
      settled = true;
      stdin.end();
      const exit = await tool.exited;
      try {
        checkExit(tool, exit, signal);
      } catch (error) {
        await rm(partialPath, { force: true });
        throw error;
      }
      await rename(partialPath, outPath);
      return { path: outPath, frames };
    },
    async abort() {
      settled = true;
      stdin.destroy();
      await tool.kill();
      await rm(partialPath, { force: true });
    },
  };
}

/** Writes all frames of an iterable to one MP4 (aborting the encoder if the source throws). */
export async function encodeFrames(frames: AsyncIterable<RgbImage> | Iterable<RgbImage>, options: EncoderOptions): Promise<{ path: string; frames: number }> {
  const encoder = await createEncoder(options);
  try {
    for await (const frame of frames) await encoder.write(frame);
    return await encoder.finish();
  } catch (error) {
    await encoder.abort();
    throw error;
  }
}

export interface JoinOptions extends ToolOptions {
  /** The original video: its audio (if any) is added, re-encoded to AAC and cut to the video's length. */
  audioFrom?: string;
}

/**
 * Concatenates chunk MP4s, in the given order, without re-encoding video (concat demuxer, -c copy);
 * the chunks must share size, rate and encoder settings (renderChunk's do).
 * Throws MissingBinaryError, FfmpegError or the abort reason.
 */
export async function joinChunks(chunkPaths: readonly string[], outPath: string, options: JoinOptions = {}): Promise<{ path: string }> {
  if (chunkPaths.length === 0) throw new RangeError('joinChunks needs at least one chunk');
  const { ffmpeg, ffprobe } = await ffmpegBinaries(options.env);
  const target = resolve(outPath);
  const partialPath = partialName(target);
  const scratch = await mkdtemp(join(tmpdir(), 'bloomsight-join-'));
  try {
    const list = join(scratch, 'chunks.txt');
    await writeFile(list, chunkPaths.map((path) => `file '${resolve(path).replace(/'/g, "'\\''")}'\n`).join(''));
    // Audio is cut to the video's length on input (-t), never the other way round as -shortest
    // would do when the original's audio track is shorter than its video.
    const audio = options.audioFrom ? ['-t', (await totalDuration(ffprobe, chunkPaths, options.signal)).toFixed(6), '-i', resolve(options.audioFrom)] : [];
    const args = [
      '-nostdin', '-hide_banner', '-v', 'error', '-y',
      '-f', 'concat', '-safe', '0', '-i', list,
      ...audio,
      '-map', '0:v:0', ...(options.audioFrom ? ['-map', '1:a:0?', '-c:a', 'aac', '-b:a', '160k'] : []),
      '-c:v', 'copy', '-movflags', '+faststart', '-map_metadata', '-1', '-f', 'mp4', partialPath,
    ];
    await runTool(ffmpeg, args, options.signal);
    await rename(partialPath, target);
    return { path: target };
  } finally {
    await rm(partialPath, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

async function totalDuration(ffprobe: string, paths: readonly string[], signal?: AbortSignal): Promise<number> {
  let total = 0;
  for (const path of paths) {
    const out = await runTool(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', '-i', resolve(path)], signal);
    total += Number(out.trim());
  }
  return total;
}

export interface GifOptions extends ToolOptions {
  /** Output width in pixels (height keeps the aspect ratio). Default 480. */
  width?: number;
  /** Default 10. */
  fps?: number;
  /** Only the first this many seconds (long videos make huge GIFs). Default: all. */
  maxSeconds?: number;
}

/** An animated GIF preview with a palette computed from the video (palettegen/paletteuse). */
export async function makeGif(mp4Path: string, gifPath: string, options: GifOptions = {}): Promise<{ path: string }> {
  const { ffmpeg } = await ffmpegBinaries(options.env);
  const width = options.width ?? 480;
  const fps = options.fps ?? 10;
  const target = resolve(gifPath);
  const partialPath = partialName(target);
  const graph =
    `[0:v]fps=${fps},scale=${width}:-1:flags=lanczos,split[a][b];` +
    `[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle[out]`;
  try {
    const limit = options.maxSeconds !== undefined ? ['-t', String(options.maxSeconds)] : [];
    await runTool(ffmpeg, ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...limit, '-i', resolve(mp4Path), '-filter_complex', graph, '-map', '[out]', '-loop', '0', '-f', 'gif', partialPath], options.signal);
    await rename(partialPath, target);
    return { path: target };
  } finally {
    await rm(partialPath, { force: true });
  }
}

export function partialName(path: string): string {
  return `${path}.${randomBytes(4).toString('hex')}.partial`;
}
