import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** A local HTTP server on 127.0.0.1 and a free port, counting hits per path. */
export interface TestServer {
  port: number;
  origin: string;
  /** `http(s)://127.0.0.1:PORT` + path. */
  url(path: string): string;
  /** Requests received for a path (query string ignored). */
  hits(path: string): number;
  /** Every request URL received (path + query), in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts the server; with `tls`, HTTPS with TEST_TLS (trust TEST_TLS.cert to connect). */
export async function startServer(handler: Handler, { tls = false }: { tls?: boolean } = {}): Promise<TestServer> {
  const counts = new Map<string, number>();
  const requests: string[] = [];
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    requests.push(`${url.pathname}${url.search}`);
    try {
      await handler(req, res, url);
    } catch (error) {
      if (!res.headersSent) res.writeHead(599).end(String(error));
      else res.destroy();
    }
  };
  const server: Server = tls ? (createHttpsServer(TEST_TLS, listener) as unknown as Server) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (path) => `${origin}${path}`,
    hits: (path) => counts.get(path) ?? 0,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server answering from a table of exact paths; anything else is 404. */
export function startRouteServer(routes: Record<string, Handler>): Promise<TestServer> {
  return startServer((req, res, url) => {
    const route = routes[url.pathname];
    if (route) return route(req, res, url);
    res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>not found</body></html>');
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export function sendBytes(res: ServerResponse, body: Buffer, contentType = 'application/octet-stream'): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': String(body.length) }).end(body);
}

export const PHOTOS_DIR = join(__dirname, '..', 'fixtures', 'photos');

/** The bundled 512x512 test photos, by file name. */
export async function loadPhotos(): Promise<Array<{ name: string; bytes: Buffer }>> {
  const names = (await readdir(PHOTOS_DIR)).filter((name) => name.endsWith('.jpg')).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(PHOTOS_DIR, name)) })));
}

/**
 * A PNG whose IHDR declares width×height RGB pixels but whose data is only a few rows: tiny on
 * the wire, billions of bytes if anyone tried to decode it. Only a header-first check rejects it
 * as too large; a decoder would report it as corrupt (or run out of memory).
 */
export function pngBombHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed) >>> 0);
    return Buffer.concat([length, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const fewRows = deflateSync(Buffer.alloc((1 + width * 3) * 4));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', fewRows), chunk('IEND', Buffer.alloc(0))]);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A self-signed certificate for localhost, images.test and 127.0.0.1 (valid until 2126), for
 * HTTPS test servers only. The key protects nothing.
 */
export const TEST_TLS = {
  cert: `-----BEGIN CERTIFICATE-----
MIIBwjCCAWigAwIBAgIUAZlwJrfWouvUNAkcIaMBy2sWTC8wCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWYmxvb21zaWdodCB0ZXN0IHNlcnZlcjAgFw0yNjExMjYyMzUx
NDVaGA8yMTI2MTEwMjIzNTE0NVowITEfMB0GA1UEAwwWYmxvb21zaWdodCB0ZXN0
IHNlcnZlcjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABIAi5OKqaA1Y9g9VjYPd
iLJOdMcwpvigdeEFOxkEqVgsAZmE619+PE+zdcXXeIxg0NyqPi7r8jCWjZCkOBVt
mLSjfDB6MB0GA1UdDgQWBBRNYVcA1Xc0pU+mjLpLwdGYhMulPDAfBgNVHSMEGDAW
gBRNYVcA1Xc0pU+mjLpLwdGYhMulPDAPBgNVHRMBAf8EBTADAQH/MCcGA1UdEQQg
MB6CCWxvY2FsaG9zdIILaW1hZ2VzLnRlc3SHBH8AAAEwCgYIKoZIzj0EAwIDSAAw
RQIgItba/Pwuxvb8EovLHY6TKOBSpIvihC/wKRPgUL5KU1cCIQCb87ocPXFphxIK
rLV+UuLkVMqD9ZxDWv/B7yik9c7C5A==
-----END CERTIFICATE-----`,
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUx8tG1beErRQ/0Pg
A5ouBKKthL77Pq97gs9KUBte6OyhRANCAASAIuTiqmgNWPYPVY2D3YiyTnTHMKb4
oHXhBTsZBKlYLAGZhOtffjxPs3XF13iMYNDcqj4u6/Iwlo2QpDgVbZi0
-----END PRIVATE KEY-----`,
};
