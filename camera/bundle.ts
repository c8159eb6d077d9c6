// Builds the camera page's script with esbuild, in memory, once per process (about 2 s: most of
// it is @tensorflow/tfjs, which goes into the same bundle).
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = join(__dirname, '..');
const ENTRY = join(__dirname, 'page.ts');
const NODE_BLUR = join(ROOT, 'imaging', 'blur');
const BROWSER_BLUR = join(__dirname, 'browser-blur.ts');
const NODE_ONLY = /^(sharp|node:.*|fs|path|os|child_process|crypto|stream|http|https|net|zlib|worker_threads|@tensorflow\/tfjs-node.*)$/;

/**
 * The page reuses the Node side's imaging and video/stable-partial code as is. Their only Node
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

export async function buildCameraBundle(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [browserImaging],
  });
  return result.outputFiles[0]!.text;
}

let cached: Promise<string> | undefined;

/** The bundle, built on first use and kept for the life of the process. */
export function cameraBundle(): Promise<string> {
  cached ??= buildCameraBundle().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}
