// Builds the camera page's scripts with esbuild (vite's bundler), in memory, once per process:
// page.js (the main thread), worker.js (the module worker) and the chunks they share or load on
// demand (TF.js, about 2 s of the build, is a chunk the worker loads only when it falls back to it).
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = join(__dirname, '..');
const ENTRIES = { page: join(__dirname, 'page', 'page.ts'), worker: join(__dirname, 'worker', 'worker.ts') };
const NODE_BLUR = join(ROOT, 'imaging', 'blur');
const BROWSER_BLUR = join(__dirname, 'shared', 'browser-blur.ts');
const NODE_ONLY = /^(sharp|node:.*|fs|path|os|child_process|crypto|stream|http|https|net|zlib|worker_threads|onnxruntime-node|@tensorflow\/tfjs-node.*)$/;

/**
 * The worker reuses the Node side's imaging and video/stable-partial code as is. Their only Node
 * dependency is imaging/blur.ts (sharp), swapped here for a pure-JS blur with the same signature;
 * any other Node-only import from our code fails the build with the importer's name.
 */
const browserImaging: Plugin = {
  name: 'bloomsight-browser-imaging',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(^|\/)blur$/ }, (args) =>
      resolve(args.resolveDir, args.path) === NODE_BLUR ? { path: BROWSER_BLUR } : undefined,
    );
    pluginBuild.onResolve({ filter: NODE_ONLY }, (args) =>
      args.importer.includes('/node_modules/')
        ? undefined
        : { errors: [{ text: `"${args.path}" is Node-only and cannot go into the camera page (imported by ${args.importer})` }] },
    );
  },
};

/** File name (page.js, worker.js, chunk-<hash>.js) -> contents, all served under /camera/. */
export type CameraBundle = ReadonlyMap<string, string>;

export async function buildCameraBundle(): Promise<CameraBundle> {
  const outdir = join(ROOT, '.camera-bundle'); // never written: write is false
  const result = await build({
    entryPoints: ENTRIES,
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    outdir,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [browserImaging],
  });
  return new Map(result.outputFiles.map((file) => [file.path.slice(outdir.length + 1), file.text]));
}

let cached: Promise<CameraBundle> | undefined;

/** The bundle, built on first use and kept for the life of the process. */
export function cameraBundle(): Promise<CameraBundle> {
  cached ??= buildCameraBundle().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}
