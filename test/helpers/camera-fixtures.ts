/** What the camera tests share: Chromium's flags, the fixture exports and reports, raw HTTP requests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportMetadataSchema } from '../../model/export-metadata';
import type { Provenance } from '../../model/options';
import { buildComparisonReport, buildReport } from '../../report';
import { FsStore, keys, putJson } from '../../storage';
import { exportUntrained } from './model';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** gc() in the page and its workers. */
export const GC_FLAGS = ['--js-flags=--expose-gc'];
export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts', 'camera');
export const PHOTO = join(__dirname, '..', 'fixtures', 'photos', 'calla.jpg');
export const SIZE = 64;
export const KMEANS: Provenance['partialInformation'] = { method: 'kmeans', params: { method: 'kmeans', k: 6 } };
export const EDGES: Provenance['partialInformation'] = { method: 'edges', params: { method: 'edges' } };
/**
 * Page vs Node network outputs. The same generator.onnx on ONNX Runtime Web (WebAssembly, SIMD) and
 * onnxruntime-node (x86 kernels) sums in a different order, so float32 outputs differ in the last
 * bits (about 1e-6 here); the bound is 1e-3.
 */
export const OUTPUT_TOLERANCE = 1e-3;

/** A real export of a 64x64 generator (ngf 4) with seeded weights rescaled so the output follows the input. */
export async function writeExport(store: FsStore, modelId: string, partial: Provenance['partialInformation']): Promise<void> {
  await exportUntrained(store, modelId, { imageSize: SIZE, ngf: 4, seed: 11, partialInformation: partial, rescaleKernels: true });
}

/** An export as it was before generator.onnx (format version 1): the TF.js files only. */
export async function writeVersion1Export(store: FsStore, modelId: string): Promise<void> {
  await writeExport(store, modelId, KMEANS);
  const dir = keys.exportDir(modelId);
  const metadata = ExportMetadataSchema.parse(JSON.parse((await store.get(`${dir}/metadata.json`)).toString('utf8')));
  await store.delete(`${dir}/generator.onnx`);
  await putJson(store, `${dir}/metadata.json`, { ...metadata, formatVersion: 1, onnx: undefined, files: metadata.files.filter((f) => f.name !== 'generator.onnx') });
}

export async function copyObject(store: FsStore, from: string, to: string): Promise<void> {
  await store.put(to, await store.get(from));
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET or any method with the path sent exactly as written (fetch would normalise '..'). */
export function rawRequest(url: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<RawResponse> {
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

export function reportFor(runKey: string, modelId?: string): string {
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

/** A comparison report of variants trained as `modelIds` (in that order). */
export function comparisonReportFor(runKey: string, variants: Array<{ name: string; modelId: string }>): string {
  return buildComparisonReport({
    title: `bloomsight comparison ${runKey}`,
    runKey,
    createdAt: '2026-12-08T00:00:00Z',
    parameters: {},
    dataset: { found: 1, downloaded: 1, duplicates: 0, failed: 0, pairs: 1, failuresByReason: {}, datasetId: 'test' },
    variants: variants.map(({ name, modelId }) => ({
      name,
      modelId,
      datasetId: `test-${name}`,
      partial: { method: 'kmeans', k: 7 },
      trainOverrides: {},
      steps: 0,
      trainingSeconds: 0,
      imagesPerSecond: 0,
      backend: 'tensorflow',
      lossHistory: [],
    })),
    heldOut: false,
    examples: [],
  });
}

/**
 * A store with two exports (k-means, edges), a file metadata.json does not list (never to be
 * served), and reports with and without their model named.
 */
export async function cameraFixtureStore(): Promise<{ root: string; store: FsStore; cleanup(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'bloomsight-camera-test-'));
  const store = new FsStore(root);
  await writeExport(store, 'flowers-kmeans', KMEANS);
  await writeExport(store, 'flowers-edges', EDGES);
  await store.put(`${keys.exportDir('flowers-kmeans')}/notes.txt`, Buffer.from('not for the page'));
  await store.put(keys.report('run-with-meta'), Buffer.from(reportFor('run-with-meta', 'flowers-kmeans')));
  await store.put(keys.reportFile('run-with-meta', 'clip.mp4'), Buffer.from('0123456789'));
  // Written before reports named their model: the run key is the model id (as learnToSee makes it).
  await store.put(keys.report('flowers-edges'), Buffer.from(reportFor('flowers-edges')));
  await store.put(keys.report('run-without-model'), Buffer.from(reportFor('run-without-model', 'never-exported')));
  const variants = [
    { name: 'k7 & "palette"', modelId: 'flowers-kmeans' },
    { name: 'edges', modelId: 'flowers-edges' },
    { name: 'untrained', modelId: 'never-exported' },
  ];
  await store.put(keys.report('comparison'), Buffer.from(comparisonReportFor('comparison', variants)));
  return { root, store, cleanup: () => rm(root, { recursive: true, force: true }) };
}
