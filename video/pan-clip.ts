import { resolve } from 'node:path';
import { ffmpegBinaries } from '../platform';
import { runTool } from './process';
import type { ToolOptions } from './probe';

export interface PanClipOptions extends ToolOptions {
  /** Default 3. */
  seconds?: number;
  /** Default 10. */
  fps?: number;
  /** Window size; default 640x360. Photos are scaled to `photoHeight` (default 512) and placed side by side. */
  width?: number;
  height?: number;
  photoHeight?: number;
  /** Add a 440 Hz sine track. Default true. */
  audio?: boolean;
  /** Frames between keyframes; default fps (one a second). */
  keyframeInterval?: number;
}

/**
 * A synthetic test video: still photos side by side, a window panning across them from left to right
 * at constant speed, H.264 in MP4 (plus a sine audio track). For tests and benchmarks.
 */
export async function makePanClip(photoPaths: readonly string[], outPath: string, options: PanClipOptions = {}): Promise<string> {
  if (photoPaths.length === 0) throw new RangeError('makePanClip needs at least one photo');
  const { ffmpeg } = await ffmpegBinaries(options.env);
  const seconds = options.seconds ?? 3;
  const fps = options.fps ?? 10;
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const photoHeight = options.photoHeight ?? 512;
  const audio = options.audio ?? true;
  const inputs = photoPaths.flatMap((path) => ['-loop', '1', '-framerate', String(fps), '-t', String(seconds), '-i', path]);
  const scaled = photoPaths.map((_, i) => `[${i}:v]scale=-2:${photoHeight},setsar=1[p${i}]`).join(';');
  const strip = photoPaths.length > 1 ? `${photoPaths.map((_, i) => `[p${i}]`).join('')}hstack=inputs=${photoPaths.length}[strip]` : '[p0]null[strip]';
  const pan = `[strip]crop=w=${width}:h=${height}:x='(iw-ow)*t/${seconds}':y='(ih-oh)/2',format=yuv420p[v]`;
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error', '-y',
    ...inputs,
    ...(audio ? ['-f', 'lavfi', '-t', String(seconds), '-i', 'sine=f=440'] : []),
    '-filter_complex', `${scaled};${strip};${pan}`,
    '-map', '[v]', ...(audio ? ['-map', `${photoPaths.length}:a`, '-c:a', 'aac'] : []),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', String(options.keyframeInterval ?? fps), '-r', String(fps),
    '-t', String(seconds), '-movflags', '+faststart', resolve(outPath),
  ];
  await runTool(ffmpeg, args, options.signal);
  return resolve(outPath);
}
