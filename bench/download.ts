/**
 * Download throughput: serves N distinct JPEGs (the bundled photos, each re-cropped and
 * re-encoded so no two are alike) from a local server and times downloadImages into an FsStore
 * in a temp dir — fetch, sniff, header check, full decode, sha256, store.
 *
 *   npx tsx bench/download.ts [--count 1000] [--concurrency 16]
 */
import { createServer } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FsStore } from '../storage/fs-store';
import { downloadImages, type DownloadOptions } from '../sources/download';
import { printMachine } from './lib/machine';

const PHOTOS = join(__dirname, '..', 'test', 'fixtures', 'photos');

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** Photo i: fixture i mod 8, cropped at an offset unique to i, re-encoded. Distinct bytes, realistic JPEGs. */
async function makeImages(count: number): Promise<Buffer[]> {
  const names = (await readdir(PHOTOS)).filter((name) => name.endsWith('.jpg')).sort();
  const sources = await Promise.all(names.map((name) => readFile(join(PHOTOS, name))));
  const images: Buffer[] = new Array(count);
  const batch = 32;
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, async (_, j) => {
        const i = start + j;
        const variant = Math.floor(i / sources.length);
        images[i] = await sharp(sources[i % sources.length]!)
          .extract({ left: variant % 32, top: Math.floor(variant / 32) % 32, width: 480, height: 480 })
          .jpeg({ quality: 85 })
          .toBuffer();
      }),
    );
  }
  return images;
}

async function main(): Promise<void> {
  printMachine();
  const count = argument('count', 1000);
  const concurrency = argument('concurrency', 16);
  const decodeConcurrency = argument('decode', 0) || undefined;

  let started = Date.now();
  const images = await makeImages(count);
  const totalBytes = images.reduce((sum, image) => sum + image.length, 0);
  console.log(`generated ${count} images (${(totalBytes / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const server = createServer((req, res) => {
    const match = /^\/img\/(\d+)\.jpg$/.exec(req.url ?? '');
    const image = match ? images[Number(match[1])] : undefined;
    if (!image) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(image.length) }).end(image);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const urls = images.map((_, i) => `http://127.0.0.1:${port}/img/${i}.jpg`);
  const root = await mkdtemp(join(tmpdir(), 'bloomsight-bench-download-'));
  const store = new FsStore(root);
  const options: DownloadOptions = { allowHosts: [`127.0.0.1:${port}`], concurrency, perHostConcurrency: concurrency, decodeConcurrency };

  const report = (label: string, ms: number, bytes: number) =>
    console.log(
      `${label.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${((count * 1000) / ms).toFixed(0).padStart(6)} images/s  ${(bytes / 1e6 / (ms / 1000)).toFixed(1).padStart(6)} MB/s`,
    );

  try {
    started = Date.now();
    const cold = await downloadImages(store, urls, options);
    report(`cold download (concurrency ${concurrency})`, Date.now() - started, totalBytes);
    if (cold.downloaded.length !== count || cold.failures.length > 0) {
      throw new Error(`expected ${count} downloads, got ${cold.downloaded.length} (${cold.failures.length} failures: ${cold.failures[0]?.detail})`);
    }
    const stored = await store.list('images/raw/');
    if (stored.length !== count) throw new Error(`expected ${count} stored objects, found ${stored.length}`);

    started = Date.now();
    const resumed = await downloadImages(store, urls, { ...options, known: cold.downloaded });
    report('resume with known outcomes', Date.now() - started, 0);
    if (resumed.reused !== count) throw new Error(`resume refetched ${count - resumed.reused} URLs`);

    started = Date.now();
    const again = await downloadImages(store, urls, options);
    report('re-run without a record (dedupe)', Date.now() - started, totalBytes);
    if (!again.downloaded.every((image) => image.alreadyStored)) throw new Error('re-run wrote new objects');
  } finally {
    server.close();
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
