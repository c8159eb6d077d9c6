// Typed failures of the video library. A missing ffmpeg/ffprobe is services' MissingBinaryError
// (thrown by ffmpegBinaries), re-exported from video/index.ts so callers catch one family.

/**
 * Thrown by probeVideo when the file cannot be read as a video: it does not exist, ffprobe cannot
 * parse it (a text file named .mp4, a truncated header), or it holds no video stream (audio only).
 * Retrying does not help.
 */
export class NotAVideoError extends Error {
  override readonly name = 'NotAVideoError';
  constructor(readonly file: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${file} is not a readable video: ${detail}`, options);
  }
}

/**
 * Thrown by probeVideo when the file is empty: 0 bytes, a container with no streams and zero
 * duration, or a video stream with zero frames or zero duration. Retrying does not help.
 */
export class EmptyVideoError extends Error {
  override readonly name = 'EmptyVideoError';
  constructor(readonly file: string, readonly detail: string) {
    super(`${file} is an empty video: ${detail}`);
  }
}

/**
 * Thrown when an ffmpeg or ffprobe run exits unsuccessfully after probing succeeded (decode of a
 * damaged stream, encoder refused the options, disk full). Carries the tail of its stderr.
 */
export class FfmpegError extends Error {
  override readonly name = 'FfmpegError';
  constructor(readonly tool: string, readonly exitCode: number | null, readonly signal: string | null, readonly stderrTail: string) {
    super(`${tool} failed (${exitCode !== null ? `exit code ${exitCode}` : `signal ${signal}`}): ${stderrTail.trim() || 'no error output'}`);
  }
}

/**
 * Thrown by renderChunk when its frame range yields no frames (the chunk starts beyond the last
 * frame, e.g. a plan made from a frame-count estimate that overshot). A caller bug or a bad plan.
 */
export class ChunkRangeError extends Error {
  override readonly name = 'ChunkRangeError';
  constructor(readonly file: string, readonly startFrame: number, readonly frameCount: number) {
    super(`${file}: chunk frames ${startFrame}..${startFrame + frameCount - 1} lie beyond the end of the video`);
  }
}
