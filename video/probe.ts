import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ffmpegBinaries } from '../platform';
import { EmptyVideoError, FfmpegError, NotAVideoError } from './errors';
import { runTool } from './process';
import { parseRational, rationalToNumber, type Rational } from './rational';

export interface VideoInfo {
  path: string;
  /** Index of the video stream in the container (what decode maps). */
  streamIndex: number;
  /** Display size: after the rotation players (and ffmpeg's decoder) apply. */
  width: number;
  height: number;
  /** Frames per second, exact (the stream's average rate; decode resamples to it). */
  frameRate: Rational;
  fps: number;
  frameCount: number;
  /** 'header': the container's frame count; 'packets': counted by demuxing; 'duration': duration x fps. */
  frameCountSource: 'header' | 'packets' | 'duration';
  durationSeconds: number;
  /** Presentation time of the first video frame in seconds; undefined when the stream has no timestamps. */
  startTime?: number;
  /** Display rotation recorded in the file, degrees in 0..359; 90 and 270 swap width and height. */
  rotation: number;
  hasAudio: boolean;
  /** ffprobe's codec name, e.g. 'h264'. */
  codec: string;
}

export interface ToolOptions {
  /** Where BLOOMSIGHT_FFMPEG / BLOOMSIGHT_FFPROBE and PATH are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Kills the child process and rejects with the abort reason. */
  signal?: AbortSignal;
}

interface ProbeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: Array<{ rotation?: number }>;
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string };
}

/** Still-image demuxers: ffprobe reports a one-frame "video" for a PNG or JPEG. */
const STILL_IMAGE_FORMAT = /(^|,)(image2|[a-z0-9]+_pipe)(,|$)/;

/**
 * Reads a video's geometry, rate, length and streams with ffprobe.
 * Throws MissingBinaryError (no ffprobe), NotAVideoError, EmptyVideoError.
 */
export async function probeVideo(path: string, options: ToolOptions = {}): Promise<VideoInfo> {
  await assertNonEmptyFile(path);
  const { ffprobe } = await ffmpegBinaries(options.env);
  const probe = await runProbe(ffprobe, path, ['-show_format', '-show_streams'], options.signal);

  const streams = probe.streams ?? [];
  const formatDuration = positiveNumber(probe.format?.duration);
  if (streams.length === 0 && !formatDuration) throw new EmptyVideoError(path, 'the container holds no streams');
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (!video) throw new NotAVideoError(path, `no video stream (streams: ${streams.map((s) => s.codec_type).join(', ') || 'none'})`);
  if (STILL_IMAGE_FORMAT.test(probe.format?.format_name ?? '')) throw new NotAVideoError(path, `a still image (${probe.format?.format_name}), not a video`);

  let frameCount = nonNegativeInteger(video.nb_frames);
  let frameCountSource: VideoInfo['frameCountSource'] = 'header';
  if (frameCount === undefined) {
    frameCount = await countPackets(ffprobe, path, options.signal);
    frameCountSource = 'packets';
  }
  if (frameCount === 0) throw new EmptyVideoError(path, 'the video stream has 0 frames');
  const frameRate = parseRational(video.avg_frame_rate) ?? parseRational(video.r_frame_rate);
  if (!frameRate) throw new NotAVideoError(path, 'the video stream has no frame rate');
  const fps = rationalToNumber(frameRate);
  const streamDuration = positiveNumber(video.duration) ?? formatDuration;
  if (frameCount === undefined) {
    if (streamDuration === undefined) throw new EmptyVideoError(path, 'the video stream has neither frames nor duration');
    frameCount = Math.round(streamDuration * fps);
    frameCountSource = 'duration';
  }

  const rotation = rotationOf(video);
  const swap = Math.abs(rotation) % 180 === 90;
  const start = Number(video.start_time);
  return {
    path,
    streamIndex: video.index ?? 0,
    width: swap ? video.height! : video.width!,
    height: swap ? video.width! : video.height!,
    frameRate,
    fps,
    frameCount,
    frameCountSource,
    durationSeconds: streamDuration ?? frameCount / fps,
    startTime: video.start_time !== undefined && Number.isFinite(start) ? start : undefined,
    rotation,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    codec: video.codec_name ?? 'unknown',
  };
}

async function assertNonEmptyFile(path: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new NotAVideoError(path, 'not a regular file');
    size = info.size;
  } catch (error) {
    if (error instanceof NotAVideoError) throw error;
    throw new NotAVideoError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error), { cause: error });
  }
  if (size === 0) throw new EmptyVideoError(path, 'the file is 0 bytes');
}

async function runProbe(ffprobe: string, path: string, extra: string[], signal?: AbortSignal): Promise<ProbeOutput> {
  try {
    // Absolute, so a name like `a:b.mp4` is never read as a protocol prefix.
    const stdout = await runTool(ffprobe, ['-v', 'error', '-print_format', 'json', ...extra, '-i', resolve(path)], signal);
    return JSON.parse(stdout) as ProbeOutput;
  } catch (error) {
    if (error instanceof FfmpegError) throw new NotAVideoError(path, lastLine(error.stderrTail) || 'ffprobe could not read it', { cause: error });
    throw error;
  }
}

/** Demuxes the whole file (no decoding) to count the first video stream's packets. */
async function countPackets(ffprobe: string, path: string, signal?: AbortSignal): Promise<number | undefined> {
  const probe = await runProbe(ffprobe, path, ['-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets'], signal);
  const stream = probe.streams?.[0];
  if (!stream) return undefined;
  // ffprobe leaves the field out when it read no packets.
  return nonNegativeInteger(stream.nb_read_packets) ?? 0;
}

function rotationOf(stream: ProbeStream): number {
  const fromSideData = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const degrees = fromSideData ?? Number(stream.tags?.rotate ?? 0);
  return Number.isFinite(degrees) ? ((Math.round(degrees) % 360) + 360) % 360 : 0;
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegativeInteger(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && text !== '' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-1)[0] ?? '';
}
