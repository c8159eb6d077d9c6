/**
 * What the machine provides, found the same way by every layer: programs (an explicit path from the
 * environment, PATH, or the project's cache) and the cache folder itself. Library code: the video
 * library finds ffmpeg here; services/ provisions what is missing into the same cache.
 */
export { ffmpegBinaries, findBinary, isExecutable, MissingBinaryError } from './binaries';
export { cacheDir } from './cache';
