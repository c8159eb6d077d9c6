/**
 * A camera for headless Chromium that films a real photograph: a Y4M clip (a window panning slowly
 * across the photo, 640x480) for Chromium's --use-file-for-fake-video-capture, which plays it in a loop
 * at the clip's frame rate. Real photos give k-means real work, where the built-in fake camera shows a
 * few flat colours. Shared by test/camera-page.test.ts and bench/camera.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegBinaries } from '../../services/binaries';

const run = promisify(execFile);

export interface FakeCameraOptions {
  /** Default 30 (a common webcam rate; Chromium's built-in fake camera runs at 20). */
  fps?: number;
  /** Clip length before it loops; default 2. */
  seconds?: number;
}

/** Writes the clip to `outPath` (about 0.46 MB a frame) and returns Chromium's flags for it. */
export async function photoCamera(photo: string, outPath: string, options: FakeCameraOptions = {}): Promise<string[]> {
  const { ffmpeg } = await ffmpegBinaries();
  const fps = options.fps ?? 30;
  const seconds = options.seconds ?? 2;
  // 960 px tall, so the 640x480 window pans across a third of the photo; forwards then back, so the loop has no jump.
  const pan = `scale=-2:960,crop=w=640:h=480:x='(iw-ow)*(0.5-0.5*cos(2*PI*t/${seconds}))':y='(ih-oh)/2',format=yuv420p`;
  await run(ffmpeg, ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-loop', '1', '-framerate', String(fps), '-t', String(seconds), '-i', photo, '-vf', pan, '-r', String(fps), '-f', 'yuv4mpegpipe', outPath]);
  return ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${outPath}`];
}
