// Video library: probe, exact chunked decode, stable partial information, chunk render -> join -> GIF
// checked with ffprobe, and clear errors. Real ffmpeg and a real (tiny, untrained) generator export;
// needs neither Temporal nor S3. Leaves the rendered MP4 and GIF in test-artifacts/video/ to look at.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partialInformation, type RgbImage } from '../imaging';
import { initBackend } from '../model/backend';
import { loadExport, translateImages, type LoadedGenerator } from '../model/infer';
import { exportUntrained } from './helpers/model';
import { FsStore } from '../storage';
import {
  ChunkRangeError,
  chunkStartCentres,
  conformFrame,
  coverSize,
  createEncoder,
  decodeFrames,
  EmptyVideoError,
  FlickerMeter,
  joinChunks,
  makeGif,
  makePanClip,
  meanAbsoluteDifference,
  MissingBinaryError,
  NotAVideoError,
  planChunks,
  probeVideo,
  renderChunk,
  StablePartial,
  type VideoInfo,
} from '../video';

const run = promisify(execFile);
const PHOTOS = ['calla.jpg', 'garden.jpg', 'yellowflower.jpg'].map((name) => join(__dirname, 'fixtures', 'photos', name));
const ARTIFACTS_DIR = join(__dirname, '..', 'test-artifacts', 'video');
const SIZE = 64;
const FPS = 10;
const SECONDS = 3;
const FRAMES = FPS * SECONDS;
const KMEANS = { method: 'kmeans', k: 7 } as const;

let dir: string;
let clip: string;
let video: VideoInfo;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bloomsight-video-test-'));
  // Keyframes every 8 frames, so decoding a chunk really seeks into the middle of a GOP.
  clip = await makePanClip(PHOTOS, join(dir, 'pan.mp4'), { seconds: SECONDS, fps: FPS, keyframeInterval: 8 });
  video = await probeVideo(clip);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** ffprobe's own view of a file, independent of probeVideo. */
async function ffprobe(path: string, ...extra: string[]): Promise<{ streams: Array<Record<string, string | number>>; format: Record<string, string> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', ...extra, path]);
  return JSON.parse(stdout);
}

/** ffmpeg processes whose parent is this test process (Linux /proc). */
async function childFfmpegs(): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match && match[1] === 'ffmpeg' && Number(match[2]) === process.pid) found.push(Number(entry));
  }
  return found;
}

async function collect(frames: AsyncIterable<{ index: number; image: RgbImage }>): Promise<Array<{ index: number; image: RgbImage }>> {
  const out = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

async function clipFramesAtModelSize(): Promise<RgbImage[]> {
  const frames: RgbImage[] = [];
  for await (const { image } of decodeFrames(clip, { video, size: coverSize(video, SIZE) })) frames.push(await conformFrame(image, SIZE));
  return frames;
}

describe('probeVideo', () => {
  it('reports size, rate, frame count, duration, audio and codec of the clip', () => {
    expect(video).toMatchObject({ width: 640, height: 360, fps: FPS, frameRate: { num: FPS, den: 1 }, frameCount: FRAMES, hasAudio: true, codec: 'h264', rotation: 0 });
    expect(video.durationSeconds).toBeCloseTo(SECONDS, 1);
  });

  it('reports the display size of a rotated (phone) video, and decodes it upright', async () => {
    const rotated = join(dir, 'rotated.mp4');
    await run('ffmpeg', ['-v', 'error', '-i', clip, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const info = await probeVideo(rotated);
    expect(info).toMatchObject({ width: 360, height: 640, rotation: 90, frameCount: FRAMES });
    const [frame] = await collect(decodeFrames(rotated, { video: info, startFrame: 12, frameCount: 1 }));
    expect(frame!.image).toMatchObject({ width: 360, height: 640 });
  });
});

describe('decodeFrames', () => {
  it('decodes a chunk from startFrame to exactly the bytes of the same range of a full decode', async () => {
    const size = coverSize(video, SIZE);
    expect(size).toEqual({ width: 114, height: 64 });
    const full = await collect(decodeFrames(clip, { video, size }));
    expect(full.map((f) => f.index)).toEqual([...Array(FRAMES).keys()]);
    // Neighbouring frames differ (the clip pans), so an off-by-one would be caught.
    expect(meanAbsoluteDifference(full[20]!.image, full[21]!.image)).toBeGreaterThan(1);
    for (const [startFrame, frameCount] of [[0, 10], [10, 10], [13, 7], [20, 10], [25, 10], [29, 1]] as const) {
      const chunk = await collect(decodeFrames(clip, { video, size, startFrame, frameCount }));
      const expected = full.slice(startFrame, startFrame + frameCount);
      expect(chunk.map((f) => f.index), `chunk ${startFrame}+${frameCount}`).toEqual(expected.map((f) => f.index));
      chunk.forEach((frame, i) => expect(Buffer.from(frame.image.data).equals(Buffer.from(expected[i]!.image.data)), `frame ${frame.index}`).toBe(true));
    }
  });

  it.runIf(process.platform === 'linux')('kills ffmpeg when the consumer stops early or aborts', async () => {
    for await (const frame of decodeFrames(clip, { video })) if (frame.index === 1) break;
    expect(await childFfmpegs()).toEqual([]);

    const controller = new AbortController();
    const reading = (async () => {
      for await (const frame of decodeFrames(clip, { video, signal: controller.signal })) if (frame.index === 2) controller.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(await childFfmpegs()).toEqual([]);
  });
});

describe('StablePartial', () => {
  let frames: RgbImage[];
  beforeAll(async () => {
    frames = await clipFramesAtModelSize();
  });

  it('starts exactly like the training preprocessing (partialInformation)', async () => {
    const stable = new StablePartial(KMEANS);
    expect(Buffer.from((await stable.next(frames[0]!)).data).equals(Buffer.from((await partialInformation(frames[0]!, KMEANS)).data))).toBe(true);
  });

  it('keeps palette colours attached: a near-identical frame gets a near-identical partial image, unlike naive k-means', async () => {
    let stableTotal = 0;
    let naiveTotal = 0;
    for (const frame of frames) {
      // The same frame with at most 4 levels of fixed noise: what the next frame of a still shot looks like.
      const nudged = { ...frame, data: frame.data.map((v, i) => Math.min(255, v + ((i * 7919) % 5))) };
      const stable = new StablePartial(KMEANS);
      stableTotal += meanAbsoluteDifference(await stable.next(frame), await stable.next(nudged));
      naiveTotal += meanAbsoluteDifference(await partialInformation(frame, KMEANS), await partialInformation(nudged, KMEANS));
    }
    const stableMean = stableTotal / frames.length;
    const naiveMean = naiveTotal / frames.length;
    console.log(`[video.test] partial-image change on near-identical frames: stable ${stableMean.toFixed(2)}, naive ${naiveMean.toFixed(2)} (0..255)`);
    expect(stableMean).toBeLessThan(8);
    expect(stableMean).toBeLessThan(naiveMean / 3);
  });

  it('flickers less than naive per-frame k-means over the panning clip', async () => {
    const flicker = async (mode: 'stable' | 'naive') => {
      const partial = new StablePartial(KMEANS, { mode });
      const meter = new FlickerMeter();
      for (const frame of frames) meter.add(await partial.next(frame));
      return meter.mean();
    };
    const stable = await flicker('stable');
    const naive = await flicker('naive');
    console.log(`[video.test] clip flicker of partial information: stable ${stable.toFixed(2)}, naive ${naive.toFixed(2)}`);
    expect(stable).toBeLessThan(naive);
  });

  it('continues from serialised centres exactly as if it had never stopped', async () => {
    const whole = new StablePartial(KMEANS);
    const wholeOut: RgbImage[] = [];
    for (const frame of frames) wholeOut.push(await whole.next(frame));

    const first = new StablePartial(KMEANS);
    const split: RgbImage[] = [];
    for (const frame of frames.slice(0, 15)) split.push(await first.next(frame));
    const state = JSON.parse(JSON.stringify(first.centres())) as number[];
    expect(state).toHaveLength(KMEANS.k * 3);
    const second = new StablePartial(KMEANS, { startCentres: state });
    for (const frame of frames.slice(15)) split.push(await second.next(frame));

    split.forEach((image, i) => expect(Buffer.from(image.data).equals(Buffer.from(wholeOut[i]!.data)), `frame ${i}`).toBe(true));
    expect(second.centres()).toEqual(whole.centres());
  });

  it('applies edges per frame, tracks no state, and rejects centres of the wrong length', async () => {
    const edges = new StablePartial({ method: 'edges' });
    expect(Buffer.from((await edges.next(frames[3]!)).data).equals(Buffer.from((await partialInformation(frames[3]!, { method: 'edges' })).data))).toBe(true);
    expect(edges.centres()).toBeUndefined();
    expect(() => new StablePartial(KMEANS, { startCentres: [1, 2, 3] })).toThrow(RangeError);
  });
});

describe('renderChunk, joinChunks, makeGif', () => {
  let generator: LoadedGenerator;
  let translateCalls = 0;
  const translate = async (partials: RgbImage[]) => {
    translateCalls++;
    return translateImages(generator, partials, 4);
  };

  beforeAll(async () => {
    await initBackend({ prefer: 'auto', log: () => {} });
    // A real generator through the real export/load path: untrained, tiny, deterministic.
    const store = new FsStore(join(dir, 'store'));
    await exportUntrained(store, 'tiny', { imageSize: SIZE, ngf: 4, seed: 7, partialInformation: { method: 'kmeans', params: { k: 7 } } });
    generator = await loadExport(store, 'tiny');
  });

  afterAll(async () => generator?.dispose());

  it('renders the clip in 3 chunks, joins them with the original audio and makes a GIF, all checked with ffprobe', async () => {
    const chunks = planChunks(video.frameCount, 10);
    expect(chunks).toEqual([
      { index: 0, startFrame: 0, frameCount: 10 },
      { index: 1, startFrame: 10, frameCount: 10 },
      { index: 2, startFrame: 20, frameCount: 10 },
    ]);
    translateCalls = 0;
    const outputs: string[] = [];
    const chained: Array<number[] | undefined> = [];
    let startCentres: number[] | undefined;
    for (const chunk of chunks) {
      chained.push(startCentres);
      const progress: number[] = [];
      const result = await renderChunk({
        videoPath: clip, chunk, size: SIZE, panels: 'two', translate, partialParams: KMEANS, startCentres,
        outPath: join(dir, `chunk-${chunk.index}.mp4`), fps: video.frameRate, batchSize: 4, onProgress: (done) => progress.push(done),
      });
      expect(result).toMatchObject({ frames: 10, translateCalls: 3 });
      expect(progress).toEqual([4, 8, 10]);
      expect(result.endCentres).toHaveLength(KMEANS.k * 3);
      startCentres = result.endCentres;
      outputs.push(result.outPath);
    }
    expect(translateCalls).toBe(9);
    // The sequential pre-pass yields the same start states, so chunks can render in parallel.
    const passed: number[] = [];
    expect(await chunkStartCentres({ videoPath: clip, chunks, size: SIZE, partialParams: KMEANS, video, onProgress: (frames) => passed.push(frames) })).toEqual(chained);
    expect(passed).toEqual(Array.from({ length: 20 }, (_, i) => i + 1)); // every frame of the pass reported (planRender heartbeats on it)

    const mp4 = join(dir, 'render.mp4');
    const gif = join(dir, 'render.gif');
    await joinChunks(outputs, mp4, { audioFrom: clip });
    await makeGif(mp4, gif, { width: 2 * SIZE, fps: FPS });

    const out = await ffprobe(mp4, '-count_frames');
    const videoStream = out.streams.find((s) => s.codec_type === 'video')!;
    expect(videoStream).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 2 * SIZE, height: SIZE, nb_read_frames: String(FRAMES), avg_frame_rate: `${FPS}/1` });
    expect(Math.abs(Number(out.format.duration) - SECONDS)).toBeLessThanOrEqual(1 / FPS);
    const audio = out.streams.find((s) => s.codec_type === 'audio');
    expect(audio).toMatchObject({ codec_name: 'aac' });
    expect(Math.abs(Number(audio!.duration) - SECONDS)).toBeLessThanOrEqual(1 / FPS);

    const preview = await ffprobe(gif, '-count_frames');
    expect(preview.format.format_name).toBe('gif');
    expect(preview.streams[0]).toMatchObject({ width: 2 * SIZE, height: SIZE, nb_read_frames: String(FRAMES) });
    expect(Math.abs(Number(preview.format.duration) - SECONDS)).toBeLessThanOrEqual(1 / FPS);

    // The left panel is the original frame; the right is the network's (a constant-ish image for an untrained net).
    const rendered = await collect(decodeFrames(mp4));
    const originals = await clipFramesAtModelSize();
    const leftPanel = (image: RgbImage) => ({ width: SIZE, height: SIZE, data: Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => image.data[Math.floor(i / (SIZE * 3)) * 2 * SIZE * 3 + (i % (SIZE * 3))]!) });
    expect(meanAbsoluteDifference(leftPanel(rendered[17]!.image), originals[17]!)).toBeLessThan(6);

    await mkdir(ARTIFACTS_DIR, { recursive: true });
    await copyFile(mp4, join(ARTIFACTS_DIR, 'render.mp4'));
    await copyFile(gif, join(ARTIFACTS_DIR, 'render.gif'));
  });

  it('renders three panels (original | interpretation | partial information)', async () => {
    const result = await renderChunk({
      videoPath: clip, chunk: { index: 0, startFrame: 5, frameCount: 3 }, size: SIZE, panels: 'three', translate, partialParams: KMEANS, outPath: join(dir, 'three.mp4'),
    });
    expect(result.frames).toBe(3);
    const out = await ffprobe(result.outPath, '-count_frames');
    expect(out.streams[0]).toMatchObject({ width: 3 * SIZE, height: SIZE, nb_read_frames: '3' });
  });

  it.runIf(process.platform === 'linux')('stops on abort: ffmpeg killed, no output, no partial files', async () => {
    const controller = new AbortController();
    const outPath = join(dir, 'aborted', 'chunk.mp4');
    await mkdir(join(dir, 'aborted'));
    const rendering = renderChunk({
      videoPath: clip, chunk: { index: 0, startFrame: 0, frameCount: FRAMES }, size: SIZE, panels: 'two', partialParams: KMEANS, outPath, batchSize: 4, signal: controller.signal,
      translate: async (partials) => {
        controller.abort();
        return translate(partials);
      },
    });
    await expect(rendering).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(join(dir, 'aborted'))).toEqual([]);
    expect(await childFfmpegs()).toEqual([]);
  });

  it('refuses a chunk beyond the last frame and a translate that returns the wrong images', async () => {
    const base = { videoPath: clip, size: SIZE, panels: 'two' as const, partialParams: KMEANS, video };
    await expect(renderChunk({ ...base, chunk: { index: 9, startFrame: 90, frameCount: 10 }, translate, outPath: join(dir, 'beyond.mp4') })).rejects.toThrow(ChunkRangeError);
    await expect(renderChunk({ ...base, chunk: { index: 0, startFrame: 0, frameCount: 2 }, translate: async (p) => p.slice(1), outPath: join(dir, 'short.mp4') })).rejects.toThrow(/translate returned 1 images for 2 inputs/);
    const names = await readdir(dir);
    expect(names.filter((name) => name.startsWith('beyond') || name.startsWith('short'))).toEqual([]);
  });
});

describe('clear errors', () => {
  it('MissingBinaryError when ffmpeg/ffprobe is absent', async () => {
    const nowhere = join(dir, 'no-such-dir');
    await expect(probeVideo(clip, { env: { ...process.env, BLOOMSIGHT_FFPROBE: join(nowhere, 'ffprobe') } })).rejects.toThrow(MissingBinaryError);
    await expect(collect(decodeFrames(clip, { video, env: { ...process.env, BLOOMSIGHT_FFMPEG: join(nowhere, 'ffmpeg') } }))).rejects.toThrow(MissingBinaryError);
    await expect(createEncoder({ outPath: join(dir, 'x.mp4'), width: 2, height: 2, frameRate: 10, env: { ...process.env, BLOOMSIGHT_FFMPEG: join(nowhere, 'ffmpeg') } })).rejects.toThrow(MissingBinaryError);
    // Not configured and not on PATH: the error says how to install it.
    const bare = { PATH: nowhere, BLOOMSIGHT_CACHE: nowhere };
    await expect(probeVideo(clip, { env: bare })).rejects.toThrow(/apt-get install ffmpeg/);
  });

  it('NotAVideoError for a text file named .mp4, an audio-only file, a still image and a missing file, naming the file', async () => {
    const text = join(dir, 'notes.mp4');
    await writeFile(text, 'these are not frames\n');
    await expect(probeVideo(text)).rejects.toThrow(NotAVideoError);
    await expect(probeVideo(text)).rejects.toThrow(text);

    const audioOnly = join(dir, 'audio-only.mp4');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:d=1', '-c:a', 'aac', audioOnly]);
    await expect(probeVideo(audioOnly)).rejects.toThrow(/no video stream/);

    await expect(probeVideo(PHOTOS[0]!)).rejects.toThrow(/still image/);
    await expect(probeVideo(join(dir, 'missing.mp4'))).rejects.toThrow(NotAVideoError);
  });

  it('EmptyVideoError for a 0-byte file and for a valid MP4 whose video track has no frames', async () => {
    const empty = join(dir, 'empty.mp4');
    await writeFile(empty, '');
    await expect(probeVideo(empty)).rejects.toThrow(EmptyVideoError);
    await expect(probeVideo(empty)).rejects.toThrow(empty);

    // Fragmented MP4 writes its track header up front, so zero frames still leave a well-formed file with a video stream.
    const noFrames = join(dir, 'no-frames.mp4');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=64x64:r=10', '-frames:v', '0', '-c:v', 'libx264', '-movflags', 'frag_keyframe+empty_moov', noFrames]);
    expect((await ffprobe(noFrames)).streams.map((s) => s.codec_type)).toEqual(['video']);
    await expect(probeVideo(noFrames)).rejects.toThrow(EmptyVideoError);
  });
});
