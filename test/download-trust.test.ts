/**
 * The downloader's side of the trust boundary, on local servers: allow-lists that cover a host only
 * when it is named directly, the deployment's own services never reached, time budgets for servers
 * that stall, and no `data:` payload or query value in an error.
 */
import type { LookupAddress } from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadImages } from '../sources/download';
import { redactText, redactUrl } from '../sources/redact';
import { safeFetch, SafeFetchError, type SafeFetchOptions } from '../sources/safe-fetch';
import { FsStore } from '../storage/fs-store';
import { delay, loadPhotos, sendBytes, startRouteServer, startServer, type TestServer } from './helpers/http-fixtures';

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

describe('allow-lists by purpose, and the services that are never reached', () => {
  let mirror: TestServer; // a private host the operator allowed
  let other: TestServer; // another allowed private host
  let service: TestServer; // stands in for the store's endpoint
  beforeAll(async () => {
    service = await startRouteServer({ '/bucket/secret.json': (_req, res) => void res.end('{"private":true}') });
    other = await startRouteServer({ '/ok': (_req, res) => void res.end('other') });
    mirror = await startRouteServer({
      '/ok': (_req, res) => void res.end('mirror'),
      '/moved': (_req, res) => void res.writeHead(301, { location: '/ok' }).end(),
      '/to-other': (_req, res) => void res.writeHead(302, { location: other.url('/ok') }).end(),
      '/to-service': (_req, res) => void res.writeHead(302, { location: service.url('/bucket/secret.json') }).end(),
      '/to-service-by-name': (_req, res) => void res.writeHead(302, { location: `http://store.internal:${service.port}/bucket/secret.json` }).end(),
    });
  });
  afterAll(async () => {
    for (const server of [mirror, other, service]) await server?.close();
  });

  it('an allowed host is reached when named directly, and through redirects within it', async () => {
    const allowHosts = [`127.0.0.1:${mirror.port}`, `127.0.0.1:${other.port}`];
    expect((await safeFetch(mirror.url('/moved'), { allowHosts })).body.toString()).toBe('mirror');
    expect((await safeFetch(other.url('/ok'), { allowHosts })).body.toString()).toBe('other');
  });

  it('but not through a redirect from another host, even one that is itself allowed', async () => {
    const allowHosts = [`127.0.0.1:${mirror.port}`, `127.0.0.1:${other.port}`];
    const before = other.requests.length;
    const error = await failure(mirror.url('/to-other'), { allowHosts });
    expect(error.reason).toBe('blocked-address');
    expect(error.message).toContain('allowed only when named directly, not through a redirect from elsewhere');
    expect(other.requests.length).toBe(before);
  });

  it("never reaches the deployment's own services: by name, by address, by DNS alias, by redirect — whatever the allow-list says", async () => {
    const resolve = fakeDns({ 'store.internal': '127.0.0.1', 'alias.test': '127.0.0.1' });
    const options: SafeFetchOptions = {
      allowHosts: [`127.0.0.1:${mirror.port}`, `127.0.0.1:${service.port}`, `store.internal:${service.port}`, `alias.test:${service.port}`],
      denyHosts: [`store.internal:${service.port}`],
      resolve,
    };
    const attempts = [
      `http://store.internal:${service.port}/bucket/secret.json`,
      service.url('/bucket/secret.json'),
      `http://alias.test:${service.port}/bucket/secret.json`,
      `http://[::ffff:127.0.0.1]:${service.port}/bucket/secret.json`,
      mirror.url('/to-service'),
      mirror.url('/to-service-by-name'),
    ];
    for (const url of attempts) {
      const error = await failure(url, options);
      expect(error.reason, url).toBe('blocked-address');
      expect(error.message, url).toMatch(/service of this deployment/);
    }
    expect(service.requests).toEqual([]);
    // Another port of the same machine is another service: the deny-list names host and port.
    expect((await safeFetch(mirror.url('/ok'), options)).body.toString()).toBe('mirror');
  });

  it('a request carrying a key never follows a redirect to another origin', async () => {
    const before = other.requests.length;
    const error = await failure(`${mirror.url('/to-other')}?key=SECRET-123`, { allowHosts: [`127.0.0.1:${mirror.port}`, `127.0.0.1:${other.port}`], sameOriginRedirectsOnly: true });
    expect(error.reason).toBe('blocked-redirect');
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain('SECRET-123');
    expect(other.requests.length).toBe(before);
    // Within its origin it still follows.
    const response = await safeFetch(`${mirror.url('/moved')}?key=SECRET-123`, { allowHosts: [`127.0.0.1:${mirror.port}`], sameOriginRedirectsOnly: true });
    expect(response.body.toString()).toBe('mirror');
  });
});

describe('time budgets against servers that stall', () => {
  let server: TestServer;
  let allowHosts: string[];
  let photo: Buffer;
  beforeAll(async () => {
    photo = (await loadPhotos())[0]!.bytes;
    server = await startRouteServer({
      // Headers, a few bytes, then silence: the case that held a slot for about 245 s.
      '/stall': (_req, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': '100000' });
        res.write(Buffer.alloc(16));
      },
      '/no-headers': () => undefined,
      // Slow but alive: a byte every 50 ms, longer in total than the idle timeout.
      '/trickle': async (_req, res) => {
        res.writeHead(200, { 'content-length': '20' });
        for (let i = 0; i < 20 && !res.destroyed; i++) {
          res.write('x');
          await delay(50);
        }
        res.end();
      },
      '/photo.jpg': (_req, res) => sendBytes(res, photo, 'image/jpeg'),
    });
    allowHosts = [`127.0.0.1:${server.port}`];
  });
  afterAll(() => server?.close());

  it('drops a connection that sends nothing for the idle timeout, but not one that is slow and alive', async () => {
    for (const path of ['/stall', '/no-headers']) {
      const started = Date.now();
      const error = await failure(server.url(path), { allowHosts, idleTimeoutMs: 200, totalTimeoutMs: 30_000 });
      expect(error).toMatchObject({ reason: 'timeout', retryable: true });
      expect(error.message).toContain('no data for 200 ms');
      expect(Date.now() - started).toBeLessThan(1500);
    }
    const response = await safeFetch(server.url('/trickle'), { allowHosts, idleTimeoutMs: 200 });
    expect(response.body.toString()).toBe('x'.repeat(20));
  });

  it('spends at most the per-URL budget across every attempt, and the other URLs are not held up', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bloomsight-budget-'));
    try {
      const store = new FsStore(root);
      const started = Date.now();
      const before = server.hits('/stall');
      const result = await downloadImages(store, [server.url('/stall'), server.url('/photo.jpg')], {
        allowHosts,
        idleTimeoutMs: 150,
        urlBudgetMs: 1000,
        retries: 10,
        retryBaseDelayMs: 100,
        retryMaxDelayMs: 200,
      });
      const elapsed = Date.now() - started;
      expect(result.downloaded.map((d) => d.url)).toEqual([server.url('/photo.jpg')]);
      expect(result.failures).toHaveLength(1);
      expect(result.failures[0]).toMatchObject({ reason: 'timeout', retryable: true });
      expect(result.failures[0]!.detail).toMatch(/budget for this URL is spent/);
      const attempts = server.hits('/stall') - before;
      expect(attempts).toBeGreaterThanOrEqual(3); // retried within the budget...
      expect(attempts).toBeLessThan(10); // ...but not the 11 attempts its retries would allow
      expect(elapsed).toBeLessThan(2000); // 1 s budget; before, 4 × 60 s
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('redaction', () => {
  it('keeps data: payloads, query values and user info out of URLs shown in logs and errors', () => {
    const payload = 'A'.repeat(50_000);
    expect(redactUrl(`data:image/png;base64,${payload}`)).toBe('data:image/png;base64,…[50000 chars]');
    expect(redactUrl('https://user:pw@api.example/v1/search?key=AIzaSECRET&q=roses#frag')).toBe('https://***@api.example/v1/search?key=***&q=***');
    expect(redactUrl('https://img.example/a.jpg')).toBe('https://img.example/a.jpg');
    expect(redactUrl('file:///photos/a.jpg')).toBe('file:///photos/a.jpg');
    const text = redactText(`GET https://a.example/x?token=T0K3N failed; redirect to data:text/html,${payload} refused (key SECRET-9)`, ['SECRET-9']);
    expect(text).toBe('GET https://a.example/x?token=*** failed; redirect to data:text/html,…[50000 chars] refused (key ***)');
  });

  it('never puts a data: payload or a query value in a fetch error, nor in a download outcome', async () => {
    // Small enough for a Location header (Node accepts 16 KiB of headers), large enough to notice.
    const payload = Buffer.alloc(9_000, 7).toString('base64');
    const server = await startRouteServer({
      '/to-data': (_req, res) => void res.writeHead(302, { location: `data:image/png;base64,${payload}` }).end(),
      '/forbidden': (_req, res) => void res.writeHead(403).end('no'),
    });
    const root = await mkdtemp(join(tmpdir(), 'bloomsight-redact-'));
    try {
      const allowHosts = [`127.0.0.1:${server.port}`];
      const redirect = await failure(server.url('/to-data'), { allowHosts });
      expect(redirect.reason).toBe('bad-scheme');
      expect(redirect.message.length).toBeLessThan(300);
      expect(redirect.message).not.toContain(payload.slice(0, 64));

      const signed = await failure(`${server.url('/forbidden')}?X-Amz-Signature=abcdef0123&sig=s3cr3t`, { allowHosts });
      expect(signed.message).toContain('?X-Amz-Signature=***&sig=***');
      expect(`${signed.message} ${signed.url}`).not.toMatch(/abcdef0123|s3cr3t/);

      const result = await downloadImages(new FsStore(root), [`data:image/png;base64,${payload}`, server.url('/to-data')], { allowHosts });
      expect(result.failures).toHaveLength(2);
      for (const outcome of result.failures) expect(JSON.stringify(outcome).length).toBeLessThan(400);
      expect(result.failures[0]!.url).toBe(`data:image/png;base64,…[${payload.length} chars]`);
    } finally {
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
