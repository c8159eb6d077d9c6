// The live camera page (issue 8 point 3): its Node-side pieces, the server's file whitelist, then the
// real page in headless Chromium with Chromium's fake camera. Needs /usr/bin/chromium (.ci/run
// installs it); ignores the Temporal and S3 servers of the global setup. Writes
// test-artifacts/camera/camera.png and prints the frame rate the page reached.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blurRgb as browserBlur } from '../camera/browser-blur';
import { FpsMeter } from '../camera/fps';
import { MetadataError, readCameraModel, SUPPORTED_FORMAT_VERSIONS } from '../camera/metadata';
import { centreSquare } from '../camera/pixels';
import { newestExport, startCameraServer, type CameraServer } from '../camera';
import { conformRgb, partialInformation } from '../imaging';
import { blurRgb } from '../imaging/blur';
import { EXPORT_FORMAT_VERSION } from '../model/export-metadata';
import { exportUntrained } from './helpers/model';
import type { Provenance } from '../model/options';
import { FsStore, keys, putJson } from '../storage';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const ARTIFACTS_DIR = join(__dirname, '..', 'test-artifacts', 'camera');
const PHOTO = join(__dirname, 'fixtures', 'photos', 'calla.jpg');
const SIZE = 64;
const KMEANS: Provenance['partialInformation'] = { method: 'kmeans', params: { method: 'kmeans', k: 6 } };
const EDGES: Provenance['partialInformation'] = { method: 'edges', params: { method: 'edges' } };

/** A real export of a 64x64 generator (ngf 4) with seeded weights rescaled so the output follows the input. */
async function writeExport(store: FsStore, modelId: string, partial: Provenance['partialInformation']): Promise<void> {
  await exportUntrained(store, modelId, { imageSize: SIZE, ngf: 4, seed: 11, partialInformation: partial, rescaleKernels: true });
}

async function copyObject(store: FsStore, from: string, to: string): Promise<void> {
  await store.put(to, await store.get(from));
}

/** GET or any method with the path sent exactly as written (fetch would normalise '..'). */
function rawRequest(url: string, path: string, method = 'GET'): Promise<{ status: number; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
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
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('camera page helpers', () => {
  it('reads the format version the exporter writes', async () => {
    expect(SUPPORTED_FORMAT_VERSIONS).toContain(EXPORT_FORMAT_VERSION);
    const metadata = JSON.parse((await store.get(`${keys.exportDir('flowers-kmeans')}/metadata.json`)).toString('utf8'));
    const model = readCameraModel(metadata);
    expect(model).toMatchObject({ imageSize: SIZE, paramsAssumed: false, steps: 0 });
    expect(model.params).toMatchObject({ method: 'kmeans', k: 6, paint: 'palette', blurSigma: 0 });
    expect(readCameraModel({ ...metadata, partialInformation: undefined })).toMatchObject({ paramsAssumed: true, params: { method: 'kmeans', k: 7 } });
  });

  it('refuses other format versions and documents that are not exports', () => {
    expect(() => readCameraModel({ formatVersion: 3, kind: 'bloomsight-pix2pix-generator', imageSize: 64 })).toThrow(/incompatible export: formatVersion 3/);
    expect(() => readCameraModel(null)).toThrow(MetadataError);
    expect(() => readCameraModel({ formatVersion: 1, kind: 'something-else', imageSize: 64 })).toThrow(/not a bloomsight export/);
    expect(() => readCameraModel({ formatVersion: 1, kind: 'bloomsight-pix2pix-generator', imageSize: 64, partialInformation: { method: 'kmeans', params: { k: 99 } } })).toThrow(
      /cannot apply/,
    );
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

  beforeAll(async () => {
    server = await startCameraServer({ store, modelId: 'flowers-kmeans', port: 0 });
  });
  afterAll(() => server?.close());

  it('serves the page, its script and the files metadata.json lists', async () => {
    const page = await rawRequest(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('data-model-id="flowers-kmeans"');
    expect((await rawRequest(server.url, '/camera.js')).body.length).toBeGreaterThan(100_000);
    const dir = keys.exportDir('flowers-kmeans');
    const metadata = JSON.parse((await store.get(`${dir}/metadata.json`)).toString('utf8')) as { files: Array<{ name: string }> };
    for (const name of ['metadata.json', ...metadata.files.map((f) => f.name)]) {
      const response = await rawRequest(server.url, `/model/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.body.equals(await store.get(`${dir}/${name}`)), name).toBe(true);
    }
  });

  it('answers 404 to path traversal and to keys metadata.json does not list', async () => {
    const dir = keys.exportDir('flowers-kmeans');
    const attempts = [
      '/model/../../sums/x',
      `/model/../../sums/${dir}/metadata.json`,
      `/model/../../objects/${dir}/notes.txt`,
      '/model/..%2F..%2Fsums%2Fx',
      '/model/%2e%2e/%2e%2e/sums/x',
      '/model/%2e%2e%2flatest.json',
      '/model/../latest.json',
      '/model/notes.txt',
      '/model/',
      '/model/%',
      '/model/model.json/',
      '/models/flowers-edges/export/metadata.json',
      `/${dir}/metadata.json`,
      '/sums/x',
      '/../../etc/passwd',
    ];
    for (const path of attempts) expect((await rawRequest(server.url, path)).status, path).toBe(404);
    expect((await rawRequest(server.url, '/model/metadata.json', 'POST')).status).toBe(405);
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
  describe('live camera page in headless Chromium with a fake camera', () => {
    let browser: Browser;
    const servers: CameraServer[] = [];

    async function openPage(modelId: string, target: Browser = browser): Promise<{ page: Page; consoleErrors: string[]; pageErrors: string[] }> {
      const server = await startCameraServer({ store, modelId, port: 0 });
      servers.push(server);
      const page = await target.newPage({ viewport: { width: 1280, height: 600 } });
      const consoleErrors: string[] = [];
      const pageErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(server.url, { waitUntil: 'load' });
      return { page, consoleErrors, pageErrors };
    }

    const pageState = (page: Page) => page.evaluate(() => window.__bloomsight);
    const canvasPixels = (page: Page, id: string) =>
      page.evaluate((canvasId) => {
        const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
        return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
      }, id);

    async function waitForError(page: Page): Promise<{ kind: string; message: string; shown: string }> {
      await page.waitForFunction(() => window.__bloomsight?.status === 'error', undefined, { timeout: 60_000 });
      const { error } = await pageState(page);
      const shown = await page.locator('#error').innerText();
      expect(await page.locator('#error').isVisible()).toBe(true);
      return { ...error!, shown };
    }

    beforeAll(async () => {
      rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...FAKE_CAMERA] });
    });

    afterAll(async () => {
      await browser?.close();
      await Promise.all(servers.map((s) => s.close()));
    });

    it('runs the generator on camera frames, shows the frame rate, and logs no errors', async () => {
      const { page, consoleErrors, pageErrors } = await openPage('flowers-kmeans');
      await page.waitForFunction(() => window.__bloomsight?.frames >= 5 || window.__bloomsight?.status === 'error', undefined, { timeout: 60_000 });
      expect((await pageState(page)).error).toBeUndefined();

      const first = await canvasPixels(page, 'output');
      const framesBefore = (await pageState(page)).frames;
      await page.waitForFunction((n) => window.__bloomsight.frames >= n + 5, framesBefore, { timeout: 30_000 });
      const second = await canvasPixels(page, 'output');
      expect(first.length).toBe(SIZE * SIZE * 4);
      expect(second.some((value, i) => value !== first[i]), 'the output canvas changed between two samples').toBe(true);
      expect(new Set(second.filter((_, i) => i % 4 === 0)).size, 'the output is not one flat colour').toBeGreaterThan(10);

      await page.waitForTimeout(3000); // let the rate settle over several whole seconds
      const state = await pageState(page);
      const fpsText = await page.locator('#fps').innerText();
      expect(fpsText).toMatch(/^\d+\.\d fps$/);
      expect(state.fps).toBeGreaterThan(0);
      expect(await page.locator('#backend').innerText()).toBe(state.backend);
      expect(['cpu', 'webgl']).toContain(state.backend);
      const tensorsBefore = state.tensors;
      await page.waitForFunction((n) => window.__bloomsight.frames >= n + 3, state.frames, { timeout: 30_000 });
      expect((await pageState(page)).tensors, 'tensors leak per frame').toBe(tensorsBefore);

      await page.screenshot({ path: join(ARTIFACTS_DIR, 'camera.png') });
      console.log(`[camera.test] ${SIZE}px generator in headless Chromium: ${fpsText} on the tfjs ${state.backend} backend (${state.frames} frames; ${state.backendNote ?? ''})`);
      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it('hides and shows the partial-information panel with its checkbox', async () => {
      const { page } = await openPage('flowers-kmeans');
      await page.waitForFunction(() => window.__bloomsight?.frames >= 1, undefined, { timeout: 60_000 });
      await expect(page.locator('#partial-panel').isVisible()).resolves.toBe(true);
      await page.locator('#show-partial').uncheck();
      await expect(page.locator('#partial-panel').isVisible()).resolves.toBe(false);
      const frames = (await pageState(page)).frames;
      await page.waitForFunction((n) => window.__bloomsight.frames >= n + 2, frames, { timeout: 30_000 });
      await page.locator('#show-partial').check();
      await expect(page.locator('#partial-panel').isVisible()).resolves.toBe(true);
      await page.close();
    });

    it("computes the partial information with the Node side's code (edges: byte-identical)", async () => {
      const { page } = await openPage('flowers-edges');
      await page.waitForFunction(() => window.__bloomsight?.frames >= 3, undefined, { timeout: 60_000 });
      // One evaluate reads both canvases between frames, so they hold the same camera frame.
      const { camera, partial } = await page.evaluate(() => {
        const read = (id: string) => {
          const canvas = document.getElementById(id) as HTMLCanvasElement;
          return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
        };
        return { camera: read('camera'), partial: read('partial') };
      });
      const rgb = (rgba: number[]) => Uint8Array.from(rgba.filter((_, i) => i % 4 !== 3));
      const expected = await partialInformation({ width: SIZE, height: SIZE, data: rgb(camera) }, { method: 'edges' });
      expect(Buffer.from(rgb(partial)).equals(Buffer.from(expected.data))).toBe(true);
      expect(expected.data.some((v) => v !== 0), 'the fake camera frame has edges').toBe(true);
      await page.close();
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

    it('says so when the model fails to load', async () => {
      for (const name of ['metadata.json', 'model.json']) await copyObject(store, `${keys.exportDir('flowers-kmeans')}/${name}`, `${keys.exportDir('no-weights')}/${name}`);
      const { page } = await openPage('no-weights');
      const error = await waitForError(page);
      expect(error.kind).toBe('model-load');
      expect(error.shown).toMatch(/the model failed to load/);
      await page.close();
    });

    it('says so when camera permission is denied', async () => {
      const denying = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--deny-permission-prompts'] });
      try {
        const { page } = await openPage('flowers-kmeans', denying);
        const error = await waitForError(page);
        expect(error.kind).toBe('camera-permission');
        expect(error.shown).toMatch(/camera permission was denied/);
      } finally {
        await denying.close();
      }
    });
  });
}
