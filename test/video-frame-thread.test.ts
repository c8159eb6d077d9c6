// renderChunk's frame worker thread (video/frame-server.ts and friends): the same bytes as doing every
// step by hand on one thread, errors that keep their class across the thread boundary, and nothing
// left behind on failure. Real ffmpeg, a real (tiny, untrained) generator export through tfjs.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatHorizontal, type RgbImage } from '../imaging';
import { initBackend } from '../model/backend';
import { loadExport, translateImages, type LoadedGenerator } from '../model/infer';
import { exportUntrained } from './helpers/model';
import { FsStore } from '../storage';
import { ChunkRangeError, conformFrame, coverSize, createEncoder, decodeFrames, FfmpegError, makePanClip, probeVideo, renderChunk, StablePartial, type VideoInfo } from '../video';
import { deserialiseError, serialiseError } from '../video/frame-protocol';

const PHOTOS = ['garden.jpg', 'calla.jpg'].map((name) => join(__dirname, 'fixtures', 'photos', name));
const SIZE = 64;
const KMEANS = { method: 'kmeans', k: 7 } as const;

let dir: string;
let clip: string;
let video: VideoInfo;
let generator: LoadedGenerator;
const translate = (partials: RgbImage[]) => translateImages(generator, partials, 4);
const md5 = async (path: string) => createHash('md5').update(await readFile(path)).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bloomsight-frame-thread-'));
  clip = await makePanClip(PHOTOS, join(dir, 'pan.mp4'), { seconds: 2, fps: 10, keyframeInterval: 8 });
  video = await probeVideo(clip);
  await initBackend({ prefer: 'auto', log: () => {} });
  const store = new FsStore(join(dir, 'store'));
  await exportUntrained(store, 'tiny', { imageSize: SIZE, ngf: 4, seed: 3, partialInformation: { method: 'kmeans', params: { k: 7 } } });
  generator = await loadExport(store, 'tiny');
});

afterAll(async () => {
  await generator?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** The chunk rendered step by step on this thread, without renderChunk: the reference bytes. */
async function renderByHand(startFrame: number, frameCount: number, startCentres: number[] | undefined, outPath: string): Promise<number[] | undefined> {
  const partial = new StablePartial(KMEANS, { startCentres });
  const originals: RgbImage[] = [];
  const partials: RgbImage[] = [];
  for await (const { image } of decodeFrames(clip, { video, size: coverSize(video, SIZE), startFrame, frameCount })) {
    originals.push(await conformFrame(image, SIZE));
    partials.push(await partial.next(originals.at(-1)!));
  }
  const encoder = await createEncoder({ outPath, width: 3 * SIZE, height: SIZE, frameRate: video.frameRate });
  for (let i = 0; i < partials.length; i += 3) {
    const outputs = await translate(partials.slice(i, i + 3));
    for (const [j, output] of outputs.entries()) await encoder.write(concatHorizontal([originals[i + j]!, output, partials[i + j]!]));
  }
  await encoder.finish();
  return partial.centres();
}

describe('renderChunk with the frame worker thread', () => {
  it('writes exactly the bytes of a render done by hand, on the worker thread and on the main thread', async () => {
    const startCentres = await renderByHand(0, 5, undefined, join(dir, 'first-by-hand.mp4'));
    const expectedEnd = await renderByHand(5, 13, startCentres, join(dir, 'by-hand.mp4'));
    const request = { videoPath: clip, video, chunk: { index: 1, startFrame: 5, frameCount: 13 }, size: SIZE, panels: 'three' as const, translate, partialParams: KMEANS, startCentres, batchSize: 3 };
    const progress: number[] = [];
    const worker = await renderChunk({ ...request, outPath: join(dir, 'worker.mp4'), onProgress: (frames) => progress.push(frames) });
    const main = await renderChunk({ ...request, outPath: join(dir, 'main.mp4'), frameThread: 'main' });
    expect(await md5(worker.outPath)).toBe(await md5(join(dir, 'by-hand.mp4')));
    expect(await md5(main.outPath)).toBe(await md5(join(dir, 'by-hand.mp4')));
    expect(worker).toMatchObject({ frames: 13, translateCalls: 5, endCentres: expectedEnd });
    expect(main.endCentres).toEqual(expectedEnd);
    expect(progress).toEqual([3, 6, 9, 12, 13]);
    // Where the time went, on both threads.
    expect(Object.keys(worker.stageTimes.main)).toEqual(expect.arrayContaining(['inference (translate)', 'wait for frames']));
    expect(Object.keys(worker.stageTimes.frames)).toEqual(expect.arrayContaining(['decode (waiting for ffmpeg)', 'partial information', 'compose', 'encoder finish']));
    expect(worker.stageTimes.main['inference (translate)']).toBeGreaterThan(0);
  });

  it('brings the frame thread’s errors back with their class, and leaves no partial file behind', async () => {
    const out = join(dir, 'failing');
    await mkdir(out);
    const base = { videoPath: clip, video, size: SIZE, panels: 'two' as const, translate, partialParams: KMEANS };
    // x264 has no such preset: ffmpeg's own message arrives as an FfmpegError.
    const refused = renderChunk({ ...base, chunk: { index: 0, startFrame: 0, frameCount: 6 }, outPath: join(out, 'preset.mp4'), encoder: { preset: 'no-such-preset' } });
    await expect(refused).rejects.toThrow(FfmpegError);
    await expect(refused).rejects.toMatchObject({ tool: 'ffmpeg', stderrTail: expect.stringMatching(/preset/i) });
    await expect(renderChunk({ ...base, chunk: { index: 9, startFrame: 90, frameCount: 5 }, outPath: join(out, 'beyond.mp4') })).rejects.toThrow(ChunkRangeError);
    const broken = renderChunk({ ...base, chunk: { index: 0, startFrame: 0, frameCount: 6 }, outPath: join(out, 'throws.mp4'), translate: async () => { throw new Error('network on fire'); } });
    await expect(broken).rejects.toThrow('network on fire');
    expect(await readdir(out)).toEqual([]);
    // The worker thread survives its chunks' failures and renders the next one.
    const after = await renderChunk({ ...base, chunk: { index: 0, startFrame: 0, frameCount: 4 }, outPath: join(out, 'after.mp4') });
    expect(after.frames).toBe(4);
  });

  it('serialises errors across the thread boundary keeping class, message and fields', () => {
    const ffmpeg = deserialiseError(serialiseError(new FfmpegError('ffmpeg', 1, null, 'Invalid data found')));
    expect(ffmpeg).toBeInstanceOf(FfmpegError);
    expect(ffmpeg).toMatchObject({ exitCode: 1, stderrTail: 'Invalid data found', message: expect.stringContaining('exit code 1') });
    const range = deserialiseError(serialiseError(new ChunkRangeError('clip.mp4', 90, 10)));
    expect(range).toBeInstanceOf(ChunkRangeError);
    expect(range).toMatchObject({ file: 'clip.mp4', startFrame: 90, frameCount: 10 });
    const other = deserialiseError(serialiseError(Object.assign(new Error('odd'), { name: 'OddError' })));
    expect(other).toMatchObject({ name: 'OddError', message: 'odd' });
  });
});
