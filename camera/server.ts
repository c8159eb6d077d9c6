// The camera page's HTTP server: the page, its script, and one export's files under /model/.
// Nothing else of the store is reachable: a /model/ name must be listed in that export's
// metadata.json (or be metadata.json) and be a single safe key segment.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CorruptObjectError, keys, ObjectNotFoundError, type Store } from '../storage';
import { cameraBundle } from './bundle';
import { exportFileNames, isSafeName, newestExport } from './exports';

export interface CameraServerOptions {
  store: Store;
  /** Default: the newest export in the store; with none, the page says there is no model. */
  modelId?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Browsers allow the camera only on https or localhost pages. */
  host?: string;
}

export interface CameraServer {
  url: string;
  modelId: string | undefined;
  close(): Promise<void>;
}

export const DEFAULT_CAMERA_PORT = 8080;
export const DEFAULT_CAMERA_HOST = '127.0.0.1';

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json; charset=utf-8',
  bin: 'application/octet-stream',
};

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

async function renderPage(modelId: string | undefined): Promise<string> {
  const template = await readFile(join(__dirname, 'index.html'), 'utf8');
  return template.replaceAll('{{MODEL_ID}}', escapeHtml(modelId ?? '(none)'));
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const notFound = (req: IncomingMessage, res: ServerResponse) => send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');

export async function startCameraServer(options: CameraServerOptions): Promise<CameraServer> {
  const { store } = options;
  const modelId = options.modelId ?? (await newestExport(store));
  if (modelId !== undefined && !isSafeName(modelId)) throw new RangeError(`model id "${modelId}" is not a valid store key segment`);
  // Built before listening: a broken bundle fails here, not in the first browser.
  const [html, script] = await Promise.all([renderPage(modelId), cameraBundle()]);

  async function serveModelFile(req: IncomingMessage, res: ServerResponse, encodedName: string): Promise<void> {
    let name: string;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      return notFound(req, res);
    }
    if (modelId === undefined || !isSafeName(name)) return notFound(req, res);
    const listed = await exportFileNames(store, modelId);
    if (!listed?.names.has(name)) return notFound(req, res);
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    if (name === 'metadata.json') return send(req, res, 200, type, listed.metadata);
    try {
      send(req, res, 200, type, await store.get(`${keys.exportDir(modelId)}/${name}`));
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return notFound(req, res);
      if (error instanceof CorruptObjectError) return send(req, res, 500, 'text/plain; charset=utf-8', `${error.message}\n`);
      throw error;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(req, res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    // The raw path, not a URL-normalised one: '/model/../x' must not turn into '/x'.
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/' || path === '/index.html') return send(req, res, 200, 'text/html; charset=utf-8', html);
    if (path === '/camera.js') return send(req, res, 200, 'text/javascript; charset=utf-8', script);
    if (path.startsWith('/model/')) return serveModelFile(req, res, path.slice('/model/'.length));
    return notFound(req, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(req, res, 500, 'text/plain; charset=utf-8', `${(error as Error).message}\n`);
      else res.destroy();
    });
  });
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
    url: `http://${shownHost}:${port}/`,
    modelId,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
