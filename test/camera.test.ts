// The live camera page (issue 8 point 3, issue 13): its Node-side pieces, the server (whitelists,
// cross-origin isolation headers, onnxruntime-web's files, reports with their live link, the upgrade
// of old exports), then the real page in headless Chromium filming a real photograph through
// Chromium's fake camera: the backend it chooses, the partial information and the network output
// compared with the Node code's, memory over 300 frames, the TF.js fallback and the failures a user
// can meet. Needs /usr/bin/chromium and ffmpeg (.ci/run installs both); ignores the Temporal and S3
// servers of the global setup. Writes test-artifacts/camera/camera.png and prints the frame rate.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestExport, startCameraServer, type CameraServer } from '../camera';
import { findOrtAssets, ORT_FILES } from '../camera/ort-assets';
import type { PageState } from '../camera/page/page';
import { blurRgb as browserBlur } from '../camera/shared/browser-blur';
import { FpsMeter } from '../camera/shared/fps';
import { MetadataError, readCameraModel, SUPPORTED_FORMAT_VERSIONS } from '../camera/shared/metadata';
import { centreSquare } from '../camera/shared/pixels';
import type { FrameSnapshot, FrameTrace } from '../camera/worker/protocol';
import { conformRgb, partialInformation } from '../imaging';
import { blurRgb } from '../imaging/blur';
import { PartialParamsSchema } from '../imaging/partial-params';
import type { RgbImage } from '../imaging/rgb';
import { EXPORT_FORMAT_VERSION, ExportMetadataSchema } from '../model/export-metadata';
import { loadExport } from '../model/infer';
import type { Provenance } from '../model/options';
import { imagesToNchw } from '../model/pixels';
import { buildReport } from '../report';
import { FsStore, keys, putJson } from '../storage';
import { StablePartial } from '../video/stable-partial';
import { photoCamera } from './helpers/fake-camera';
import { exportUntrained } from './helpers/model';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** gc() in the page and its workers. */
const GC_FLAGS = ['--js-flags=--expose-gc'];
const ARTIFACTS_DIR = join(__dirname, '..', 'test-artifacts', 'camera');
const PHOTO = join(__dirname, 'fixtures', 'photos', 'calla.jpg');
const SIZE = 64;
const KMEANS: Provenance['partialInformation'] = { method: 'kmeans', params: { method: 'kmeans', k: 6 } };
const EDGES: Provenance['partialInformation'] = { method: 'edges', params: { method: 'edges' } };
/**
 * Page vs Node network outputs. The same generator.onnx on ONNX Runtime Web (WebAssembly, SIMD) and
 * onnxruntime-node (x86 kernels) sums in a different order, so float32 outputs differ in the last
 * bits (about 1e-6 here); the issue's bound is 1e-3.
 */
const OUTPUT_TOLERANCE = 1e-3;

/** A real export of a 64x64 generator (ngf 4) with seeded weights rescaled so the output follows the input. */
async function writeExport(store: FsStore, modelId: string, partial: Provenance['partialInformation']): Promise<void> {
  await exportUntrained(store, modelId, { imageSize: SIZE, ngf: 4, seed: 11, partialInformation: partial, rescaleKernels: true });
}

/** An export as it was before generator.onnx (format version 1): the TF.js files only. */
async function writeVersion1Export(store: FsStore, modelId: string): Promise<void> {
  await writeExport(store, modelId, KMEANS);
  const dir = keys.exportDir(modelId);
  const metadata = ExportMetadataSchema.parse(JSON.parse((await store.get(`${dir}/metadata.json`)).toString('utf8')));
  await store.delete(`${dir}/generator.onnx`);
  await putJson(store, `${dir}/metadata.json`, { ...metadata, formatVersion: 1, onnx: undefined, files: metadata.files.filter((f) => f.name !== 'generator.onnx') });
}

async function copyObject(store: FsStore, from: string, to: string): Promise<void> {
  await store.put(to, await store.get(from));
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET or any method with the path sent exactly as written (fetch would normalise '..'). */
function rawRequest(url: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function reportFor(runKey: string, modelId?: string): string {
  return buildReport({
    title: `bloomsight run ${runKey}`,
    runKey,
    modelId,
    createdAt: '2026-11-29T00:00:00Z',
    parameters: { query: 'calla' },
    dataset: { found: 1, downloaded: 1, duplicates: 0, failed: 0, pairs: 1, failuresByReason: {}, datasetId: 'test' },
    training: { steps: 0, seconds: 0, imagesPerSecond: 0, backend: 'tensorflow' },
    lossHistory: [],
    examples: [],
    video: { mp4Path: 'clip.mp4' },
  });
}

let root: string;
let store: FsStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bloomsight-camera-test-'));
  store = new FsStore(root);
  await writeExport(store, 'flowers-kmeans', KMEANS);
  await writeExport(store, 'flowers-edges', EDGES);
  // Not listed in metadata.json: must never be served.
  await store.put(`${keys.exportDir('flowers-kmeans')}/notes.txt`, Buffer.from('not for the page'));
  await store.put(keys.report('run-with-meta'), Buffer.from(reportFor('run-with-meta', 'flowers-kmeans')));
  await store.put(`${keys.report('run-with-meta').replace(/index\.html$/, '')}clip.mp4`, Buffer.from('0123456789'));
  // Written before reports named their model: the run key is the model id (as learnToSee makes it).
  await store.put(keys.report('flowers-edges'), Buffer.from(reportFor('flowers-edges')));
  await store.put(keys.report('run-without-model'), Buffer.from(reportFor('run-without-model', 'never-exported')));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('camera page helpers', () => {
  it("reads metadata.json with the exporter's schema", async () => {
    expect(SUPPORTED_FORMAT_VERSIONS).toContain(EXPORT_FORMAT_VERSION);
    const metadata = JSON.parse((await store.get(`${keys.exportDir('flowers-kmeans')}/metadata.json`)).toString('utf8'));
    const model = readCameraModel(metadata);
    expect(model).toMatchObject({ imageSize: SIZE, paramsAssumed: false, steps: 0, hasLayersModel: true });
    expect(model.onnx).toMatchObject({ file: 'generator.onnx', input: { name: 'partial_information', shape: ['batch', 3, SIZE, SIZE] }, output: { name: 'image' } });
    expect(model.params).toMatchObject({ method: 'kmeans', k: 6, paint: 'palette', blurSigma: 0 });
    expect(readCameraModel({ ...metadata, partialInformation: undefined })).toMatchObject({ paramsAssumed: true, params: { method: 'kmeans', k: 7 } });
    expect(readCameraModel({ ...metadata, formatVersion: 1, onnx: undefined }).onnx).toBeUndefined();
  });

  it('refuses other format versions and documents that are not exports', async () => {
    const metadata = JSON.parse((await store.get(`${keys.exportDir('flowers-kmeans')}/metadata.json`)).toString('utf8'));
    expect(() => readCameraModel({ ...metadata, formatVersion: 3 })).toThrow(/incompatible export: formatVersion 3/);
    expect(() => readCameraModel(null)).toThrow(MetadataError);
    expect(() => readCameraModel({ ...metadata, kind: 'something-else' })).toThrow(/not a bloomsight export: kind/);
    expect(() => readCameraModel({ ...metadata, partialInformation: { method: 'kmeans', params: { k: 99 } } })).toThrow(/cannot apply/);
    const onnx = { ...metadata.onnx, input: { ...metadata.onnx.input, shape: ['batch', 3, 32, 32] } };
    expect(() => readCameraModel({ ...metadata, onnx })).toThrow(/generator.onnx takes batchx3x32x32, metadata.json says 64x64/);
  });

  it('measures frames per second over the last second, and below one per second', () => {
    const meter = new FpsMeter();
    expect(meter.tick(0)).toBe(0);
    let fps = 0;
    for (let t = 40; t <= 2000; t += 40) fps = meter.tick(t);
    expect(fps).toBeCloseTo(25, 5);
    expect(meter.tick(4000)).toBeCloseTo(0.5, 5);
  });

  it('crops the largest centred square', () => {
    expect(centreSquare(640, 480)).toEqual({ sx: 80, sy: 0, side: 480 });
    expect(centreSquare(480, 640)).toEqual({ sx: 0, sy: 80, side: 480 });
    expect(centreSquare(5, 5)).toEqual({ sx: 0, sy: 0, side: 5 });
  });

  it("blurs in the page within about a level of sharp's blur", async () => {
    const photo = await conformRgb(await readFile(PHOTO), { size: 128, fit: 'centre' });
    for (const sigma of [0.5, 1.5, 4]) {
      const [node, page] = [await blurRgb(photo, sigma), await browserBlur(photo, sigma)];
      const meanDifference = node.data.reduce((sum, v, i) => sum + Math.abs(v - page.data[i]!), 0) / node.data.length;
      expect(meanDifference, `sigma ${sigma}`).toBeLessThan(1.5);
    }
    expect(await browserBlur(photo, 0)).toBe(photo);
  });
});

describe('camera server', () => {
  let server: CameraServer;
  const ort = findOrtAssets();

  beforeAll(async () => {
    server = await startCameraServer({ store, modelId: 'flowers-kmeans', port: 0 });
  });
  afterAll(() => server?.close());

  it('serves the page, its scripts and the files metadata.json lists, all cross-origin isolated', async () => {
    const page = await rawRequest(server.url, '/');
    expect(page.status).toBe(200);
    const html = page.body.toString();
    expect(html).toContain('data-model-id="flowers-kmeans"');
    expect(html).toContain('data-model-base="/models/flowers-kmeans/export/"');
    expect(html).toContain(`data-ort-base="/ort/${ort.version}/"`);
    const responses = [page];
    for (const script of ['/camera/page.js', '/camera/worker.js']) {
      const response = await rawRequest(server.url, script);
      expect(response.status, script).toBe(200);
      expect(response.headers['content-type'], script).toMatch(/^text\/javascript/);
      responses.push(response);
    }
    const dir = keys.exportDir('flowers-kmeans');
    const metadata = JSON.parse((await store.get(`${dir}/metadata.json`)).toString('utf8')) as { files: Array<{ name: string }> };
    expect(metadata.files.map((f) => f.name)).toContain('generator.onnx');
    for (const name of ['metadata.json', ...metadata.files.map((f) => f.name)]) {
      const response = await rawRequest(server.url, `/models/flowers-kmeans/export/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.body.equals(await store.get(`${dir}/${name}`)), name).toBe(true);
      responses.push(response);
    }
    for (const response of responses) {
      expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(response.headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
  });

  it("serves onnxruntime-web's files from node_modules, and no other file of the package", async () => {
    for (const name of ORT_FILES) {
      const response = await rawRequest(server.url, `/ort/${ort.version}/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.body.equals(readFileSync(ort.file(name)!)), name).toBe(true);
      expect(response.headers['content-type'], name).toBe(name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8');
      expect(response.headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
    for (const path of [`/ort/${ort.version}/ort.all.min.mjs`, `/ort/${ort.version}/../package.json`, `/ort/0.0.1/ort.wasm.min.mjs`, '/ort/ort.wasm.min.mjs', `/ort/${ort.version}/`]) {
      expect((await rawRequest(server.url, path)).status, path).toBe(404);
    }
  });

  it('answers 404 to path traversal and to keys metadata.json does not list', async () => {
    const dir = keys.exportDir('flowers-kmeans');
    const attempts = [
      '/models/flowers-kmeans/export/../../../sums/x',
      `/models/flowers-kmeans/export/../../../sums/${dir}/metadata.json`,
      `/models/flowers-kmeans/export/../../../objects/${dir}/notes.txt`,
      '/models/flowers-kmeans/export/..%2F..%2Fsums%2Fx',
      '/models/flowers-kmeans/export/%2e%2e/%2e%2e/sums/x',
      '/models/flowers-kmeans/export/%2e%2e%2flatest.json',
      '/models/flowers-kmeans/latest.json',
      '/models/flowers-kmeans/export/notes.txt',
      '/models/flowers-kmeans/export/',
      '/models/flowers-kmeans/export/%',
      '/models/flowers-kmeans/export/model.json/',
      '/models/%2e%2e/export/metadata.json',
      '/models/never-exported/export/metadata.json',
      '/model/metadata.json',
      `/${dir}/notes.txt`,
      '/camera/',
      '/camera/../camera.test.ts',
      '/reports/run-with-meta/../../models/flowers-kmeans/export/notes.txt',
      '/reports/run-with-meta/%2e%2e%2f%2e%2e%2fmodels%2fflowers-kmeans%2fexport%2fnotes.txt',
      '/reports/run-with-meta/nothing-here.mp4',
      '/sums/x',
      '/../../etc/passwd',
    ];
    for (const path of attempts) expect((await rawRequest(server.url, path)).status, path).toBe(404);
    expect((await rawRequest(server.url, '/models/flowers-kmeans/export/metadata.json', 'POST')).status).toBe(405);
  });

  it('gives every export its live page', async () => {
    const page = await rawRequest(server.url, '/live/flowers-edges/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('data-model-base="/models/flowers-edges/export/"');
    const bare = await rawRequest(server.url, '/live/flowers-edges');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/live/flowers-edges/');
  });

  it("serves the run reports, each linked to its model's live page; the stored report has no link", async () => {
    const listing = (await rawRequest(server.url, '/reports/')).body.toString();
    for (const runKey of ['run-with-meta', 'flowers-edges', 'run-without-model']) expect(listing).toContain(`href="/reports/${runKey}/"`);

    const report = await rawRequest(server.url, '/reports/run-with-meta/');
    expect(report.status).toBe(200);
    expect(report.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(report.body.toString()).toContain('<a href="/live/flowers-kmeans/">Open the live camera</a>');
    const stored = (await store.get(keys.report('run-with-meta'))).toString();
    expect(stored).toContain('<meta name="bloomsight-model" content="flowers-kmeans">');
    expect(stored).not.toContain('/live/');
    // A report from before the meta tag: the run key names the model.
    expect((await rawRequest(server.url, '/reports/flowers-edges/')).body.toString()).toContain('href="/live/flowers-edges/"');
    // A model without an export gets no link.
    expect((await rawRequest(server.url, '/reports/run-without-model/')).body.toString()).not.toContain('/live/');
    expect((await rawRequest(server.url, '/reports/run-with-meta')).headers.location).toBe('/reports/run-with-meta/');

    const clip = await rawRequest(server.url, '/reports/run-with-meta/clip.mp4');
    expect(clip.body.toString()).toBe('0123456789');
    expect(clip.headers['content-type']).toBe('video/mp4');
    const range = await rawRequest(server.url, '/reports/run-with-meta/clip.mp4', 'GET', { range: 'bytes=2-5' });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe('bytes 2-5/10');
    expect(range.body.toString()).toBe('2345');
    expect((await rawRequest(server.url, '/reports/run-with-meta/clip.mp4', 'GET', { range: 'bytes=-3' })).body.toString()).toBe('789');
    expect((await rawRequest(server.url, '/reports/run-with-meta/clip.mp4', 'GET', { range: 'bytes=20-' })).status).toBe(416);
  });

  it('defaults to the newest export', async () => {
    expect(await newestExport(store)).toBe('flowers-edges');
    const fallback = await startCameraServer({ store, port: 0 });
    try {
      expect(fallback.modelId).toBe('flowers-edges');
    } finally {
      await fallback.close();
    }
    expect(await newestExport(new FsStore(join(root, 'empty')))).toBeUndefined();
  });

  it('gives an export made before generator.onnx its generator.onnx before serving it', async () => {
    await writeVersion1Export(store, 'flowers-v1');
    const dir = keys.exportDir('flowers-v1');
    expect(await store.exists(`${dir}/generator.onnx`)).toBe(false);
    const served = JSON.parse((await rawRequest(server.url, '/models/flowers-v1/export/metadata.json')).body.toString());
    expect(served).toMatchObject({ formatVersion: EXPORT_FORMAT_VERSION, onnx: { file: 'generator.onnx' } });
    expect(served.files.map((f: { name: string }) => f.name)).toContain('generator.onnx');
    expect(await store.exists(`${dir}/generator.onnx`)).toBe(true);
  });
});

const chromiumProblem = existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`;

if (chromiumProblem && process.env.CI) {
  it('has Chromium to open the camera page', () => {
    throw new Error(chromiumProblem);
  });
} else if (chromiumProblem) {
  console.warn(`[camera.test] skipping the Chromium tests: ${chromiumProblem}`);
  it.skip(`opens the camera page in Chromium (skipped: ${chromiumProblem})`, () => {});
} else {
  describe('live camera page in headless Chromium, filming a photograph', () => {
    let browser: Browser;
    let cameraFlags: string[];
    const servers: CameraServer[] = [];

    async function openPage(modelId: string, query = '', target: Browser = browser): Promise<{ page: Page; consoleErrors: string[]; pageErrors: string[] }> {
      const server = await startCameraServer({ store, modelId, port: 0, log: () => {} });
      servers.push(server);
      const page = await target.newPage({ viewport: { width: 1280, height: 600 } });
      const consoleErrors: string[] = [];
      const pageErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${server.url}${query}`, { waitUntil: 'load' });
      return { page, consoleErrors, pageErrors };
    }

    const pageState = (page: Page): Promise<PageState> => page.evaluate(() => window.__bloomsight);
    const snapshot = (page: Page): Promise<FrameSnapshot> => page.evaluate(() => window.__bloomsightDebug.snapshot());

    async function waitForFrames(page: Page, frames: number, timeout = 60_000): Promise<PageState> {
      await page.waitForFunction((n) => window.__bloomsight?.frames >= n || window.__bloomsight?.status === 'error', frames, { timeout });
      const state = await pageState(page);
      expect(state.error, 'the page stopped').toBeUndefined();
      return state;
    }

    async function waitForError(page: Page): Promise<{ kind: string; message: string; shown: string }> {
      await page.waitForFunction(() => window.__bloomsight?.status === 'error', undefined, { timeout: 60_000 });
      const { error } = await pageState(page);
      const shown = await page.locator('#error').innerText();
      expect(await page.locator('#error').isVisible()).toBe(true);
      return { ...error!, shown };
    }

    const image = (data: number[]): RgbImage => ({ width: SIZE, height: SIZE, data: Uint8Array.from(data) });

    /** The export's generator on onnxruntime-node: the Node side's inference. */
    async function nodeOutput(modelId: string, partial: RgbImage): Promise<Float32Array> {
      const loaded = await loadExport(store, modelId);
      try {
        return await loaded.session.run(imagesToNchw([partial]), 1, SIZE);
      } finally {
        await loaded.dispose();
      }
    }

    function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
      expect(a.length).toBe(b.length);
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
      return max;
    }

    beforeAll(async () => {
      rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      cameraFlags = await photoCamera(PHOTO, join(root, 'camera.y4m'));
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', ...cameraFlags, ...GC_FLAGS] });
    });

    afterAll(async () => {
      await browser?.close();
      await Promise.all(servers.map((s) => s.close()));
    });

    it('runs generator.onnx on WebAssembly with threads in a worker, says why, shows the frame rate, and keeps the main thread free', async () => {
      const { page, consoleErrors, pageErrors } = await openPage('flowers-kmeans');
      const first = await waitForFrames(page, 5);
      expect(first.backend).toBe('wasm');
      expect(first.capture).toBe('stream');
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(first.threads, 'WebAssembly threads').toBe(Math.min(4, cores));
      expect(first.threads).toBeGreaterThan(1);
      expect(first.backendNote).toBeUndefined();
      expect(first.passedOver).toEqual(['WebGPU: no WebGPU adapter (no usable GPU)']);
      expect(await page.locator('#backend').innerText()).toBe(`ONNX Runtime Web, WebAssembly (SIMD, ${first.threads} threads)`);
      expect(await page.locator('#backend-why').innerText()).toContain('passed over WebGPU: no WebGPU adapter');

      // The camera pans forwards and back, so two frames can match; of two later frames, one differs.
      const before = await snapshot(page);
      await waitForFrames(page, before.frame + 7);
      const later = await snapshot(page);
      await waitForFrames(page, later.frame + 13);
      const after = await snapshot(page);
      const differs = (a: FrameSnapshot) => a.output.some((value, i) => value !== before.output[i]);
      expect(differs(later) || differs(after), 'the output follows the camera').toBe(true);
      expect(new Set(after.output.filter((_, i) => i % 3 === 0)).size, 'the output is not one flat colour').toBeGreaterThan(10);

      await page.waitForTimeout(3000); // let the rate settle over several whole seconds
      const state = await pageState(page);
      const fpsText = await page.locator('#fps').innerText();
      expect(fpsText).toMatch(/^\d+\.\d fps$/);
      expect(state.fps).toBeGreaterThan(0);
      expect(await page.locator('#timings').innerText()).toMatch(/^per frame: capture [\d.]+ · partial [\d.]+ · network [\d.]+ · paint [\d.]+ ms$/);
      // Frames are captured, clustered, inferred and painted in the worker: the main thread only
      // updates a few numbers per frame. Its longest task stays far below one inference (the page
      // used to run every frame there); 200 ms leaves room for a loaded 2-core machine.
      expect(state.longestTaskMs, 'long tasks are reported (Chromium)').toBeDefined();
      expect(state.longestTaskMs!).toBeLessThan(200);

      await page.screenshot({ path: join(ARTIFACTS_DIR, 'camera.png') });
      console.log(
        `[camera.test] ${SIZE}px generator in headless Chromium: ${fpsText} on ${state.backendLabel} (${state.frames} frames; ` +
          `per frame ms: ${Object.entries(state.timings!).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; main thread longest task ${state.longestTaskMs!.toFixed(0)} ms)`,
      );
      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it("paints the partial information of the Node side's temporally stable k-means, frame by frame, byte for byte", async () => {
      const { page } = await openPage('flowers-kmeans', '?trace=12');
      await waitForFrames(page, 12);
      const trace: FrameTrace = await page.evaluate(() => window.__bloomsightDebug.trace());
      expect(trace.frames).toHaveLength(12);
      // The same class, from the first frame on, fed the frames the page captured.
      const node = new StablePartial(PartialParamsSchema.parse(KMEANS.params));
      let changed = 0;
      for (const [i, frame] of trace.frames.entries()) {
        const expected = await node.next(image(frame.camera));
        expect(Buffer.from(frame.partial).equals(Buffer.from(expected.data)), `frame ${i}`).toBe(true);
        if (i > 0 && frame.camera.some((v, j) => v !== trace.frames[i - 1]!.camera[j])) changed++;
      }
      expect(changed, 'the camera pans: consecutive frames differ').toBeGreaterThan(5);

      // A later frame, as painted, from the centres the page carried into it.
      const later = await snapshot(page);
      expect(later.centresBefore).toHaveLength(6 * 3);
      const expected = await new StablePartial(PartialParamsSchema.parse(KMEANS.params), { startCentres: later.centresBefore }).next(image(later.camera));
      expect(Buffer.from(later.partial).equals(Buffer.from(expected.data)), `frame ${later.frame}`).toBe(true);
      await page.close();
    });

    it("paints the Node side's edge map, byte for byte", async () => {
      const { page } = await openPage('flowers-edges');
      await waitForFrames(page, 3);
      const frame = await snapshot(page);
      const expected = await partialInformation(image(frame.camera), { method: 'edges' });
      expect(Buffer.from(frame.partial).equals(Buffer.from(expected.data))).toBe(true);
      expect(expected.data.some((v) => v !== 0), 'the photo has edges').toBe(true);
      await page.close();
    });

    it(`paints the network output of Node-side ONNX Runtime, within ${OUTPUT_TOLERANCE}`, async () => {
      const { page } = await openPage('flowers-kmeans');
      await waitForFrames(page, 3);
      const frame = await snapshot(page);
      const expected = await nodeOutput('flowers-kmeans', image(frame.partial));
      const difference = maxDifference(frame.values, expected);
      console.log(`[camera.test] page (ONNX Runtime Web, WebAssembly) vs onnxruntime-node: max |difference| ${difference.toExponential(2)}`);
      expect(difference).toBeLessThan(OUTPUT_TOLERANCE);
      // Painted bytes are round((y + 1) * 127.5) of the page's own values.
      const painted = image(frame.output);
      const plane = SIZE * SIZE;
      for (let p = 0; p < plane; p += 97) {
        for (let c = 0; c < 3; c++) expect(painted.data[p * 3 + c]).toBe(Math.min(255, Math.max(0, Math.round((frame.values[c * plane + p]! + 1) * 127.5))));
      }
      await page.close();
    });

    it('holds its memory steady over 300 frames', async () => {
      // A browser of its own, so its renderer processes hold this page only. The renderer's resident
      // memory counts everything a frame could leak: JS heaps, ONNX Runtime's WebAssembly heap, canvases.
      // (performance.measureUserAgentSpecificMemory would wait a minute here: ONNX Runtime's threads
      // sleep in Atomics.wait and answer no measurement request.)
      const own = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', ...cameraFlags, ...GC_FLAGS, '--disable-features=SpareRendererForSitePerProcess'],
      });
      try {
        const cdp = await own.newBrowserCDPSession();
        const rendererBytes = async (): Promise<number> => {
          const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ type: string; id: number }> };
          const renderers = processInfo.filter((p) => p.type === 'renderer');
          expect(renderers.length).toBeGreaterThan(0);
          return renderers.reduce((sum, p) => sum + Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'))![1]) * 1024, 0);
        };
        const { page, consoleErrors } = await openPage('flowers-kmeans', '', own);
        const settled = async (): Promise<number> => {
          await page.evaluate(() => window.__bloomsightDebug.collectGarbage());
          return rendererBytes();
        };
        const start = await waitForFrames(page, 30);
        const before = await settled();
        const end = await waitForFrames(page, start.frames + 300, 120_000);
        const after = await settled();
        const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
        console.log(`[camera.test] renderer memory over ${end.frames - start.frames} frames (${end.backendLabel}): ${mib(before)} -> ${mib(after)}`);
        // Run to run, the reading moves by about 4 MiB without any leak; leaking one 64x64 input
        // tensor a frame (48 KiB) would add 14 MiB over 300 frames.
        expect(after - before).toBeLessThan(8 * 2 ** 20);
        expect(consoleErrors, 'no VideoFrame was left unclosed').toEqual([]);
      } finally {
        await own.close();
      }
    });

    it('hides and shows the partial-information panel with its checkbox', async () => {
      const { page } = await openPage('flowers-kmeans');
      await waitForFrames(page, 1);
      await expect(page.locator('#partial-panel').isVisible()).resolves.toBe(true);
      await page.locator('#show-partial').uncheck();
      await expect(page.locator('#partial-panel').isVisible()).resolves.toBe(false);
      const frames = (await pageState(page)).frames;
      await waitForFrames(page, frames + 2);
      await page.locator('#show-partial').check();
      await expect(page.locator('#partial-panel').isVisible()).resolves.toBe(true);
      await page.close();
    });

    it('takes frames as ImageBitmaps from the page where the camera stream cannot go to the worker', async () => {
      const { page, consoleErrors } = await openPage('flowers-kmeans', '?capture=bitmaps');
      const state = await waitForFrames(page, 10);
      expect(state.capture).toBe('bitmaps');
      const frame = await snapshot(page);
      const expected = await new StablePartial(PartialParamsSchema.parse(KMEANS.params), { startCentres: frame.centresBefore }).next(image(frame.camera));
      expect(Buffer.from(frame.partial).equals(Buffer.from(expected.data))).toBe(true);
      expect(consoleErrors).toEqual([]);
      await page.close();
    });

    it('runs the TF.js layers model when asked (?backend=cpu), close to ONNX Runtime, without leaking tensors', async () => {
      const { page, consoleErrors } = await openPage('flowers-kmeans', '?backend=cpu');
      const state = await waitForFrames(page, 5);
      expect(state.backend).toBe('tfjs-cpu');
      expect(state.passedOver).toEqual([]);
      const frame = await snapshot(page);
      const difference = maxDifference(frame.values, await nodeOutput('flowers-kmeans', image(frame.partial)));
      console.log(`[camera.test] page (TF.js CPU, layers model, batch norm unfolded) vs onnxruntime-node: max |difference| ${difference.toExponential(2)}`);
      expect(difference).toBeLessThan(OUTPUT_TOLERANCE);
      const tensors = (await pageState(page)).tensors;
      expect(tensors).toBeGreaterThan(0);
      await waitForFrames(page, frame.frame + 5);
      expect((await pageState(page)).tensors, 'tensors leak per frame').toBe(tensors);
      expect(consoleErrors).toEqual([]);
      await page.close();
    });

    it('falls back to TF.js where the browser has no WebAssembly, and says why', async () => {
      // Chromium always has WebAssembly (no flag removes it), so the worker's script starts by deleting
      // it, as a browser without WebAssembly (iOS in Lockdown Mode) would be.
      const context = await browser.newContext();
      await context.route('**/camera/worker.js', async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, body: `delete globalThis.WebAssembly;\n${await response.text()}` });
      });
      try {
        const noWasm = await context.newPage();
        const server = await startCameraServer({ store, modelId: 'flowers-kmeans', port: 0, log: () => {} });
        servers.push(server);
        await noWasm.goto(server.url);
        const state = await waitForFrames(noWasm, 3);
        expect(state.backend).toBe('tfjs-cpu');
        expect(state.passedOver).toEqual(['WebGPU: no WebGPU adapter (no usable GPU)', 'WebAssembly: this browser has no WebAssembly', expect.stringMatching(/^TF\.js WebGL: /)]);
        expect(await noWasm.locator('#backend-why').innerText()).toContain('passed over WebAssembly: this browser has no WebAssembly');
      } finally {
        await context.close();
      }
    });

    it('runs an export made before generator.onnx on WebAssembly (the server adds the file)', async () => {
      await writeVersion1Export(store, 'flowers-old');
      const { page } = await openPage('flowers-old');
      expect((await waitForFrames(page, 3)).backend).toBe('wasm');
      await page.close();
    });

    it('runs over https, cross-origin isolated, as a phone on the network would open it', async () => {
      const [cert, key] = [join(root, 'cert.pem'), join(root, 'key.pem')];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
      const server = await startCameraServer({ store, modelId: 'flowers-kmeans', port: 0, tls: { cert: readFileSync(cert), key: readFileSync(key) }, log: () => {} });
      servers.push(server);
      expect(server.url).toMatch(/^https:/);
      const context = await browser.newContext({ ignoreHTTPSErrors: true }); // a self-signed certificate; mkcert's would be trusted
      try {
        const page = await context.newPage();
        await page.goto(server.url);
        const state = await waitForFrames(page, 3);
        expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
        expect(state.backend).toBe('wasm');
        expect(state.threads).toBeGreaterThan(1);
      } finally {
        await context.close();
      }
    });

    it('says so when the model has no metadata.json', async () => {
      const { page } = await openPage('never-exported');
      const error = await waitForError(page);
      expect(error.kind).toBe('metadata-missing');
      expect(error.shown).toMatch(/metadata\.json is missing/);
      await page.close();
    });

    it('says so when the export has an incompatible formatVersion', async () => {
      const metadata = JSON.parse((await store.get(`${keys.exportDir('flowers-kmeans')}/metadata.json`)).toString('utf8'));
      await putJson(store, `${keys.exportDir('from-the-future')}/metadata.json`, { ...metadata, formatVersion: 99 });
      const { page } = await openPage('from-the-future');
      const error = await waitForError(page);
      expect(error.kind).toBe('metadata-incompatible');
      expect(error.shown).toMatch(/formatVersion 99/);
      await page.close();
    });

    it('says so, naming each backend, when the model fails to load', async () => {
      // metadata.json and model.json, but neither generator.onnx nor the weight shards.
      for (const name of ['metadata.json', 'model.json']) await copyObject(store, `${keys.exportDir('flowers-kmeans')}/${name}`, `${keys.exportDir('no-weights')}/${name}`);
      const { page } = await openPage('no-weights');
      const error = await waitForError(page);
      expect(error.kind).toBe('model-load');
      expect(error.shown).toMatch(/the model failed to load on every backend/);
      expect(error.shown).toMatch(/WebAssembly: generator\.onnx: HTTP 404/);
      expect(error.shown).toMatch(/TF\.js CPU: /);
      await page.close();
    });

    it('says so when camera permission is denied', async () => {
      const denying = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...cameraFlags, '--deny-permission-prompts'] });
      try {
        const { page } = await openPage('flowers-kmeans', '', denying);
        const error = await waitForError(page);
        expect(error.kind).toBe('camera-permission');
        expect(error.shown).toMatch(/camera permission was denied/);
      } finally {
        await denying.close();
      }
    });
  });
}
