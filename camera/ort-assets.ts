// onnxruntime-web's browser files, served from node_modules: the machine (and a user's installation)
// may have no internet, so nothing comes from a CDN. The URL carries the package version, so
// browsers may cache these large files for good.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The files the camera worker loads: each flavour's module, its Emscripten glue (which also starts
 * the WebAssembly threads) and its binary. ort.wasm: WebAssembly only; ort.webgpu: WebGPU (Asyncify build).
 */
export const ORT_FILES: readonly string[] = [
  'ort.wasm.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort.webgpu.min.mjs',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

export interface OrtAssets {
  version: string;
  /** URL path of the folder, e.g. /ort/1.30.0/ */
  urlBase: string;
  /** The file on disk for a name in ORT_FILES, else undefined. */
  file(name: string): string | undefined;
}

export class OrtAssetsMissingError extends Error {
  override readonly name = 'OrtAssetsMissingError';
}

/** Finds onnxruntime-web in node_modules; throws OrtAssetsMissingError naming the missing file. */
export function findOrtAssets(): OrtAssets {
  let dist: string;
  try {
    // The package's Node entry lives in dist/, beside the browser files.
    dist = dirname(require.resolve('onnxruntime-web'));
  } catch {
    throw new OrtAssetsMissingError('onnxruntime-web is not installed (run npm ci): the camera page needs its WebAssembly files');
  }
  for (const name of ORT_FILES) {
    if (!existsSync(join(dist, name))) throw new OrtAssetsMissingError(`onnxruntime-web has no ${name} in ${dist} (reinstall it: npm ci)`);
  }
  const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  return { version, urlBase: `/ort/${version}/`, file: (name) => (ORT_FILES.includes(name) ? join(dist, name) : undefined) };
}
