// The live camera's Node side (issues 8 and 13): the page helpers shared with the browser, and the
// server: whitelists, cross-origin isolation headers, onnxruntime-web's files, reports with their
// live link, the upgrade of old exports. The page itself in Chromium: test/camera-page.test.ts.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newestExport, startCameraServer, type CameraServer } from '../camera';
import { findOrtAssets, ORT_FILES } from '../camera/ort-assets';
import { blurRgb as browserBlur } from '../camera/shared/browser-blur';
import { FpsMeter } from '../camera/shared/fps';
import { MetadataError, readCameraModel, SUPPORTED_FORMAT_VERSIONS } from '../camera/shared/metadata';
import { centreSquare } from '../camera/shared/pixels';
import { conformRgb, partialInformation } from '../imaging';
import { blurRgb } from '../imaging/blur';
import { EXPORT_FORMAT_VERSION } from '../model/export-metadata';
import { FsStore, keys } from '../storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHOTO, SIZE, writeVersion1Export, rawRequest, cameraFixtureStore } from './helpers/camera-fixtures';

let root: string;
let store: FsStore;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ root, store, cleanup } = await cameraFixtureStore());
});

afterAll(async () => cleanup?.());
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
    for (const runKey of ['run-with-meta', 'flowers-edges', 'run-without-model', 'comparison']) expect(listing).toContain(`href="/reports/${runKey}/"`);

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
    // A comparison links every variant that has an export, by its name.
    const comparison = (await rawRequest(server.url, '/reports/comparison/')).body.toString();
    expect(comparison).toContain('<a href="/live/flowers-kmeans/">k7 &amp; &quot;palette&quot;</a> (<code>flowers-kmeans</code>)');
    expect(comparison).toContain('<a href="/live/flowers-edges/">edges</a>');
    expect(comparison).not.toContain('/live/never-exported/');
    expect((await store.get(keys.report('comparison'))).toString()).not.toContain('/live/');

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
