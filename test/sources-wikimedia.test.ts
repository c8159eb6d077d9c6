import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderRequestError, runSearch, type ProviderContext } from '../sources/providers';
import { DEFAULT_USER_AGENT } from '../sources/safe-fetch';
import { sendJson, startServer, type TestServer } from './helpers/http-fixtures';

interface CommonsFile {
  pageid: number;
  title: string;
  mime: string;
  width: number;
  height: number;
}

/**
 * A stand-in for https://commons.wikimedia.org/w/api.php answering
 * action=query&generator=search&gsrnamespace=6&prop=imageinfo (formatversion=2): pages carry
 * `index` (search rank) but arrive in page-id order, paging is by `continue`, and one batch
 * splits its imageinfo over two responses (`iicontinue`, no `batchcomplete` on the first).
 */
function commonsHandler(files: CommonsFile[], splitBatchAt: number, userAgents: string[]) {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    userAgents.push(String(req.headers['user-agent']));
    const p = url.searchParams;
    const expected = { action: 'query', format: 'json', formatversion: '2', generator: 'search', gsrnamespace: '6', prop: 'imageinfo' };
    for (const [name, value] of Object.entries(expected)) {
      if (p.get(name) !== value) return sendJson(res, 200, { error: { code: 'badvalue', info: `Unrecognized value for parameter "${name}".` } });
    }
    if (!p.get('gsrsearch')?.endsWith(' filetype:bitmap')) return sendJson(res, 200, { error: { code: 'test', info: 'expected filetype:bitmap' } });
    const offset = Number(p.get('gsroffset') ?? 0);
    const limit = Number(p.get('gsrlimit') ?? 10);
    if (limit > 50) return sendJson(res, 200, { warnings: { search: { warnings: 'gsrlimit may not be over 50 (set to 50) for users.' } } });
    const thumbWidth = Number(p.get('iiurlwidth') ?? 0);
    const batch = files.slice(offset, offset + limit).map((file, i) => ({ ...file, index: offset + i + 1 }));
    const split = offset === splitBatchAt;
    const secondHalf = split && p.has('iicontinue');
    const page = (file: CommonsFile & { index: number }, withInfo: boolean) => {
      const name = file.title.replace(/^File:/, '').replace(/ /g, '_');
      const info = {
        size: 2_345_678,
        width: file.width,
        height: file.height,
        ...(thumbWidth && file.width > thumbWidth
          ? {
              thumburl: `https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/${name}/${thumbWidth}px-${name}`,
              thumbwidth: thumbWidth,
              thumbheight: Math.round((file.height * thumbWidth) / file.width),
            }
          : {}),
        url: `https://upload.wikimedia.org/wikipedia/commons/a/ab/${name}`,
        descriptionurl: `https://commons.wikimedia.org/wiki/File:${name}`,
        descriptionshorturl: `https://commons.wikimedia.org/w/index.php?curid=${file.pageid}`,
        mime: file.mime,
        extmetadata: {
          LicenseShortName: { value: 'CC BY-SA 4.0', source: 'commons-desc-page', hidden: '' },
          Artist: { value: `<a href="//commons.wikimedia.org/wiki/User:Ann" title="User:Ann">Ann &amp; Bo</a>`, source: 'commons-desc-page' },
        },
      };
      return { pageid: file.pageid, ns: 6, title: file.title, index: file.index, imagerepository: 'local', ...(withInfo ? { imageinfo: [info] } : {}) };
    };
    // Half the batch gets imageinfo in the first response, the rest in the continuation.
    const pages = batch
      .map((file, i) => page(file, !split || (secondHalf ? i >= batch.length / 2 : i < batch.length / 2)))
      .sort((a, b) => a.pageid - b.pageid);
    const more = offset + limit < files.length;
    const body: Record<string, unknown> = { query: { pages } };
    if (split && !secondHalf) body.continue = { iicontinue: `${batch[Math.floor(batch.length / 2)]!.title.slice(5)}|20240101000000`, gsroffset: offset, continue: 'gsroffset||' };
    else {
      body.batchcomplete = true;
      if (more) body.continue = { gsroffset: offset + limit, continue: 'gsroffset||' };
    }
    sendJson(res, 200, body);
  };
}

describe('wikimedia provider', () => {
  let server: TestServer;
  let context: ProviderContext;
  const userAgents: string[] = [];
  // 130 files, every tenth an SVG that must be left out; page ids deliberately not in rank order.
  const files: CommonsFile[] = Array.from({ length: 130 }, (_, i) => ({
    pageid: 1000 + ((i * 37) % 130),
    title: `File:Daisy ${i}.${i % 10 === 9 ? 'svg' : 'jpg'}`,
    mime: i % 10 === 9 ? 'image/svg+xml' : 'image/jpeg',
    width: i % 2 ? 4000 : 800,
    height: i % 2 ? 3000 : 600,
  }));

  beforeAll(async () => {
    server = await startServer(commonsHandler(files, 50, userAgents));
    // The endpoint is worker configuration, handed over in the context.
    context = { http: { baseDelayMs: 1 }, endpoints: { wikimedia: server.url('/w/api.php') } };
  });
  afterAll(() => server.close());

  it('follows continue (including a batch split by iicontinue) and keeps search rank order', async () => {
    const result = await runSearch('wikimedia', { query: 'daisy', maxItems: 1000, options: {} }, context);
    expect(result.items).toHaveLength(117); // 130 minus 13 SVGs
    expect(result.items.map((item) => item.title)).toEqual(files.filter((f) => f.mime === 'image/jpeg').map((f) => f.title.slice(5)));
    expect(result.requests).toBe(4); // offsets 0, 50, 50 + iicontinue, 100
    expect(server.requests.some((path) => path.includes('iicontinue='))).toBe(true);
  });

  it('prefers a thumbnail for large originals and keeps attribution', async () => {
    const result = await runSearch('wikimedia', { query: 'daisy', maxItems: 2, options: { thumbWidth: 1024 } }, context);
    expect(result.items[0]).toEqual({
      url: 'https://upload.wikimedia.org/wikipedia/commons/a/ab/Daisy_0.jpg',
      title: 'Daisy 0.jpg',
      license: 'CC BY-SA 4.0',
      creator: 'Ann & Bo',
      sourcePage: 'https://commons.wikimedia.org/wiki/File:Daisy_0.jpg',
      width: 800,
      height: 600,
    });
    expect(result.items[1]).toMatchObject({ url: expect.stringContaining('/thumb/'), width: 1024, height: 768 });
    const originals = await runSearch('wikimedia', { query: 'daisy', maxItems: 2, options: { thumbWidth: 0 } }, context);
    expect(originals.items[1]).toMatchObject({ url: 'https://upload.wikimedia.org/wikipedia/commons/a/ab/Daisy_1.jpg', width: 4000 });
  });

  it('identifies itself with the configured User-Agent (Wikimedia asks for contact details)', async () => {
    userAgents.length = 0;
    await runSearch('wikimedia', { query: 'daisy', maxItems: 2, options: {} }, context);
    expect(userAgents).toEqual([DEFAULT_USER_AGENT]);
    userAgents.length = 0;
    const userAgent = 'my-flowers/1.0 (me@example.org)';
    await runSearch('wikimedia', { query: 'daisy', maxItems: 2, options: {} }, { ...context, http: { ...context.http, userAgent } });
    expect(userAgents).toEqual([userAgent]);
  });

  it('stops at maxItems', async () => {
    const result = await runSearch('wikimedia', { query: 'daisy', maxItems: 60, options: {} }, context);
    expect(result.items).toHaveLength(60);
    expect(result.truncated).toBeUndefined();
  });

  it('reports API errors (sent with HTTP 200) as ProviderRequestError', async () => {
    const error = await runSearch('wikimedia', { query: 'daisy', maxItems: 5, options: { bitmapOnly: false } }, context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect((error as Error).message).toContain('expected filetype:bitmap');
  });
});
