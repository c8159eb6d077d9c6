import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { classifyAddress, isIpLiteral } from './address';
import { AllowList, DenyList } from './allow-list';
import { parseRetryAfter } from './backoff';
import { redactUrl } from './redact';
import { SAFE_FETCH_REASONS, SafeFetchError, type SafeFetchReason } from './safe-fetch-errors';

export { SAFE_FETCH_REASONS, SafeFetchError, type SafeFetchReason };

/**
 * A GET for URLs nobody vetted (search results, redirects): http/https only, connect, idle and
 * total timeouts, a body size cap, manual redirects with a cap and loop detection, and address
 * checks at connect time — on every hop, on the address actually connected to — so a URL or a DNS
 * answer cannot point us at loopback, the private network or a cloud metadata service.
 *
 * An allow-list entry covers the URL as given and redirects within the same host and port, never a
 * redirect arriving from elsewhere: a public server cannot bounce us onto an allowed private host.
 * A deny-list (the deployment's own services) wins over everything.
 */

export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface SafeFetchOptions {
  /** Until the TCP connection is up. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest wait for the next bytes once connected (headers or body). Default 15 s. */
  idleTimeoutMs?: number;
  /** For the whole fetch, all redirects included. Default 60 s. */
  totalTimeoutMs?: number;
  /** Largest body accepted. Default 50 MiB. */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number;
  /** `host` or `host:port` entries allowed although non-public, for the URL as given and redirects within it. */
  allowHosts?: readonly string[] | AllowList;
  /** `host` or `host:port` entries never reached, not even by redirect or DNS alias (the store, Temporal). */
  denyHosts?: readonly string[] | DenyList;
  /** Refuse redirects to another origin (scheme, host, port): for requests that carry a key. */
  sameOriginRedirectsOnly?: boolean;
  headers?: Record<string, string>;
  userAgent?: string;
  signal?: AbortSignal;
  /**
   * Connection pools. Default: none (a fresh connection per request). A pool must be used with
   * one allow-list only, or a socket allowed for one caller could be reused by another.
   */
  agents?: { http?: http.Agent; https?: https.Agent };
  /** DNS resolution (tests inject one to simulate hostile answers). Default: the system resolver. */
  resolve?: ResolveHost;
}

export interface SafeResponse {
  /** The URL that finally answered (after redirects). */
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Every URL redirected to, in order. */
  redirects: string[];
}

export const DEFAULT_USER_AGENT = 'bloomsight/0.1 (flower photo dataset builder; +https://github.com/bloomsight/bloomsight)';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ERROR_BODY_LIMIT = 64 * 1024;

interface Settings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxBytes: number;
  allow: AllowList;
  deny: DenyList;
  headers: Record<string, string>;
  signal?: AbortSignal;
  agents: { http?: http.Agent; https?: https.Agent };
  resolve: ResolveHost;
}

type Hop = { kind: 'redirect'; location: string } | { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: Buffer };

export async function safeFetch(input: string | URL, options: SafeFetchOptions = {}): Promise<SafeResponse> {
  const settings: Settings = {
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
    maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
    allow: options.allowHosts instanceof AllowList ? options.allowHosts : new AllowList(options.allowHosts),
    deny: options.denyHosts instanceof DenyList ? options.denyHosts : new DenyList(options.denyHosts),
    headers: {
      'user-agent': options.userAgent ?? DEFAULT_USER_AGENT,
      accept: '*/*',
      // Compressed transfer would let a small response inflate past maxBytes unseen.
      'accept-encoding': 'identity',
      ...options.headers,
    },
    signal: options.signal,
    agents: options.agents ?? {},
    resolve: options.resolve ?? systemResolve,
  };
  const deadline = Date.now() + (options.totalTimeoutMs ?? 60_000);
  const maxRedirects = options.maxRedirects ?? 5;

  if (!settings.deny.isEmpty) await settings.deny.load(settings.resolve);

  const first = parseUrl(String(input));
  let url = first;
  // The allow-list covers the first hop, and later hops only while they stay on its host and port.
  let allowListApplies = true;
  const visited = new Set([withoutHash(url)]);
  const redirects: string[] = [];
  for (;;) {
    const hop = await fetchHop(url, settings, deadline, allowListApplies);
    if (hop.kind === 'response') return { url: url.href, status: hop.status, headers: hop.headers, body: hop.body, redirects };
    let next: URL;
    try {
      next = new URL(hop.location, url);
    } catch {
      throw new SafeFetchError('bad-scheme', `unusable redirect Location ${JSON.stringify(redact(hop.location))}`, redact(url));
    }
    if (visited.has(withoutHash(next))) {
      throw new SafeFetchError('redirect-loop', `redirect loop back to ${redact(next)}`, redact(url));
    }
    if (redirects.length >= maxRedirects) {
      throw new SafeFetchError('too-many-redirects', `more than ${maxRedirects} redirects`, redact(url));
    }
    if (options.sameOriginRedirectsOnly && next.origin !== first.origin) {
      throw new SafeFetchError('blocked-redirect', `redirect to another origin ${redact(next)} refused: this request carries a key for ${first.host} only`, redact(url));
    }
    allowListApplies &&= sameHostAndPort(next, url);
    visited.add(withoutHash(next));
    redirects.push(next.href);
    url = next;
  }
}

/** The URL as safe to log: query values, user info and `data:` payloads removed (see redactUrl). */
export const redact = redactUrl;

function sameHostAndPort(a: URL, b: URL): boolean {
  return bareHost(a).toLowerCase() === bareHost(b).toLowerCase() && effectivePort(a) === effectivePort(b);
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new SafeFetchError('bad-scheme', 'not a valid URL', redact(text));
  }
}

function withoutHash(url: URL): string {
  return url.href.replace(/#.*$/, '');
}

function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function systemResolve(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

/** Public, or on the allow-list (when it applies to this hop), and never a denied service. */
function isPermitted(address: string, port: number, settings: Settings, allowListApplies: boolean): boolean {
  if (settings.deny.matchesAddress(address, port)) return false;
  return classifyAddress(address) === 'public' || (allowListApplies && settings.allow.allows(address, port));
}

function describeAddress(address: string, port: number, settings: Settings): string {
  return settings.deny.matchesAddress(address, port) ? 'a service of this deployment: the store or Temporal' : classifyAddress(address);
}

/**
 * The lookup net.connect uses: resolves, drops every address that is not permitted, and hands
 * only the rest to the socket — so the address checked is the address connected to.
 */
function guardedLookup(url: URL, port: number, settings: Settings, hostAllowed: boolean, allowListApplies: boolean): LookupFunction {
  return (hostname, options, callback) => {
    settings.resolve(hostname).then(
      (resolved) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const candidates = resolved.filter((entry) => family === undefined || entry.family === family);
        const permitted = candidates.filter((entry) =>
          hostAllowed ? !settings.deny.matchesAddress(entry.address, port) : isPermitted(entry.address, port, settings, allowListApplies),
        );
        if (permitted.length === 0) {
          const detail = candidates.map((entry) => `${entry.address} (${describeAddress(entry.address, port, settings)})`).join(', ') || 'no addresses';
          const error = new SafeFetchError('blocked-address', `${hostname} resolves only to refused addresses: ${detail}`, redact(url));
          callback(error as unknown as NodeJS.ErrnoException, '', 0);
          return;
        }
        if (options.all) callback(null, permitted);
        else callback(null, permitted[0]!.address, permitted[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

function fetchHop(url: URL, settings: Settings, deadline: number, allowListApplies: boolean): Promise<Hop> {
  const where = redact(url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new SafeFetchError('bad-scheme', `scheme ${url.protocol} is not http or https`, where));
  }
  const host = bareHost(url);
  const port = effectivePort(url);
  if (settings.deny.matchesName(host, port) || (isIpLiteral(host) && settings.deny.matchesAddress(host, port))) {
    return Promise.reject(new SafeFetchError('blocked-address', `${host}:${port} is a service of this deployment (the store or Temporal): never fetched`, where));
  }
  const hostAllowed = allowListApplies && settings.allow.allows(host, port);
  // Literal IPs skip DNS (and so the guarded lookup): check them here.
  if (!hostAllowed && isIpLiteral(host) && !isPermitted(host, port, settings, allowListApplies)) {
    const why = allowListApplies || !settings.allow.allows(host, port) ? `a ${classifyAddress(host)} address` : 'allowed only when named directly, not through a redirect from elsewhere';
    return Promise.reject(new SafeFetchError('blocked-address', `${host} is ${why}`, where));
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new SafeFetchError('timeout', 'total timeout before redirect', where));
  if (settings.signal?.aborted) return Promise.reject(new SafeFetchError('aborted', 'aborted', where, { cause: settings.signal.reason }));

  return new Promise<Hop>((resolve, reject) => {
    let settled = false;
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request({
      protocol: url.protocol,
      hostname: host,
      port,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: settings.headers,
      agent: (url.protocol === 'https:' ? settings.agents.https : settings.agents.http) ?? false,
      lookup: guardedLookup(url, port, settings, hostAllowed, allowListApplies),
    });

    const cleanup = () => {
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      clearTimeout(idleTimer);
      settings.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: SafeFetchError) => {
      if (settled) return;
      settled = true;
      cleanup();
      request.destroy();
      reject(error);
    };
    const succeed = (hop: Hop) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(hop);
    };
    const onAbort = () => fail(new SafeFetchError('aborted', 'aborted', where, { cause: settings.signal?.reason }));

    const connectTimer = setTimeout(
      () => fail(new SafeFetchError('timeout', `no connection within ${settings.connectTimeoutMs} ms`, where)),
      settings.connectTimeoutMs,
    );
    const totalTimer = setTimeout(() => fail(new SafeFetchError('timeout', 'total timeout', where)), remaining);
    // Started once connected, restarted by every byte: a server that sends headers and stalls is let go.
    let idleTimer: NodeJS.Timeout | undefined;
    const stillAlive = () => {
      clearTimeout(idleTimer);
      if (settled) return;
      idleTimer = setTimeout(() => fail(new SafeFetchError('timeout', `no data for ${settings.idleTimeoutMs} ms`, where)), settings.idleTimeoutMs);
    };
    settings.signal?.addEventListener('abort', onAbort, { once: true });

    request.on('socket', (socket: Socket) => {
      const onConnected = () => {
        clearTimeout(connectTimer);
        stillAlive();
        // Belt and braces behind the guarded lookup: the peer we actually reached.
        const remote = socket.remoteAddress;
        const refused = remote && (hostAllowed ? settings.deny.matchesAddress(remote, port) : !isPermitted(remote, port, settings, allowListApplies));
        if (refused) fail(new SafeFetchError('blocked-address', `connected to ${remote} (${describeAddress(remote, port, settings)})`, where));
      };
      if (socket.connecting) socket.once('connect', onConnected);
      else onConnected(); // a pooled socket, checked when it first connected
    });
    request.on('error', (error: Error) => {
      fail(error instanceof SafeFetchError ? error : new SafeFetchError('connection', describeSocketError(error), where, { cause: error }));
    });
    request.on('response', (response: IncomingMessage) => {
      clearTimeout(connectTimer);
      stillAlive();
      readResponse(response, url, settings, { fail, succeed, stillAlive });
    });
    request.end();
  });
}

function readResponse(
  response: IncomingMessage,
  url: URL,
  settings: Settings,
  done: { fail: (error: SafeFetchError) => void; succeed: (hop: Hop) => void; stillAlive: () => void },
): void {
  const where = redact(url);
  const status = response.statusCode ?? 0;
  const location = response.headers.location;
  if (REDIRECT_STATUSES.has(status) && location) {
    done.succeed({ kind: 'redirect', location });
    response.destroy(); // never read a redirect's body
    return;
  }
  const ok = status >= 200 && status < 300;
  const httpError = (body: Buffer) =>
    new SafeFetchError('http-status', `HTTP ${status}`, where, {
      status,
      retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      body,
    });

  const declared = response.headers['content-length'] === undefined ? undefined : Number(response.headers['content-length']);
  if (ok && declared !== undefined && declared > settings.maxBytes) {
    done.fail(new SafeFetchError('too-large', `Content-Length ${declared} exceeds ${settings.maxBytes} bytes`, where));
    return;
  }
  const limit = ok ? settings.maxBytes : Math.min(settings.maxBytes, ERROR_BODY_LIMIT);
  const chunks: Buffer[] = [];
  let received = 0;
  response.on('data', (chunk: Buffer) => {
    done.stillAlive();
    received += chunk.length;
    if (received > limit) {
      // An error page's body is only a hint: keep what fits and report the status.
      done.fail(ok ? new SafeFetchError('too-large', `body exceeds ${settings.maxBytes} bytes`, where) : httpError(Buffer.concat(chunks)));
      return;
    }
    chunks.push(chunk);
  });
  response.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!ok) return done.fail(httpError(body));
    if (declared !== undefined && received < declared) {
      return done.fail(new SafeFetchError('truncated', `body ended after ${received} of ${declared} bytes`, where));
    }
    done.succeed({ kind: 'response', status, headers: response.headers, body });
  });
  const cutShort = () => {
    if (!ok) return done.fail(httpError(Buffer.concat(chunks)));
    const expected = declared === undefined ? '' : ` of ${declared}`;
    done.fail(new SafeFetchError('truncated', `connection dropped after ${received}${expected} bytes`, where));
  };
  response.on('error', cutShort);
  response.on('close', () => {
    if (!response.complete) cutShort();
  });
}

function describeSocketError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}
