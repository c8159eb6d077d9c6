/**
 * The live web, reproduced on loopback for the chaos runs: photos served as the image hosts of a
 * search result would serve them, some well, some slowly, some failing, some cut short. Each run gets
 * its own path prefix (so one run's first failures do not spare the next) and every hit is logged with
 * its time, so "no URL fetched again after its batch was recorded" can be checked afterwards.
 * One response can be held after half its body, so a worker can be killed in the middle of a batch.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * ok: 200 at once · slow: 200 after a pause · flaky: 503 on the first request, then 200 ·
 * missing: 404 · broken: 500 always · truncated: Content-Length promises more than is sent ·
 * duplicate: the bytes of another photo.
 */
export type Behaviour = 'ok' | 'slow' | 'flaky' | 'missing' | 'broken' | 'truncated' | 'duplicate';

export interface WebItem {
  path: string;
  behaviour: Behaviour;
  /** Index into the photos (for ok, slow, flaky, truncated and duplicate). */
  photo: number;
}

export interface Hit {
  time: number;
  path: string;
  status: number;
}

export interface HeldResponse {
  path: string;
  release(): void;
}

export class ImageWeb {
  readonly hits: Hit[] = [];
  private server!: Server;
  private readonly items = new Map<string, WebItem>();
  private readonly counts = new Map<string, number>();
  private armed: { path: string; resolve(held: HeldResponse): void } | undefined;
  port = 0;

  constructor(
    private readonly photos: Buffer[],
    private readonly slowMs = 800,
  ) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  url(path: string): string {
    return `http://${this.host}${path}`;
  }

  /** Publishes items under `/<prefix>/`; returns their URLs in order. */
  publish(prefix: string, items: Array<Omit<WebItem, 'path'>>): string[] {
    return items.map((item, i) => {
      const path = `/${prefix}/${i}-${item.behaviour}.jpg`;
      this.items.set(path, { ...item, path });
      return this.url(path);
    });
  }

  /** Holds the next request for `path` after half its body; resolves once it is held. */
  holdNext(path: string): Promise<HeldResponse> {
    return new Promise((resolve) => (this.armed = { path, resolve }));
  }

  disarm(): void {
    this.armed = undefined;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://web').pathname;
    const item = this.items.get(path);
    const count = (this.counts.get(path) ?? 0) + 1;
    this.counts.set(path, count);
    const answer = (status: number) => this.hits.push({ time: Date.now(), path, status });
    res.on('error', () => {});
    if (!item) return void (answer(404), res.writeHead(404).end());
    const body = this.photos[item.photo % this.photos.length];
    switch (item.behaviour) {
      case 'missing':
        answer(404);
        return void res.writeHead(404, { 'content-type': 'text/html' }).end('<html>gone</html>');
      case 'broken':
        answer(500);
        return void res.writeHead(500).end('internal error');
      case 'flaky':
        if (count === 1) {
          answer(503);
          return void res.writeHead(503, { 'retry-after': '0' }).end('busy');
        }
        break;
      case 'truncated':
        answer(200);
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) });
        res.write(body.subarray(0, Math.floor(body.length / 3)));
        return void setTimeout(() => res.destroy(), 20);
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, this.slowMs));
        break;
    }
    answer(200);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) });
    if (this.armed?.path === path) {
      const { resolve } = this.armed;
      this.armed = undefined;
      const half = Math.floor(body.length / 2);
      res.write(body.subarray(0, half));
      resolve({ path, release: () => res.end(body.subarray(half)) });
      return;
    }
    res.end(body);
  }
}
