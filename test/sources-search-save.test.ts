import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsStore } from '../storage/fs-store';
import { downloadImages } from '../sources/download';
import { ProviderConfigError, ProviderUnavailableError, runSearch, SearchSpecSchema, parseUrlList, type ProviderContext } from '../sources/providers';
import { canonicalJson, InvalidSearchDateError, loadSearchResults, searchAndSave } from '../sources/search';
import { PHOTOS_DIR, sendJson, startServer, type TestServer } from './helpers/http-fixtures';

describe('url-list provider', () => {
  it('reads one URL per line, skipping blanks, comments, duplicates and non-http lines (as warnings)', () => {
    const { urls, warnings } = parseUrlList(
      ['# flowers to fetch', '', 'https://a.example/1.jpg', '  https://a.example/2.jpg  ', 'https://a.example/1.jpg', 'ftp://a.example/3.jpg', 'not a url', 'http://b.example/x.png#frag', '\r'].join(
        '\r\n',
      ),
    );
    expect(urls).toEqual(['https://a.example/1.jpg', 'https://a.example/2.jpg', 'http://b.example/x.png#frag']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^line 6: only http and https/);
    expect(warnings[1]).toMatch(/^line 7: not a URL/);
  });

  it('reads inline, from a store key, or from a file inside a configured folder, and needs exactly one of them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloomsight-urllist-'));
    try {
      const store = new FsStore(join(dir, 'store'));
      await mkdir(join(dir, 'lists'));
      await writeFile(join(dir, 'lists', 'list.txt'), 'https://a.example/1.jpg\nhttps://a.example/2.jpg\nhttps://a.example/3.jpg\n');
      await store.put('inputs/list.txt', Buffer.from('# from the store\nhttps://s.example/1.jpg\n'));
      const context = { store, folders: { lists: join(dir, 'lists') } };
      const fromPath = await runSearch('url-list', { query: 'mine', maxItems: 2, options: { folder: 'lists', path: 'list.txt' } }, context);
      expect(fromPath).toEqual({ provider: 'url-list', query: 'mine', items: [{ url: 'https://a.example/1.jpg' }, { url: 'https://a.example/2.jpg' }], requests: 0 });
      const fromAbsolute = await runSearch('url-list', { query: 'mine', maxItems: 5, options: { path: join(dir, 'lists', 'list.txt') } }, context);
      expect(fromAbsolute.items).toHaveLength(3);
      const fromStore = await runSearch('url-list', { query: 'mine', maxItems: 10, options: { key: 'inputs/list.txt' } }, context);
      expect(fromStore.items).toEqual([{ url: 'https://s.example/1.jpg' }]);
      const inline = await runSearch('url-list', { query: 'mine', maxItems: 10, options: { urls: ['https://i.example/1.jpg', 'data:image/png;base64,AAAA'] } }, context);
      expect(inline.items).toEqual([{ url: 'https://i.example/1.jpg' }]);
      expect(inline.warnings).toEqual(['line 2: only http and https URLs are accepted: data:image/png;base64,…[4 chars]']);
      await expect(runSearch('url-list', { query: 'x', maxItems: 1, options: {} }, context)).rejects.toThrow(ProviderConfigError);
      await expect(runSearch('url-list', { query: 'x', maxItems: 1, options: { path: '/a', key: 'b' } }, context)).rejects.toThrow(/exactly one/);
      await expect(runSearch('url-list', { query: 'x', maxItems: 1, options: { folder: 'lists', path: 'missing.txt' } }, context)).rejects.toThrow(/cannot be read: ENOENT/);
      // A file outside the configured folders is never opened, whether it exists or not.
      await store.put('inputs/elsewhere.txt', Buffer.from('https://x.example/1.jpg\n'));
      await expect(runSearch('url-list', { query: 'x', maxItems: 1, options: { path: join(dir, 'store', 'inputs', 'elsewhere.txt') } }, context)).rejects.toThrow(
        /providerOptions\.path: .* is outside every folder the operator configured \(lists\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('local-folder provider', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bloomsight-folder-'));
    await mkdir(join(dir, 'nested'), { recursive: true });
    await copyFile(join(PHOTOS_DIR, 'calla.jpg'), join(dir, 'b-calla.jpg'));
    await copyFile(join(PHOTOS_DIR, 'garden.jpg'), join(dir, 'nested', 'garden.JPG'));
    await copyFile(join(PHOTOS_DIR, 'garden.jpg'), join(dir, 'a-same-garden.jpeg'));
    await writeFile(join(dir, 'README.md'), 'not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const context = () => ({ folders: { demo: dir } });

  it('lists image files as file: URLs in a stable order, recursively by default', async () => {
    const result = await runSearch('local-folder', { query: 'demo', maxItems: 100, options: { folder: 'demo' } }, context());
    expect(result.items.map((item) => fileURLToPath(item.url))).toEqual([join(dir, 'a-same-garden.jpeg'), join(dir, 'b-calla.jpg'), join(dir, 'nested', 'garden.JPG')]);
    expect(result.items[1]!.title).toBe('b-calla.jpg');
    const flat = await runSearch('local-folder', { query: 'demo', maxItems: 100, options: { path: dir, recursive: false } }, context());
    expect(flat.items).toHaveLength(2);
    const nested = await runSearch('local-folder', { query: 'demo', maxItems: 100, options: { folder: 'demo', path: 'nested' } }, context());
    expect(nested.items.map((item) => item.title)).toEqual(['garden.JPG']);
    await expect(runSearch('local-folder', { query: 'demo', maxItems: 1, options: { folder: 'demo', path: 'nope' } }, context())).rejects.toThrow(ProviderConfigError);
  });

  it('feeds the downloader, which reads the files through the same checks', async () => {
    const store = new FsStore(join(dir, '..', `${dir.split('/').pop()}-store`));
    try {
      const ref = await searchAndSave(store, 'local-folder', { query: 'demo', maxItems: 100, options: { folder: 'demo' } }, { date: '2025-03-01', context: context() });
      const saved = await loadSearchResults(store, ref.key);
      const result = await downloadImages(store, saved.result.items, { localRoots: [dir] });
      expect(result.downloaded).toHaveLength(2);
      expect(result.duplicates).toHaveLength(1); // garden.jpg twice
      expect(result.failures).toEqual([]);
    } finally {
      await rm(store.root, { recursive: true, force: true });
    }
  });
});

describe('searchAndSave', () => {
  let server: TestServer;
  let root: string;
  let failNext = false;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bloomsight-search-'));
    server = await startServer((_req, res, url) => {
      if (failNext) return void res.writeHead(503).end();
      const page = Number(url.searchParams.get('page'));
      const results = Array.from({ length: 20 }, (_, i) => ({ id: `${page}-${i}`, title: `t${page}-${i}`, url: `https://img.example/${page}/${i}.jpg` }));
      sendJson(res, 200, { result_count: 60, page_count: 3, page_size: 20, page, results });
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const context = (): ProviderContext => ({ http: { requestIntervalMs: 0, baseDelayMs: 1, attempts: 2 }, endpoints: { openverse: server.url('/v1/') } });
  const request = (maxItems = 30) => ({ query: 'poppies', maxItems, options: {} });

  it('saves raw results before anything else, and returns saved results instead of searching again', async () => {
    const store = new FsStore(join(root, 'resume'));
    const first = await searchAndSave(store, 'openverse', request(), { date: '2025-03-01', context: context() });
    expect(first).toMatchObject({ count: 30, requests: 2, reused: false });
    expect(first.key).toMatch(/^searches\/openverse\/[0-9a-f]{16}\/2025-03-01\.json$/);
    const saved = await loadSearchResults(store, first.key);
    expect(saved).toMatchObject({ version: 1, provider: 'openverse', query: 'poppies', maxItems: 30, date: '2025-03-01' });
    expect(saved.result.items).toHaveLength(30);
    expect(saved.options).toEqual({ pageSize: 20, maxPages: 20 });

    const hits = server.requests.length;
    const again = await searchAndSave(store, 'openverse', request(), { date: new Date('2025-03-01T23:59:00Z'), context: context() });
    expect(again).toEqual({ ...first, requests: 0, reused: true });
    expect(server.requests.length).toBe(hits);

    // Anything that changes the results changes the key, the configured endpoint included.
    const more = await searchAndSave(store, 'openverse', request(50), { date: '2025-03-01', context: context() });
    const nextDay = await searchAndSave(store, 'openverse', request(), { date: '2025-03-02', context: context() });
    const mirror = await searchAndSave(store, 'openverse', request(), { date: '2025-03-01', context: { ...context(), endpoints: { openverse: server.url('/v1') } } });
    expect(new Set([first.key, more.key, nextDay.key, mirror.key]).size).toBe(4);
    expect(more.key.split('/')[2]).not.toBe(first.key.split('/')[2]);
    expect(nextDay.key.split('/')[2]).toBe(first.key.split('/')[2]);
  });

  it('saves nothing when the search fails', async () => {
    const store = new FsStore(join(root, 'failing'));
    failNext = true;
    try {
      await expect(searchAndSave(store, 'openverse', request(), { date: '2025-03-01', context: context() })).rejects.toThrow(ProviderUnavailableError);
    } finally {
      failNext = false;
    }
    expect(await store.list('searches/')).toEqual([]);
  });

  it('keys a url-list by its content, so an edited list is searched again', async () => {
    const store = new FsStore(join(root, 'lists'));
    await store.put('inputs/urls.txt', Buffer.from('https://a.example/1.jpg\n'));
    const first = await searchAndSave(store, 'url-list', { query: 'list', maxItems: 10, options: { key: 'inputs/urls.txt' } }, { date: '2025-03-01', context: { store } });
    const same = await searchAndSave(store, 'url-list', { query: 'list', maxItems: 10, options: { key: 'inputs/urls.txt' } }, { date: '2025-03-01', context: { store } });
    await store.put('inputs/urls.txt', Buffer.from('https://a.example/1.jpg\nhttps://a.example/2.jpg\n'));
    const edited = await searchAndSave(store, 'url-list', { query: 'list', maxItems: 10, options: { key: 'inputs/urls.txt' } }, { date: '2025-03-01', context: { store } });
    expect(same).toMatchObject({ key: first.key, reused: true });
    expect(edited).toMatchObject({ count: 2, reused: false });
    expect(edited.key).not.toBe(first.key);
  });

  it('never saves secrets', async () => {
    const store = new FsStore(join(root, 'secrets'));
    const google = await startServer((_req, res) =>
      sendJson(res, 200, { items: [{ link: 'https://img.example/g.jpg', title: 'g' }], queries: {} }),
    );
    try {
      const ref = await searchAndSave(
        store,
        'google',
        { query: 'poppies', maxItems: 5, options: {} },
        { date: '2025-03-01', context: { secrets: { googleApiKey: 'SECRET-KEY-42', googleCx: 'cx' }, endpoints: { google: google.url('/customsearch/v1') } } },
      );
      expect((await store.get(ref.key)).toString()).not.toContain('SECRET-KEY-42');
      expect(ref.count).toBe(1);
    } finally {
      await google.close();
    }
  });

  it('validates the provider, options and date before searching', async () => {
    const store = new FsStore(join(root, 'validation'));
    await expect(searchAndSave(store, 'bing', request(), { date: '2025-03-01' })).rejects.toThrow(ProviderConfigError);
    await expect(searchAndSave(store, 'openverse', { ...request(), options: { pageSize: 100 } }, { date: '2025-03-01' })).rejects.toThrow(/pageSize/);
    await expect(searchAndSave(store, 'openverse', request(), { date: '1 March' })).rejects.toThrow(InvalidSearchDateError);
  });

  it('offers a schema for search specs in workflow input', () => {
    expect(SearchSpecSchema.parse({ provider: 'openverse', query: 'tulips', maxItems: 100 })).toMatchObject({ options: { pageSize: 20 } });
    expect(SearchSpecSchema.parse({ provider: 'local-folder', maxItems: 10, options: { folder: 'photos' } })).toMatchObject({ query: 'local-folder' });
    expect(() => SearchSpecSchema.parse({ provider: 'google', query: 'x', maxItems: 10, options: { apiKey: 'k' } })).toThrow();
    expect(() => SearchSpecSchema.parse({ provider: 'url-list', query: 'x', maxItems: 10 })).toThrow();
  });

  it('hashes canonical JSON: key order and undefined members do not matter', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, { z: 1, y: 2 }] } })).toBe('{"a":{"c":[2,{"y":2,"z":1}]},"b":1}');
  });
});
