/**
 * A recording, fault-injecting HTTP proxy in front of the S3 server: the workers talk to it, it
 * forwards every request unchanged (SigV4 signs the Host header, which passes through as sent), logs
 * each one, and can hold one chosen request at a chosen point so the chaos driver can SIGKILL a
 * process at exactly that moment:
 *
 *   before-forward   the server has not seen it yet (e.g. a checkpoint's manifest, parts all stored)
 *   mid-body         half of the body reached the server, the rest is held back (a torn upload)
 *   before-response  the server has stored it and answered; the client does not know yet
 *
 * When the server is down, a request's connection is dropped, as a dead server's would be.
 * No product code knows about it: the workers only see a different endpoint.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3Request {
  /** Date.now() when the request arrived, and when its response was delivered or it broke. */
  start: number;
  end?: number;
  method: string;
  bucket: string;
  key: string;
  /** Query string (e.g. `list-type=2&prefix=...`), '' if none. */
  query: string;
  /** Response status the server sent (also when the client never got it), or 0 when no response came. */
  status?: number;
  /** The client received the whole response. */
  delivered: boolean;
  bytes: number;
}

export type HoldPoint = 'before-forward' | 'mid-body' | 'before-response';

export interface HoldSpec {
  method: string;
  /** Matches the object key. */
  key: RegExp;
  bucket?: string;
  at: HoldPoint;
}

export interface HeldRequest {
  request: S3Request;
  /** Lets the request go on (to a server that may since have been killed and restarted). */
  release(): void;
  /** Drops both connections, as a network failure would. */
  drop(): void;
}

interface Armed {
  spec: HoldSpec;
  resolve(held: HeldRequest): void;
}

export class S3Proxy {
  readonly log: S3Request[] = [];
  private server!: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private armed: Armed[] = [];
  port = 0;

  constructor(private readonly upstream: { host: string; port: number }) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves with the first request matching `spec` once it is held at `spec.at`. */
  hold(spec: HoldSpec): Promise<HeldRequest> {
    return new Promise((resolve) => this.armed.push({ spec, resolve }));
  }

  /** Forgets holds that have not matched yet. */
  disarm(): void {
    this.armed = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private claim(entry: S3Request): Armed | undefined {
    const index = this.armed.findIndex(
      ({ spec }) => spec.method === entry.method && spec.key.test(entry.key) && (spec.bucket === undefined || spec.bucket === entry.bucket),
    );
    return index < 0 ? undefined : this.armed.splice(index, 1)[0];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const entry: S3Request = {
      start: Date.now(),
      method: req.method ?? 'GET',
      bucket: decodeURIComponent(bucket),
      key: decodeURIComponent(rest.join('/')),
      query: url.search.slice(1),
      bytes: 0,
      delivered: false,
    };
    this.log.push(entry);
    const armed = this.claim(entry);
    let finished = false;
    const fail = () => {
      if (finished) return;
      finished = true;
      entry.status ??= 0;
      entry.end = Date.now();
      req.socket.destroy();
    };
    req.on('error', fail);
    res.on('close', () => {
      if (!res.writableFinished) fail();
    });

    const forward = () => {
      const upstream = httpRequest(
        { host: this.upstream.host, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
        (response) => {
          entry.status = response.statusCode ?? 0;
          const relay = () => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            response.on('data', (chunk: Buffer) => (entry.bytes += entry.method === 'GET' ? chunk.length : 0));
            response.on('error', fail);
            response.pipe(res);
            res.on('finish', () => {
              finished = true;
              entry.delivered = true;
              entry.end = Date.now();
            });
          };
          if (armed?.spec.at === 'before-response') {
            response.pause();
            armed.resolve(this.heldHandle(entry, relay, () => (response.destroy(), fail())));
          } else relay();
        },
      );
      upstream.on('error', fail);
      const length = Number(req.headers['content-length'] ?? 0);
      if (armed?.spec.at === 'mid-body' && length > 1) {
        // Forward the first half, then hold the rest until released or dropped.
        const half = Math.floor(length / 2);
        let sent = 0;
        let holding = false;
        const pending: Buffer[] = [];
        req.on('data', (chunk: Buffer) => {
          entry.bytes += chunk.length;
          if (holding) return void pending.push(chunk);
          if (sent + chunk.length < half) {
            sent += chunk.length;
            return void upstream.write(chunk);
          }
          upstream.write(chunk.subarray(0, half - sent));
          pending.push(chunk.subarray(half - sent));
          sent = half;
          holding = true;
          req.pause();
          armed.resolve(
            this.heldHandle(
              entry,
              () => {
                holding = false;
                for (const part of pending.splice(0)) upstream.write(part);
                if (req.readableEnded) upstream.end();
                else req.resume();
              },
              () => (upstream.destroy(), fail()),
            ),
          );
        });
        req.on('end', () => {
          if (!holding) upstream.end();
        });
      } else {
        req.on('data', (chunk: Buffer) => (entry.bytes += entry.method === 'GET' ? 0 : chunk.length));
        req.pipe(upstream);
      }
    };

    if (armed?.spec.at === 'before-forward') {
      req.pause();
      armed.resolve(this.heldHandle(entry, forward, fail));
    } else forward();
  }

  private heldHandle(request: S3Request, release: () => void, drop: () => void): HeldRequest {
    let done = false;
    const once = (action: () => void) => () => {
      if (done) return;
      done = true;
      action();
    };
    return { request, release: once(release), drop: once(drop) };
  }
}
