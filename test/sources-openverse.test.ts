import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderAuthError, ProviderConfigError, ProviderUnavailableError, parseProviderOptions, runSearch, type ProviderContext } from '../sources/providers';
import { sendJson, startServer, type TestServer } from './helpers/http-fixtures';

/**
 * A stand-in for https://api.openverse.org/v1/images/ reproducing its documented behaviour for
 * anonymous clients: page_size at most 20 (401 above), page depth at most `maxDepth` (400 beyond).
 */
function openverseHandler(corpus: Record<string, number>, maxDepth = 20) {
  return (_req: unknown, res: import('node:http').ServerResponse, url: URL) => {
    if (url.pathname !== '/v1/images/') return sendJson(res, 404, { detail: 'Not found.' });
    const q = url.searchParams.get('q') ?? '';
    const page = Number(url.searchParams.get('page') ?? 1);
    const pageSize = Number(url.searchParams.get('page_size') ?? 20);
    if (pageSize > 20) return sendJson(res, 401, { detail: 'Authentication credentials were not provided.' });
    if (page > maxDepth) return sendJson(res, 400, { detail: { page: [`Ensure this value is less than or equal to ${maxDepth}.`] } });
    const count = corpus[q] ?? 0;
    const from = (page - 1) * pageSize;
    const results = Array.from({ length: Math.max(0, Math.min(pageSize, count - from)) }, (_, i) => {
      const n = from + i;
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      return {
        id,
        title: `${q} ${n}`,
        indexed_on: '2020-01-01T00:00:00Z',
        foreign_landing_url: `https://www.flickr.com/photos/someone/${n}`,
        url: `https://live.staticflickr.com/65535/${n}_abc_b.jpg`,
        creator: `Photographer ${n % 7}`,
        creator_url: 'https://www.flickr.com/photos/someone',
        license: n % 3 === 0 ? 'cc0' : 'by-sa',
        license_version: n % 3 === 0 ? '1.0' : '2.0',
        license_url: 'https://creativecommons.org/licenses/by-sa/2.0/',
        provider: 'flickr',
        source: 'flickr',
        category: 'photograph',
        filesize: null,
        filetype: 'jpg',
        tags: [{ name: 'flower', accuracy: null }],
        attribution: `"${q} ${n}" by Photographer is licensed under CC BY-SA 2.0.`,
        fields_matched: ['title'],
        mature: false,
        height: 768,
        width: 1024,
        thumbnail: `https://api.openverse.org/v1/images/${id}/thumb/`,
        detail_url: `https://api.openverse.org/v1/images/${id}/`,
        related_url: `https://api.openverse.org/v1/images/${id}/related/`,
        unstable__sensitivity: [],
      };
    });
    sendJson(res, 200, {
      result_count: count,
      page_count: Math.min(Math.ceil(count / pageSize), maxDepth),
      page_size: pageSize,
      page,
      results,
      warnings: [],
    });
  };
}

describe('openverse provider', () => {
  let server: TestServer;
  let shallow: TestServer;
  let context: ProviderContext;
  const corpus = { tulips: 35, roses: 500 };

  beforeAll(async () => {
    server = await startServer(openverseHandler(corpus));
    shallow = await startServer(openverseHandler(corpus, 3));
    context = { http: { requestIntervalMs: 0, baseDelayMs: 1, maxDelayMs: 50 } };
  });
  afterAll(async () => {
    await server.close();
    await shallow.close();
  });

  /** The endpoint is worker configuration: it travels in the context, never in the options. */
  const at = (s: TestServer, base: ProviderContext = context): ProviderContext => ({ ...base, endpoints: { openverse: `${s.origin}/v1/` } });

  it('maps the documented JSON to items and stops at the last page', async () => {
    const result = await runSearch('openverse', { query: 'tulips', maxItems: 100, options: {} }, at(server, context));
    expect(result.items).toHaveLength(35);
    expect(result.requests).toBe(2);
    expect(result.truncated).toBeUndefined();
    expect(result.items[1]).toEqual({
      url: 'https://live.staticflickr.com/65535/1_abc_b.jpg',
      title: 'tulips 1',
      license: 'CC BY-SA 2.0',
      creator: 'Photographer 1',
      sourcePage: 'https://www.flickr.com/photos/someone/1',
      width: 1024,
      height: 768,
    });
    expect(result.items[0]!.license).toBe('CC0 1.0');
  });

  it('pages with the anonymous maximum page size and stops at maxItems', async () => {
    const before = server.requests.length;
    const result = await runSearch('openverse', { query: 'roses', maxItems: 45, options: {} }, at(server, context));
    expect(result.items).toHaveLength(45);
    expect(result.requests).toBe(3);
    const sent = server.requests.slice(before).map((path) => new URL(path, 'http://x').searchParams);
    expect(sent.map((params) => [params.get('page'), params.get('page_size'), params.get('q')])).toEqual([
      ['1', '20', 'roses'],
      ['2', '20', 'roses'],
      ['3', '20', 'roses'],
    ]);
  });

  it('reports truncation at the 20-page anonymous depth limit', async () => {
    const result = await runSearch('openverse', { query: 'roses', maxItems: 1000, options: {} }, at(server, context));
    expect(result.items).toHaveLength(400);
    expect(new Set(result.items.map((item) => item.url)).size).toBe(400);
    expect(result.requests).toBe(20);
    expect(result.truncated?.reason).toMatch(/at most 20 pages of 20 \(400 results\).*500 matched/);
  });

  it('keeps what it has when a page beyond the real limit is refused', async () => {
    const result = await runSearch('openverse', { query: 'roses', maxItems: 1000, options: { maxPages: 5 } }, at(shallow, context));
    // page_count (3) already says where the depth ends; the provider does not ask for page 4.
    expect(result.items).toHaveLength(60);
    expect(result.truncated?.reason).toContain('at most 3 pages');

    // An API that under-reports its limit in page_count: the 400 for page 4 ends the search gracefully.
    const liar = await startServer((req, res, url) => {
      const original = res.end.bind(res);
      if (url.searchParams.get('page') !== '4') {
        res.end = ((chunk: string) => {
          const body = JSON.parse(chunk);
          body.page_count = 25;
          return original(JSON.stringify(body));
        }) as typeof res.end;
      }
      return openverseHandler(corpus, 3)(req, res, url);
    });
    try {
      const partial = await runSearch('openverse', { query: 'roses', maxItems: 1000, options: { maxPages: 5 } }, at(liar, context));
      expect(partial.items).toHaveLength(60);
      expect(partial.truncated?.reason).toContain('refused page 4');
    } finally {
      await liar.close();
    }
  });

  it('refuses page sizes above the anonymous limit in its options', () => {
    expect(() => parseProviderOptions('openverse', { pageSize: 50 })).toThrow(ProviderConfigError);
    expect(() => parseProviderOptions('openverse', { apiKey: 'x' })).toThrow(ProviderConfigError);
    expect(parseProviderOptions('openverse', {})).toEqual({ pageSize: 20, maxPages: 20 });
    // The endpoint is the operator's: a run input naming one is refused, naming the field and where it is set.
    expect(() => parseProviderOptions('openverse', { baseUrl: 'http://attacker.example/v1/' })).toThrow(/providerOptions\.baseUrl: .*providers\.openverseBaseUrl/);
  });

  it('turns 401 into ProviderAuthError', async () => {
    const unauthorised = await startServer((_req, res) => sendJson(res, 401, { detail: 'Authentication credentials were not provided.' }));
    try {
      const error = await runSearch('openverse', { query: 'roses', maxItems: 5, options: {} }, at(unauthorised, context)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderAuthError);
      expect((error as Error).message).toContain('Authentication credentials were not provided');
      expect(unauthorised.hits('/v1/images/')).toBe(1);
    } finally {
      await unauthorised.close();
    }
  });

  it('retries 429 honouring Retry-After, and gives up on persistent 5xx', async () => {
    let calls = 0;
    const throttled = await startServer((req, res, url) => {
      calls++;
      if (calls === 1) return sendJson(res, 429, { detail: 'Request was throttled. Expected available in 1 second.' }, { 'retry-after': '1' });
      return openverseHandler(corpus)(req, res, url);
    });
    const down = await startServer((_req, res) => void res.writeHead(503).end('<html>maintenance</html>'));
    try {
      const started = Date.now();
      const result = await runSearch('openverse', { query: 'tulips', maxItems: 10, options: {} }, at(throttled, { http: { requestIntervalMs: 0, maxDelayMs: 5000 } }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(result.items).toHaveLength(10);
      expect(result.requests).toBe(2);

      const error = await runSearch('openverse', { query: 'tulips', maxItems: 10, options: {} }, at(down, context)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as ProviderUnavailableError).retryable).toBe(true);
      expect(down.hits('/v1/images/')).toBe(4);
    } finally {
      await throttled.close();
      await down.close();
    }
  });

  it('fails at once when Retry-After asks for longer than it will wait', async () => {
    const closed = await startServer((_req, res) => sendJson(res, 429, { detail: 'throttled' }, { 'retry-after': '3600' }));
    try {
      const error = await runSearch('openverse', { query: 'tulips', maxItems: 10, options: {} }, at(closed, context)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as ProviderUnavailableError).retryAfterMs).toBe(3_600_000);
      expect(closed.hits('/v1/images/')).toBe(1);
    } finally {
      await closed.close();
    }
  });

  it('spaces its requests by the default interval of one second', async () => {
    const started = Date.now();
    const result = await runSearch('openverse', { query: 'tulips', maxItems: 30, options: {} }, at(server, {}));
    expect(result.requests).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});
