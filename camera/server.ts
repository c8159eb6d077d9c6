// `bloomsight serve`'s HTTP server: the live camera page for any export in the store, its scripts,
// onnxruntime-web's files from node_modules, and the run reports. Nothing else of the store is
// reachable: an export file must be listed in that export's metadata.json, a report file must sit in
// a reports/<runKey>/ folder, and every name is a single safe key segment.
//
// Every response carries the cross-origin isolation headers (COOP same-origin, COEP require-corp):
// without them browsers give the page no SharedArrayBuffer, and ONNX Runtime Web no threads.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CorruptObjectError, keys, ObjectNotFoundError, type Store } from '../storage';
import { cameraBundle } from './bundle';
import { exportFileNames, isSafeName, newestExport } from './exports';
import { findOrtAssets } from './ort-assets';
import { listReports, reportListing, reportModels, withLiveLinks } from './reports';
import { upgradeExport } from './upgrade';

export interface CameraServerOptions {
  store: Store;
  /** The model of the page at /. Default: the newest export in the store; with none, the page says there is no model. */
  modelId?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Browsers allow the camera only on https or localhost pages. */
  host?: string;
  /** Serve https with this certificate (PEM) instead of http: what a phone needs to use its camera on the page. */
  tls?: { cert: Buffer; key: Buffer };
  /** Where problems that do not stop the server go (an old export that could not be upgraded). Default: console.warn. */
  log?: (line: string) => void;
}

export interface CameraServer {
  url: string;
  modelId: string | undefined;
  close(): Promise<void>;
}

export const DEFAULT_CAMERA_PORT = 8080;
export const DEFAULT_CAMERA_HOST = '127.0.0.1';

const TEXT = 'text/plain; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json; charset=utf-8',
  bin: 'application/octet-stream',
  onnx: 'application/octet-stream',
  html: HTML,
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  wasm: 'application/wasm',
  mp4: 'video/mp4',
  gif: 'image/gif',
  png: 'image/png',
};
const typeOf = (name: string) => CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Headers of every response. */
const BASE_HEADERS: OutgoingHttpHeaders = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const notFound = (req: IncomingMessage, res: ServerResponse) => send(req, res, 404, TEXT, 'not found\n');
const redirect = (req: IncomingMessage, res: ServerResponse, location: string) => send(req, res, 301, TEXT, `see ${location}\n`, { location });

/** A body, or the single byte range the request asks for (video players seek with ranges). */
function sendWithRanges(req: IncomingMessage, res: ServerResponse, type: string, body: Buffer): void {
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (!range || (!range[1] && !range[2])) return send(req, res, 200, type, body, { 'accept-ranges': 'bytes' });
  const size = body.length;
  const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
  const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  if (start >= size || start > end) return send(req, res, 416, TEXT, 'range not satisfiable\n', { 'content-range': `bytes */${size}` });
  send(req, res, 206, type, body.subarray(start, end + 1), { 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}` });
}

/** Splits '/a/b/c' into ['a', 'b', 'c'], decoding each segment; undefined when one cannot be decoded. */
function segments(path: string): string[] | undefined {
  try {
    return path.split('/').slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

export async function startCameraServer(options: CameraServerOptions): Promise<CameraServer> {
  const { store } = options;
  const log = options.log ?? ((line: string) => console.warn(line));
  const modelId = options.modelId ?? (await newestExport(store));
  if (modelId !== undefined && !isSafeName(modelId)) throw new RangeError(`model id "${modelId}" is not a valid store key segment`);
  const ort = findOrtAssets();
  // Built before listening: a broken bundle fails here, not in the first browser.
  const [template, bundle] = await Promise.all([readFile(join(__dirname, 'index.html'), 'utf8'), cameraBundle()]);

  // An export made before generator.onnx existed gets it before its metadata is first served (once per model).
  const upgrades = new Map<string, Promise<void>>();
  const upgraded = (id: string): Promise<void> => {
    let upgrade = upgrades.get(id);
    if (!upgrade) {
      upgrade = upgradeExport(store, id).catch((error: unknown) => log(`bloomsight: model ${id} has no generator.onnx and could not be given one (${(error as Error).message}); its page falls back to TensorFlow.js`));
      upgrades.set(id, upgrade);
    }
    return upgrade;
  };
  if (modelId !== undefined) await upgraded(modelId);

  function page(id: string | undefined): string {
    const base = id === undefined ? '/no-model/' : `/models/${encodeURIComponent(id)}/export/`;
    return template.replaceAll('{{MODEL_ID}}', escapeHtml(id ?? '(none)')).replaceAll('{{MODEL_BASE}}', base).replaceAll('{{ORT_BASE}}', ort.urlBase);
  }

  async function serveExportFile(req: IncomingMessage, res: ServerResponse, id: string, name: string): Promise<void> {
    if (name === 'metadata.json') await upgraded(id);
    const listed = await exportFileNames(store, id);
    if (!listed?.names.has(name)) return notFound(req, res);
    if (name === 'metadata.json') return send(req, res, 200, typeOf(name), listed.metadata);
    await serveStoreObject(req, res, `${keys.exportDir(id)}/${name}`, typeOf(name));
  }

  async function serveStoreObject(req: IncomingMessage, res: ServerResponse, key: string, type: string): Promise<void> {
    try {
      sendWithRanges(req, res, type, await store.get(key));
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return notFound(req, res);
      if (error instanceof CorruptObjectError) return send(req, res, 500, TEXT, `${error.message}\n`);
      throw error;
    }
  }

  async function serveOrtFile(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const file = ort.file(name);
    if (!file) return notFound(req, res);
    const { size } = await stat(file);
    // Versioned URL: the bytes behind it never change.
    res.writeHead(200, { ...BASE_HEADERS, 'content-type': typeOf(name), 'content-length': size, 'cache-control': 'public, max-age=31536000, immutable' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }

  async function serveReport(req: IncomingMessage, res: ServerResponse, runKey: string, name: string): Promise<void> {
    if (name === '' || name === 'index.html') {
      let html: string;
      try {
        html = (await store.get(keys.report(runKey))).toString('utf8');
      } catch (error) {
        if (error instanceof ObjectNotFoundError) return notFound(req, res);
        throw error;
      }
      const models = await reportModels(store, runKey, html);
      return send(req, res, 200, HTML, models.length ? withLiveLinks(html, models) : html);
    }
    await serveStoreObject(req, res, keys.reportFile(runKey, name), typeOf(name));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, TEXT, 'method not allowed\n', { allow: 'GET, HEAD' });
    // The raw path, not a URL-normalised one: '/models/x/export/../y' must not turn into '/models/x/y'.
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/' || path === '/index.html') return send(req, res, 200, HTML, page(modelId));
    const parts = segments(path);
    if (!parts || !parts.every((part, i) => isSafeName(part) || (part === '' && i === parts.length - 1))) return notFound(req, res);
    const [root, a, b, c, ...rest] = parts;
    if (root === 'camera' && a !== undefined && b === undefined && bundle.has(a)) return send(req, res, 200, typeOf(a), bundle.get(a)!);
    if (root === 'ort' && a === ort.version && b !== undefined && c === undefined) return serveOrtFile(req, res, b);
    if (root === 'live' && a) {
      if (b === undefined) return redirect(req, res, `/live/${encodeURIComponent(a)}/`);
      if (b === '' && c === undefined) return send(req, res, 200, HTML, page(a));
    }
    if (root === 'models' && a && b === 'export' && c && rest.length === 0) return serveExportFile(req, res, a, c);
    if (root === 'reports') {
      if (a === '' && b === undefined) return send(req, res, 200, HTML, reportListing(await listReports(store)));
      if (a && b === undefined) return redirect(req, res, `/reports/${encodeURIComponent(a)}/`);
      if (a && b !== undefined && c === undefined) return serveReport(req, res, a, b);
    }
    return notFound(req, res);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(req, res, 500, TEXT, `${(error as Error).message}\n`);
      else res.destroy();
    });
  };
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
  const host = options.host ?? DEFAULT_CAMERA_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CAMERA_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${port}/`,
    modelId,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
