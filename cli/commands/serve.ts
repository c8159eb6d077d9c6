import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startCameraServer, DEFAULT_CAMERA_HOST, DEFAULT_CAMERA_PORT, newestExport } from '../../camera';
import { isSafeName } from '../../camera/exports';
import { loadConfig } from '../../config/load';
import { FsStore, keys, openStore, StoreUnavailableError, type Store } from '../../storage';
import { CliError } from '../context';

export const SERVE_HELP = `Usage: bloomsight serve [--model MODEL_ID] [--port N] [--host HOST] [--store DIR] [--tls-cert FILE --tls-key FILE]

Serves the live camera page: open the printed URL, allow the camera, and the exported network
paints what the camera sees (camera | partial information | interpretation, with the frame rate).
The page runs the export's generator.onnx with ONNX Runtime Web in a worker: WebGPU on a real GPU,
else WebAssembly (SIMD, threads), else TensorFlow.js; it says which and why. Every export in the
store has its page at /live/MODEL_ID/; / shows --model (default: the newest export). The run
reports are at /reports/, each with a link to its model's live page.
--store DIR reads a local-disk store instead of the configured one, e.g. the demo's <out>/store.
--port defaults to ${DEFAULT_CAMERA_PORT} (0: any free port), --host to ${DEFAULT_CAMERA_HOST}. Browsers allow the
camera only on https or localhost pages: to open the page on a phone, serve https with
--tls-cert and --tls-key (PEM files, e.g. made by mkcert) and --host 0.0.0.0 (README: another device).
URL options: ?backend=auto|webgpu|wasm|webgl|cpu (webgl and cpu are TensorFlow.js), ?threads=N.
Ctrl-C stops it.`;

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CAMERA_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new CliError(`--port must be a number from 0 to 65535, got "${text}"`, 2);
  return port;
}

function readTls(certPath: string | undefined, keyPath: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) throw new CliError('--tls-cert and --tls-key go together (a PEM certificate and its private key)', 2);
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new CliError(`${flag} ${path}: ${(error as Error).message}`, 2);
    }
  };
  return { cert: read('--tls-cert', certPath), key: read('--tls-key', keyPath) };
}

async function openConfiguredStore(storeDir: string | undefined): Promise<Store> {
  if (storeDir !== undefined) {
    if (!existsSync(storeDir)) throw new CliError(`--store ${storeDir} does not exist`, 2);
    return new FsStore(resolve(storeDir));
  }
  try {
    return await openStore(loadConfig().store);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw new CliError(error.message, 3);
    throw error;
  }
}

async function pickModel(store: Store, requested: string | undefined): Promise<string> {
  if (requested !== undefined) {
    if (!isSafeName(requested)) throw new CliError(`--model "${requested}" is not a model id`, 2);
    if (!(await store.exists(`${keys.exportDir(requested)}/metadata.json`))) {
      throw new CliError(`model ${requested} has no export in ${store.location} (no ${keys.exportDir(requested)}/metadata.json)`, 2);
    }
    return requested;
  }
  const newest = await newestExport(store);
  if (!newest) throw new CliError(`no exported model in ${store.location}: train one (bloomsight demo, bloomsight run) or pass --store DIR`, 2);
  return newest;
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, store: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } },
  });
  const tls = readTls(values['tls-cert'], values['tls-key']);
  const port = parsePort(values.port);
  const host = values.host ?? DEFAULT_CAMERA_HOST;
  const store = await openConfiguredStore(values.store);
  const modelId = await pickModel(store, values.model);
  const server = await startCameraServer({ store, modelId, port, host, tls }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') throw new CliError(`port ${port} on ${host} is in use; pick another with --port`, 2);
    if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') throw new CliError(`cannot listen on ${host}: ${error.message}`, 2);
    if (tls && /PEM|key|certificate/i.test(error.message)) throw new CliError(`--tls-cert/--tls-key: ${error.message}`, 2);
    throw error;
  });
  console.log(`bloomsight: serving model ${modelId} from ${store.location}`);
  console.log(`open ${server.url}  (live camera; run reports at ${server.url}reports/; Ctrl-C to stop)`);
  if (host === '0.0.0.0' || host === '::') {
    const { protocol, port: shownPort } = new URL(server.url);
    const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
    for (const { address } of addresses) console.log(`  from other devices: ${protocol}//${address}:${shownPort}/${tls ? '' : '  (http: no camera there; see --tls-cert)'}`);
  }
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  console.log('bloomsight: stopped');
  return 0;
}
