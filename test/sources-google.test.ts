import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderAuthError, ProviderConfigError, ProviderRequestError, ProviderUnavailableError, runSearch, type ProviderContext } from '../sources/providers';
import { sendJson, startServer, type TestServer } from './helpers/http-fixtures';

const GOOD_KEY = 'AIzaSyTEST-good-key-0123456789';
const BAD_KEY = 'AIzaSyTEST-invalid-key-9876543210';
const FORBIDDEN_KEY = 'AIzaSyTEST-forbidden-key-5555555555';
const QUOTA_KEY = 'AIzaSyTEST-quota-key-4444444444';

const invalidArgument = {
  error: { code: 400, message: 'Request contains an invalid argument.', errors: [{ message: 'Request contains an invalid argument.', domain: 'global', reason: 'badRequest' }], status: 'INVALID_ARGUMENT' },
};

/**
 * A stand-in for https://www.googleapis.com/customsearch/v1 with searchType=image: num 1..10,
 * start 1-based, nothing past result 100 (start + num - 1 > 100 is a 400), an invalid key is a
 * 400 API_KEY_INVALID, a key without access a 403, an exhausted quota a 429.
 */
function googleHandler(totals: Record<string, number>) {
  return (_req: unknown, res: ServerResponse, url: URL) => {
    const p = url.searchParams;
    const key = p.get('key');
    if (key === BAD_KEY) {
      return sendJson(res, 400, {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          errors: [{ message: 'API key not valid. Please pass a valid API key.', domain: 'global', reason: 'badRequest' }],
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'customsearch.googleapis.com' } }],
        },
      });
    }
    if (key === FORBIDDEN_KEY) {
      return sendJson(res, 403, {
        error: {
          code: 403,
          message: 'This project does not have the access to Custom Search JSON API.',
          errors: [{ message: 'This project does not have the access to Custom Search JSON API.', domain: 'global', reason: 'forbidden' }],
          status: 'PERMISSION_DENIED',
        },
      });
    }
    if (key === QUOTA_KEY) {
      return sendJson(res, 429, {
        error: { code: 429, message: "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service 'customsearch.googleapis.com'.", status: 'RESOURCE_EXHAUSTED' },
      });
    }
    if (key !== GOOD_KEY || p.get('cx') !== 'cx-flowers' || p.get('searchType') !== 'image') return sendJson(res, 400, invalidArgument);
    const start = Number(p.get('start') ?? 1);
    const num = Number(p.get('num') ?? 10);
    if (num < 1 || num > 10 || start < 1 || start + num - 1 > 100) return sendJson(res, 400, invalidArgument);
    const q = p.get('q') ?? '';
    const total = totals[q] ?? 0;
    const count = Math.max(0, Math.min(num, total - start + 1));
    const request = { title: `Google Custom Search - ${q}`, totalResults: String(total), searchTerms: q, count, startIndex: start, inputEncoding: 'utf8', outputEncoding: 'utf8', safe: 'active', cx: 'cx-flowers', searchType: 'image' };
    sendJson(res, 200, {
      kind: 'customsearch#search',
      url: { type: 'application/json', template: 'https://www.googleapis.com/customsearch/v1?q={searchTerms}&...' },
      queries: {
        request: [request],
        ...(start + count <= total ? { nextPage: [{ ...request, startIndex: start + count }] } : {}),
      },
      context: { title: 'flowers' },
      searchInformation: { searchTime: 0.21, formattedSearchTime: '0.21', totalResults: String(total), formattedTotalResults: String(total) },
      ...(count > 0
        ? {
            items: Array.from({ length: count }, (_, i) => {
              const n = start + i;
              return {
                kind: 'customsearch#result',
                title: `${q} photo ${n}`,
                htmlTitle: `<b>${q}</b> photo ${n}`,
                link: `https://images.example.org/${q.replace(/ /g, '-')}/${n}.jpg`,
                displayLink: 'images.example.org',
                snippet: `${q} ${n}`,
                htmlSnippet: `${q} ${n}`,
                mime: 'image/jpeg',
                fileFormat: 'image/jpeg',
                image: {
                  contextLink: `https://images.example.org/gallery/${n}`,
                  height: 600,
                  width: 800,
                  byteSize: 81234,
                  thumbnailLink: `https://encrypted-tbn0.gstatic.com/images?q=tbn:${n}`,
                  thumbnailHeight: 120,
                  thumbnailWidth: 160,
                },
              };
            }),
          }
        : {}),
    });
  };
}

describe('google provider', () => {
  let server: TestServer;
  const totals = { flowers: 250, 'rare orchid': 23 };
  const endpoints = () => ({ google: server.url('/customsearch/v1') });
  const context = (key?: string): ProviderContext => ({ secrets: { googleApiKey: key, googleCx: 'cx-flowers' }, endpoints: endpoints(), http: { baseDelayMs: 1, maxDelayMs: 20 } });
  const options = () => ({});
  const sentParams = (from: number) => server.requests.slice(from).map((path) => new URL(path, 'http://x').searchParams);

  beforeAll(async () => {
    server = await startServer(googleHandler(totals));
  });
  afterAll(() => server.close());

  it('pages 10 at a time up to the 100-result ceiling and reports the truncation', async () => {
    const before = server.requests.length;
    const result = await runSearch('google', { query: 'flowers', maxItems: 150, options: options() }, context(GOOD_KEY));
    expect(result.items).toHaveLength(100);
    expect(result.requests).toBe(10);
    expect(result.truncated?.reason).toMatch(/at most 100 results/);
    const sent = sentParams(before);
    expect(sent.map((p) => Number(p.get('start')))).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91]);
    expect(sent.every((p) => Number(p.get('num')) <= 10 && Number(p.get('start')) + Number(p.get('num')) - 1 <= 100)).toBe(true);
    expect(result.items[0]).toEqual({
      url: 'https://images.example.org/flowers/1.jpg',
      title: 'flowers photo 1',
      sourcePage: 'https://images.example.org/gallery/1',
      width: 800,
      height: 600,
    });
  });

  it('asks only for what it needs', async () => {
    const before = server.requests.length;
    const result = await runSearch('google', { query: 'flowers', maxItems: 25, options: options() }, context(GOOD_KEY));
    expect(result.items).toHaveLength(25);
    expect(result.truncated).toBeUndefined();
    expect(sentParams(before).map((p) => [p.get('start'), p.get('num')])).toEqual([
      ['1', '10'],
      ['11', '10'],
      ['21', '5'],
    ]);
  });

  it('is not truncated when the query has fewer results than asked for', async () => {
    const result = await runSearch('google', { query: 'rare orchid', maxItems: 150, options: options() }, context(GOOD_KEY));
    expect(result.items).toHaveLength(23);
    expect(result.requests).toBe(3);
    expect(result.truncated).toBeUndefined();
  });

  it.each([
    ['403 for a key without access', FORBIDDEN_KEY, 403, 'does not have the access'],
    ['400 API_KEY_INVALID for a bad key', BAD_KEY, 400, 'API key not valid'],
  ])('turns %s into ProviderAuthError that never shows the key', async (_name, key, status, message) => {
    const before = server.requests.length;
    const error = await runSearch('google', { query: 'flowers', maxItems: 10, options: options() }, context(key)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error).toMatchObject({ status, retryable: false, provider: 'google' });
    expect((error as Error).message).toContain(message);
    for (const text of [String(error), (error as Error).message, (error as Error).stack ?? '', inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(text).not.toContain(key);
    }
    expect(server.requests.length - before).toBe(1); // not retried
  });

  it('retries an exhausted quota a bounded number of times, then reports it without the key', async () => {
    const before = server.requests.length;
    const error = await runSearch('google', { query: 'flowers', maxItems: 10, options: options() }, context(QUOTA_KEY)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('Quota exceeded');
    expect(inspect(error, { depth: 10 })).not.toContain(QUOTA_KEY);
    expect(server.requests.length - before).toBe(4);
  });

  it('sends the key only to the configured endpoint: a redirect to another origin is refused before it is followed', async () => {
    const capture = await startServer((_req, res) => sendJson(res, 200, { items: [] }));
    const redirector = await startServer((_req, res, url) => void res.writeHead(302, { location: `${capture.origin}/customsearch/v1${url.search}` }).end());
    try {
      const error = await runSearch('google', { query: 'flowers', maxItems: 10, options: {} }, { ...context(GOOD_KEY), endpoints: { google: redirector.url('/customsearch/v1') } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProviderRequestError);
      expect((error as Error).message).toMatch(/blocked-redirect: redirect to another origin/);
      expect(inspect(error, { depth: 10 })).not.toContain(GOOD_KEY);
      expect(redirector.requests).toHaveLength(1); // not retried: no retry can make it safe
      expect(capture.requests).toEqual([]);
    } finally {
      await capture.close();
      await redirector.close();
    }
  });

  it('needs a key and a cx from runtime configuration, and takes neither (nor an endpoint) from the run', async () => {
    const before = server.requests.length;
    await expect(runSearch('google', { query: 'flowers', maxItems: 10, options: options() }, { endpoints: endpoints() })).rejects.toThrow(ProviderConfigError);
    await expect(
      runSearch('google', { query: 'flowers', maxItems: 10, options: options() }, { secrets: { googleApiKey: GOOD_KEY }, endpoints: endpoints() }),
    ).rejects.toThrow(/search engine id/);
    // Key, engine and endpoint are not options, so none can arrive through workflow input.
    for (const [field, value] of [['key', GOOD_KEY], ['cx', 'cx-flowers'], ['baseUrl', server.url('/elsewhere')]]) {
      const error = await runSearch('google', { query: 'flowers', maxItems: 3, options: { [field!]: value } }, context(GOOD_KEY)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect((error as Error).message).toContain(`providerOptions.${field}:`);
      expect((error as Error).message).not.toContain(GOOD_KEY);
    }
    expect(server.requests.length).toBe(before);
  });
});
