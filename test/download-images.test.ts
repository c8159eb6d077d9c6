import { mkdtemp, mkdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../storage/checksum';
import { FsStore } from '../storage/fs-store';
import { downloadImages, UrlOutcomeSchema, type DownloadOptions, type DownloadResult, type UrlOutcome } from '../sources/download';
import { delay, loadPhotos, PHOTOS_DIR, pngBombHeader, sendBytes, startRouteServer, type Handler, type TestServer } from './helpers/http-fixtures';

/** Fast retries; short timeouts so the slow routes fail quickly. */
function options(server: TestServer, extra: DownloadOptions = {}): DownloadOptions {
  return {
    allowHosts: [`127.0.0.1:${server.port}`],
    concurrency: 6,
    perHostConcurrency: 6,
    totalTimeoutMs: 700,
    retries: 2,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    maxBytes: 5 * 1024 * 1024,
    maxPixels: 20_000_000,
    ...extra,
  };
}

function byUrl(result: DownloadResult): Map<string, UrlOutcome> {
  return new Map([...result.downloaded, ...result.duplicates, ...result.failures].map((outcome) => [outcome.url, outcome]));
}

describe('downloadImages', () => {
  let server: TestServer;
  let otherPort: TestServer;
  let root: string;
  /** Path → the exact bytes a good route serves. */
  const good = new Map<string, Buffer>();
  /** Path → the failure reason it must produce. */
  const bad = new Map<string, string>();
  let flakyCalls = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bloomsight-download-'));
    const routes: Record<string, Handler> = {};
    const serve = (path: string, bytes: Buffer, contentType = 'image/jpeg') => {
      good.set(path, bytes);
      routes[path] = (_req, res) => sendBytes(res, bytes, contentType);
    };
    const photos = await loadPhotos();
    for (const { name, bytes } of photos) {
      serve(`/photos/${name}`, bytes);
      // The PNG is served with a misleading type and extension: sniffing must not care.
      serve(`/as-png/${name.replace('.jpg', '')}.jpg`, await sharp(bytes).png().toBuffer(), 'application/octet-stream');
    }
    const small = sharp(photos[0]!.bytes).resize(96, 96);
    serve('/formats/x.webp', await small.clone().webp().toBuffer(), 'image/webp');
    serve('/formats/x.gif', await small.clone().gif().toBuffer(), 'image/gif');
    serve('/formats/x.avif', await small.clone().avif({ effort: 0 }).toBuffer(), 'image/avif');
    serve('/formats/x.tif', await small.clone().tiff().toBuffer(), 'image/tiff');
    const crop = await sharp(photos[1]!.bytes).extract({ left: 10, top: 10, width: 200, height: 150 }).jpeg().toBuffer();
    serve('/redirected-target.jpg', crop);
    // The same bytes under a second URL: stored once, reported as a duplicate.
    const copy = photos[2]!.bytes;
    routes['/copy-of-photo.jpg'] = (_req, res) => sendBytes(res, copy, 'image/jpeg');
    const flakyBytes = await sharp(photos[3]!.bytes).flop().jpeg().toBuffer();
    good.set('/flaky.jpg', flakyBytes);
    routes['/flaky.jpg'] = (_req, res) => {
      flakyCalls++;
      if (flakyCalls <= 2) res.writeHead(500).end('try again');
      else sendBytes(res, flakyBytes, 'image/jpeg');
    };
    routes['/redirect-ok'] = (_req, res) => void res.writeHead(302, { location: '/redirected-target.jpg' }).end();

    otherPort = await startRouteServer({ '/photo.jpg': (_req, res) => sendBytes(res, photos[4]!.bytes, 'image/jpeg') });
    const fail = (path: string, reason: string, handler: Handler) => {
      bad.set(path, reason);
      routes[path] = handler;
    };
    fail('/always-500.jpg', 'http-status', (_req, res) => void res.writeHead(500).end('broken'));
    fail('/missing.jpg', 'http-status', (_req, res) => void res.writeHead(404, { 'content-type': 'image/jpeg' }).end('nope'));
    fail('/slow.jpg', 'timeout', async (_req, res) => {
      await delay(2500);
      sendBytes(res, photos[5]!.bytes, 'image/jpeg');
    });
    fail('/cut-short.jpg', 'truncated', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(photos[6]!.bytes.length) });
      res.write(photos[6]!.bytes.subarray(0, 5000), () => res.destroy());
    });
    fail('/html-as-jpeg.jpg', 'not-an-image', (_req, res) => sendBytes(res, Buffer.from('<!doctype html><html><body>Login required</body></html>'), 'image/jpeg'));
    fail('/text.png', 'not-an-image', (_req, res) => sendBytes(res, Buffer.from('this is not a png'), 'image/png'));
    fail('/empty.jpg', 'not-an-image', (_req, res) => sendBytes(res, Buffer.alloc(0), 'image/jpeg'));
    fail('/bomb.png', 'too-many-pixels', (_req, res) => sendBytes(res, pngBombHeader(30000, 30000), 'image/png'));
    const halfJpeg = photos[7]!.bytes.subarray(0, Math.floor(photos[7]!.bytes.length / 2));
    fail('/corrupt.jpg', 'corrupt-image', (_req, res) => sendBytes(res, halfJpeg, 'image/jpeg'));
    fail('/too-big.jpg', 'too-large', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) });
      res.write(photos[0]!.bytes);
    });
    fail('/loop-a.jpg', 'redirect-loop', (_req, res) => void res.writeHead(302, { location: '/loop-b.jpg' }).end());
    routes['/loop-b.jpg'] = (_req, res) => void res.writeHead(302, { location: '/loop-a.jpg' }).end();
    for (let i = 0; i < 10; i++) routes[`/chain-${i}.jpg`] = (_req, res) => void res.writeHead(301, { location: `/chain-${i + 1}.jpg` }).end();
    routes['/chain-10.jpg'] = (_req, res) => sendBytes(res, photos[0]!.bytes, 'image/jpeg');
    bad.set('/chain-0.jpg', 'too-many-redirects');
    fail('/to-other-port.jpg', 'blocked-address', (_req, res) => void res.writeHead(302, { location: otherPort.url('/photo.jpg') }).end());
    fail('/to-metadata.jpg', 'blocked-address', (_req, res) => void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end());
    fail('/to-file.jpg', 'bad-scheme', (_req, res) => void res.writeHead(302, { location: `file://${PHOTOS_DIR}/calla.jpg` }).end());
    server = await startRouteServer(routes);
  });

  afterAll(async () => {
    await server?.close();
    await otherPort?.close();
    await rm(root, { recursive: true, force: true });
  });

  const items = () => [
    // The redirect target is only reached through /redirect-ok.
    ...[...good.keys()].filter((path) => path !== '/redirected-target.jpg').map((path) => ({ url: server.url(path), title: path })),
    { url: server.url('/copy-of-photo.jpg') },
    { url: server.url('/redirect-ok') },
    ...[...bad.keys()].map((path) => server.url(path)),
    'ftp://example.com/flower.jpg',
    'http://10.0.0.7/flower.jpg',
    server.url('/photos/calla.jpg'), // listed twice: fetched once
  ];

  it('stores every good image exactly once, records every bad one with its reason, and resumes without refetching', async () => {
    const store = new FsStore(join(root, 'store'));
    const progress: Array<[number, number]> = [];
    const streamed: UrlOutcome[] = [];
    const first = await downloadImages(store, items(), {
      ...options(server),
      onProgress: (done, total) => progress.push([done, total]),
      onOutcome: (outcome) => void streamed.push(outcome),
    });
    const outcomes = byUrl(first);

    // Good images: downloaded, content-addressed, each stored once.
    const stored = await store.list('images/raw/');
    const expectedShas = new Set([...good.values()].map((bytes) => sha256(bytes)));
    expect(stored.map((object) => object.key.replace(/^images\/raw\/|\.\w+$/g, '')).sort()).toEqual([...expectedShas].sort());
    for (const [path, bytes] of good) {
      const outcome = outcomes.get(server.url(path === '/redirected-target.jpg' ? '/redirect-ok' : path));
      expect(outcome?.outcome, path).toBe('downloaded');
      expect(outcome && 'sha256' in outcome && outcome.sha256).toBe(sha256(bytes));
      expect(Buffer.compare(await store.get((outcome as { key: string }).key), bytes)).toBe(0);
    }
    const formats = Object.fromEntries(first.downloaded.map((d) => [new URL(d.url).pathname, d.format]));
    expect(formats).toMatchObject({
      '/photos/calla.jpg': 'jpeg',
      '/as-png/calla.jpg': 'png',
      '/formats/x.webp': 'webp',
      '/formats/x.gif': 'gif',
      '/formats/x.avif': 'avif',
      '/formats/x.tif': 'tiff',
    });
    expect(first.downloaded.find((d) => d.url.endsWith('/as-png/calla.jpg'))?.key).toMatch(/\.png$/);
    expect(first.downloaded.find((d) => d.url.endsWith('/photos/calla.jpg'))).toMatchObject({ width: 512, height: 512, alreadyStored: false });

    // Redirects are followed; the copy is a duplicate of whichever URL finished first.
    const pair = [outcomes.get(server.url('/copy-of-photo.jpg'))!, outcomes.get(server.url(`/photos/${(await loadPhotos())[2]!.name}`))!];
    expect(pair.map((o) => o.outcome).sort()).toEqual(['downloaded', 'duplicate']);
    const duplicate = pair.find((o) => o.outcome === 'duplicate')!;
    expect(duplicate).toMatchObject({ duplicateOf: pair.find((o) => o.outcome === 'downloaded')!.url });
    expect(outcomes.get(server.url('/redirect-ok'))).toMatchObject({ outcome: 'downloaded', sha256: sha256(good.get('/redirected-target.jpg')!) });
    expect(first.duplicates).toHaveLength(1);
    expect(server.hits('/photos/calla.jpg')).toBe(1); // listed twice, fetched once

    // The retry proof: two 500s, then the image.
    expect(outcomes.get(server.url('/flaky.jpg'))).toMatchObject({ outcome: 'downloaded' });
    expect(server.hits('/flaky.jpg')).toBe(3);

    // Bad ones, each with its reason; permanent ones tried once, transient ones retried.
    for (const [path, reason] of bad) {
      expect(outcomes.get(server.url(path)), path).toMatchObject({ outcome: 'failed', reason });
    }
    expect(outcomes.get('ftp://example.com/flower.jpg')).toMatchObject({ reason: 'bad-scheme' });
    expect(outcomes.get('http://10.0.0.7/flower.jpg')).toMatchObject({ reason: 'blocked-address' });
    expect(server.hits('/always-500.jpg')).toBe(3);
    expect(server.hits('/cut-short.jpg')).toBe(3);
    expect(outcomes.get(server.url('/slow.jpg'))).toMatchObject({ attempts: 3, retryable: true });
    expect(server.hits('/missing.jpg')).toBe(1);
    expect(server.hits('/bomb.png')).toBe(1);
    expect(outcomes.get(server.url('/missing.jpg'))).toMatchObject({ attempts: 1, retryable: false });
    // Only the header check words it like this: a decoder would have said "exceeds pixel limit" or "corrupt".
    expect(outcomes.get(server.url('/bomb.png'))).toMatchObject({ detail: expect.stringContaining('header declares 30000x30000') });
    expect(otherPort.hits('/photo.jpg')).toBe(0);

    // Totals, progress and the streamed record.
    const distinct = new Set(items().map((item) => (typeof item === 'string' ? item : item.url)));
    expect(first.downloaded.length + first.duplicates.length + first.failures.length).toBe(distinct.size);
    expect(progress.at(-1)).toEqual([distinct.size, distinct.size]);
    expect(streamed).toHaveLength(distinct.size);
    for (const outcome of streamed) expect(UrlOutcomeSchema.parse(JSON.parse(JSON.stringify(outcome)))).toEqual(outcome);

    // Second run, resuming from the first run's record: nothing permanent is fetched again.
    const hitsBefore = server.requests.length;
    const resumed = await downloadImages(store, items(), { ...options(server), known: streamed });
    const refetched = server.requests.slice(hitsBefore).map((path) => path.replace(/\?.*/, ''));
    expect(new Set(refetched)).toEqual(new Set(['/always-500.jpg', '/slow.jpg', '/cut-short.jpg'])); // only the retryable failures
    expect(resumed.reused).toBe(distinct.size - 3);
    expect(resumed.downloaded).toEqual(first.downloaded); // the reused records, as they were
    expect(resumed.duplicates).toEqual(first.duplicates);
    expect(await store.list('images/raw/')).toEqual(stored);

    // Third run without any record: everything is fetched, nothing new is written.
    const fresh = await downloadImages(store, items(), options(server));
    expect(fresh.reused).toBe(0);
    expect(fresh.downloaded.length).toBe(first.downloaded.length);
    expect(fresh.downloaded.every((d) => d.alreadyStored)).toBe(true);
    expect(await store.list('images/raw/')).toEqual(stored);
  });

  it('refetches a known URL whose object has disappeared from the store', async () => {
    const store = new FsStore(join(root, 'store-vanish'));
    const url = server.url('/photos/calla.jpg');
    const first = await downloadImages(store, [url], options(server));
    await store.delete(first.downloaded[0]!.key);
    const again = await downloadImages(store, [url], { ...options(server), known: first.downloaded });
    expect(again.reused).toBe(0);
    expect(again.downloaded[0]).toMatchObject({ alreadyStored: false });
    expect(await store.exists(first.downloaded[0]!.key)).toBe(true);
  });

  it('applies the per-host concurrency limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const bytes = (await loadPhotos())[0]!.bytes;
    const slowServer = await startRouteServer(
      Object.fromEntries(
        Array.from({ length: 8 }, (_, i) => [
          `/${i}.jpg`,
          (async (_req, res) => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await delay(40);
            inFlight--;
            sendBytes(res, bytes, 'image/jpeg');
          }) as Handler,
        ]),
      ),
    );
    try {
      const store = new FsStore(join(root, 'store-limit'));
      const urls = Array.from({ length: 8 }, (_, i) => slowServer.url(`/${i}.jpg`));
      const result = await downloadImages(store, urls, { ...options(slowServer), concurrency: 8, perHostConcurrency: 2, totalTimeoutMs: 5000 });
      expect(result.downloaded).toHaveLength(1);
      expect(result.duplicates).toHaveLength(7);
      expect(peak).toBe(2);
    } finally {
      await slowServer.close();
    }
  });

  it('spaces requests to one host by perHostRequestsPerSecond', async () => {
    const store = new FsStore(join(root, 'store-rate'));
    const urls = ['calla', 'garden', 'ladybird', 'raindrops', 'twowings'].map((name) => server.url(`/photos/${name}.jpg`));
    const started = Date.now();
    const result = await downloadImages(store, urls, { ...options(server), perHostRequestsPerSecond: 10 });
    expect(result.downloaded).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390); // starts at 0, 100, 200, 300, 400 ms
  });

  it('reads local-folder files through the same checks, only inside localRoots', async () => {
    const folder = join(root, 'local');
    await mkdir(folder, { recursive: true });
    await copyFile(join(PHOTOS_DIR, 'calla.jpg'), join(folder, 'calla.jpg'));
    await writeFile(join(folder, 'notes.jpg'), 'not really a jpeg');
    await writeFile(join(folder, 'bomb.png'), pngBombHeader(30000, 30000));
    // A symlink pointing out of the folder, at a perfectly good image: refused all the same.
    await symlink(join(PHOTOS_DIR, 'garden.jpg'), join(folder, 'escape.jpg'));
    const url = (name: string) => pathToFileURL(join(folder, name)).href;
    const store = new FsStore(join(root, 'store-local'));
    const result = await downloadImages(
      store,
      [url('calla.jpg'), url('notes.jpg'), url('bomb.png'), url('missing.jpg'), url('escape.jpg'), pathToFileURL(join(PHOTOS_DIR, 'garden.jpg')).href],
      { localRoots: [folder] },
    );
    const outcomes = byUrl(result);
    expect(outcomes.get(url('calla.jpg'))).toMatchObject({ outcome: 'downloaded', format: 'jpeg', width: 512 });
    expect(outcomes.get(url('notes.jpg'))).toMatchObject({ reason: 'not-an-image' });
    expect(outcomes.get(url('bomb.png'))).toMatchObject({ reason: 'too-many-pixels' });
    expect(outcomes.get(url('missing.jpg'))).toMatchObject({ reason: 'file-unreadable' });
    expect(outcomes.get(url('escape.jpg'))).toMatchObject({ reason: 'blocked-path' });
    expect(outcomes.get(pathToFileURL(join(PHOTOS_DIR, 'garden.jpg')).href)).toMatchObject({ reason: 'blocked-path' });

    const refused = await downloadImages(store, [url('calla.jpg')]);
    expect(refused.failures[0]).toMatchObject({ reason: 'blocked-path' });
  });

  it('rejects when cancelled and records nothing for unfinished URLs', async () => {
    const store = new FsStore(join(root, 'store-cancel'));
    const controller = new AbortController();
    const recorded: UrlOutcome[] = [];
    setTimeout(() => controller.abort(new Error('activity cancelled')), 100);
    await expect(
      downloadImages(store, [server.url('/slow.jpg')], { ...options(server), totalTimeoutMs: 5000, signal: controller.signal, onOutcome: (o) => void recorded.push(o) }),
    ).rejects.toThrow('activity cancelled');
    expect(recorded).toEqual([]);
  });

  it('fails the batch when the store fails, instead of blaming the URLs', async () => {
    const store = new FsStore(join(root, 'store-broken'));
    store.put = async () => {
      throw new Error('disk full');
    };
    await expect(downloadImages(store, [server.url('/photos/calla.jpg')], options(server))).rejects.toThrow('disk full');
  });
});
