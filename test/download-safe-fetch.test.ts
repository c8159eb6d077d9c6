import type { LookupAddress } from 'node:dns';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeFetch, SafeFetchError, type SafeFetchOptions } from '../sources/safe-fetch';
import { delay, startRouteServer, startServer, TEST_TLS, type TestServer } from './helpers/http-fixtures';

/** Runs safeFetch and returns the SafeFetchError it must throw. */
async function failure(url: string, options: SafeFetchOptions): Promise<SafeFetchError> {
  const error = await safeFetch(url, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SafeFetchError);
  return error as SafeFetchError;
}

const fakeDns =
  (table: Record<string, string>) =>
  async (hostname: string): Promise<LookupAddress[]> => {
    const address = table[hostname];
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };

describe('safeFetch', () => {
  let server: TestServer;
  let other: TestServer;
  let allow: string[];

  beforeAll(async () => {
    other = await startRouteServer({ '/secret': (_req, res) => void res.end('internal data') });
    server = await startRouteServer({
      '/ok': (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'),
      '/relative': (_req, res) => void res.writeHead(302, { location: 'ok' }).end(),
      '/to-other-port': (_req, res) => void res.writeHead(302, { location: other.url('/secret') }).end(),
      '/to-metadata': (_req, res) => void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      '/to-file': (_req, res) => void res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
      '/to-rebound-name': (_req, res) => void res.writeHead(302, { location: `http://rebind.test:${other.port}/secret` }).end(),
      '/loop-a': (_req, res) => void res.writeHead(302, { location: '/loop-b' }).end(),
      '/loop-b': (_req, res) => void res.writeHead(307, { location: '/loop-a#again' }).end(),
      ...Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`/chain/${i}`, (_req: unknown, res: import('node:http').ServerResponse) => void res.writeHead(302, { location: `/chain/${i + 1}` }).end()]),
      ),
      '/chain/10': (_req, res) => void res.end('end of chain'),
      '/slow-headers': async (_req, res) => {
        await delay(1500);
        res.end('late');
      },
      '/slow-body': async (_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        for (let i = 0; i < 100 && !res.destroyed; i++) {
          res.write('x');
          await delay(50);
        }
        res.end();
      },
      '/huge-declared': (_req, res) => {
        res.writeHead(200, { 'content-length': String(1024 * 1024 * 1024) });
        res.write(Buffer.alloc(1024));
      },
      '/huge-chunked': async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 64 && !res.destroyed; i++) {
          res.write(Buffer.alloc(16 * 1024));
          await delay(1);
        }
        res.end();
      },
      '/cut-short': (_req, res) => {
        res.writeHead(200, { 'content-length': '10000' });
        res.write(Buffer.alloc(3000), () => res.destroy());
      },
      '/busy': (_req, res) => void res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"error":"slow down"}'),
      '/broken': (_req, res) => void res.writeHead(503).end('down'),
      '/forbidden': (_req, res) => void res.writeHead(403).end('no'),
    });
    allow = [`127.0.0.1:${server.port}`];
  });

  afterAll(async () => {
    await server.close();
    await other.close();
  });

  it('fetches from an allow-listed local server', async () => {
    const response = await safeFetch(server.url('/ok'), { allowHosts: allow });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('hello');
    expect(response.redirects).toEqual([]);
  });

  it('follows relative redirects and reports them', async () => {
    const response = await safeFetch(server.url('/relative'), { allowHosts: allow });
    expect(response.body.toString()).toBe('hello');
    expect(response.url).toBe(server.url('/ok'));
    expect(response.redirects).toEqual([server.url('/ok')]);
  });

  it('refuses loopback when nothing is allow-listed, without connecting', async () => {
    const before = server.hits('/ok');
    const error = await failure(server.url('/ok'), {});
    expect(error.reason).toBe('blocked-address');
    expect(server.hits('/ok')).toBe(before);
  });

  it('refuses a redirect to a loopback port that is not on the allow-list', async () => {
    const error = await failure(server.url('/to-other-port'), { allowHosts: allow });
    expect(error.reason).toBe('blocked-address');
    expect(other.hits('/secret')).toBe(0);
  });

  it('refuses a redirect to the cloud metadata address', async () => {
    const error = await failure(server.url('/to-metadata'), { allowHosts: allow });
    expect(error.reason).toBe('blocked-address');
    expect(error.message).toContain('link-local');
  });

  it('refuses every spelling of a non-public literal IP, without connecting', async () => {
    const before = server.hits('/ok');
    for (const url of [
      `http://2130706433:${server.port}/ok`,
      `http://0x7f.1:${server.port}/ok`,
      `http://[::ffff:127.0.0.1]:${server.port}/ok`,
      `http://[::1]:${server.port}/ok`,
      `http://0.0.0.0:${server.port}/ok`,
      'http://10.0.0.1/',
      'http://100.100.100.200/', // Alibaba metadata (CGNAT range)
      'http://[fd00:ec2::254]/', // AWS IPv6 metadata
      'http://[fe80::1]/',
    ]) {
      expect((await failure(url, {})).reason, url).toBe('blocked-address');
    }
    expect(server.hits('/ok')).toBe(before);
  });

  it('checks the resolved address at connect time: a name resolving to loopback is refused', async () => {
    const resolve = fakeDns({ 'rebind.test': '127.0.0.1', 'mapped.test': '::ffff:127.0.0.1' });
    expect((await failure(`http://rebind.test:${other.port}/secret`, { resolve })).reason).toBe('blocked-address');
    expect((await failure(`http://mapped.test:${other.port}/secret`, { resolve })).reason).toBe('blocked-address');
    // ...also when reached by a redirect from an allowed server.
    const error = await failure(server.url('/to-rebound-name'), { allowHosts: allow, resolve });
    expect(error.reason).toBe('blocked-address');
    expect(error.message).toContain('127.0.0.1 (loopback)');
    expect(other.hits('/secret')).toBe(0);
  });

  it('lets an allow-listed IP:port through whatever name resolves to it', async () => {
    const resolve = fakeDns({ 'images.test': '127.0.0.1' });
    const response = await safeFetch(`http://images.test:${server.port}/ok`, { allowHosts: allow, resolve });
    expect(response.body.toString()).toBe('hello');
    const byName = await safeFetch(`http://images.test:${server.port}/ok`, { allowHosts: [`images.test:${server.port}`], resolve });
    expect(byName.body.toString()).toBe('hello');
  });

  it('reports DNS failures as connection errors', async () => {
    const error = await failure('http://no-such-host.test/', { resolve: fakeDns({}) });
    expect(error.reason).toBe('connection');
    expect(error.retryable).toBe(true);
  });

  it('detects redirect loops (the fragment does not make a URL new)', async () => {
    expect((await failure(server.url('/loop-a'), { allowHosts: allow })).reason).toBe('redirect-loop');
  });

  it('caps the number of redirects', async () => {
    expect((await failure(server.url('/chain/0'), { allowHosts: allow, maxRedirects: 3 })).reason).toBe('too-many-redirects');
    const response = await safeFetch(server.url('/chain/0'), { allowHosts: allow, maxRedirects: 10 });
    expect(response.body.toString()).toBe('end of chain');
    expect(response.redirects).toHaveLength(10);
  });

  it('accepts only http and https, also on redirects', async () => {
    expect((await failure('ftp://example.com/x.jpg', {})).reason).toBe('bad-scheme');
    expect((await failure('file:///etc/passwd', {})).reason).toBe('bad-scheme');
    expect((await failure('not a url', {})).reason).toBe('bad-scheme');
    expect((await failure(server.url('/to-file'), { allowHosts: allow })).reason).toBe('bad-scheme');
  });

  it('times out waiting for the response headers', async () => {
    const started = Date.now();
    const error = await failure(server.url('/slow-headers'), { allowHosts: allow, totalTimeoutMs: 200 });
    expect(error.reason).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('times out on a body that trickles in', async () => {
    const error = await failure(server.url('/slow-body'), { allowHosts: allow, totalTimeoutMs: 300 });
    expect(error.reason).toBe('timeout');
  });

  it('times out when the connection cannot be set up (here: DNS never answers)', async () => {
    const error = await failure('http://hang.test/', { connectTimeoutMs: 100, resolve: () => new Promise(() => {}) });
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('no connection within 100 ms');
  });

  it('refuses a body whose Content-Length is too large before reading it', async () => {
    const error = await failure(server.url('/huge-declared'), { allowHosts: allow, maxBytes: 1024 * 1024 });
    expect(error.reason).toBe('too-large');
    expect(error.message).toContain('Content-Length');
  });

  it('aborts a body without Content-Length as soon as it passes the limit', async () => {
    const error = await failure(server.url('/huge-chunked'), { allowHosts: allow, maxBytes: 100 * 1024 });
    expect(error.reason).toBe('too-large');
  });

  it('reports a body shorter than its Content-Length as truncated', async () => {
    const error = await failure(server.url('/cut-short'), { allowHosts: allow });
    expect(error.reason).toBe('truncated');
    expect(error.retryable).toBe(true);
  });

  it('reports HTTP errors with status, Retry-After, body and retryability', async () => {
    const busy = await failure(server.url('/busy'), { allowHosts: allow });
    expect(busy).toMatchObject({ reason: 'http-status', status: 429, retryAfterMs: 7000, retryable: true });
    expect(busy.body?.toString()).toContain('slow down');
    expect(await failure(server.url('/broken'), { allowHosts: allow })).toMatchObject({ status: 503, retryable: true });
    expect(await failure(server.url('/forbidden'), { allowHosts: allow })).toMatchObject({ status: 403, retryable: false });
    expect(await failure(server.url('/nothing-here'), { allowHosts: allow })).toMatchObject({ status: 404, retryable: false });
  });

  it('never puts the query string (API keys) into errors', async () => {
    const error = await failure(`${server.url('/forbidden')}?key=SECRET-KEY-123&q=x`, { allowHosts: allow });
    expect(error.message).not.toContain('SECRET-KEY-123');
    expect(error.url).not.toContain('SECRET-KEY-123');
    const blocked = await failure('http://127.0.0.1:1/x?key=SECRET-KEY-123', {});
    expect(blocked.message).not.toContain('SECRET-KEY-123');
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled')), 100);
    const error = await failure(server.url('/slow-headers'), { allowHosts: allow, signal: controller.signal });
    expect(error.reason).toBe('aborted');
  });

  it('speaks HTTPS with the same address checks, verifying the certificate', async () => {
    const secure = await startServer((_req, res) => void res.end('over tls'), { tls: true });
    const agent = new https.Agent({ ca: TEST_TLS.cert });
    try {
      const response = await safeFetch(secure.url('/x'), { allowHosts: [`127.0.0.1:${secure.port}`], agents: { https: agent } });
      expect(response.body.toString()).toBe('over tls');
      // A name resolving to it is checked at connect time like plain HTTP.
      const resolve = fakeDns({ 'images.test': '127.0.0.1' });
      const refused = await failure(`https://images.test:${secure.port}/x`, { agents: { https: agent }, resolve });
      expect(refused.reason).toBe('blocked-address');
      const allowed = await safeFetch(`https://images.test:${secure.port}/x`, { allowHosts: [`images.test:${secure.port}`], agents: { https: agent }, resolve });
      expect(allowed.body.toString()).toBe('over tls');
      // Without trusting the test CA the handshake fails: a connection error.
      const untrusted = await failure(secure.url('/x'), { allowHosts: [`127.0.0.1:${secure.port}`] });
      expect(untrusted.reason).toBe('connection');
      expect(untrusted.message).toMatch(/self.signed|certificate/i);
    } finally {
      agent.destroy();
      await secure.close();
    }
  });
});
