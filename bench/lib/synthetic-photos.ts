import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';

const PHOTOS = join(__dirname, '..', '..', 'test', 'fixtures', 'photos');

/**
 * `count` distinct JPEGs cut from the bundled photos (crop window, mirror and brightness vary per
 * image), so content hashes differ and nothing deduplicates away. Made once, held in memory.
 */
export async function syntheticPhotos(count: number, side = 320): Promise<Buffer[]> {
  const sources = await Promise.all((await readdir(PHOTOS)).filter((n) => n.endsWith('.jpg')).sort().map((n) => readFile(join(PHOTOS, n))));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const crop = 256 + (i % 7) * 32; // 256..448 of the 512 source
    const left = (i * 37) % (512 - crop);
    const top = (i * 61) % (512 - crop);
    let image = sharp(sources[i % sources.length]).extract({ left, top, width: crop, height: crop }).resize(side, side);
    if ((i >> 3) % 2 === 1) image = image.flop();
    // A slight brightness change per image keeps crops that happen to coincide distinct.
    image = image.modulate({ brightness: 0.9 + (i % 97) / 485 });
    out.push(await image.jpeg({ quality: 85 }).toBuffer());
  }
  return out;
}

/** Serves `/img/<n>.jpg` from memory on loopback. */
export async function servePhotos(photos: Buffer[]): Promise<{ host: string; urls: string[]; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const n = Number(/^\/img\/(\d+)\.jpg$/.exec(req.url ?? '')?.[1] ?? -1);
    const body = photos[n];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    urls: photos.map((_, n) => `http://${host}/img/${n}.jpg`),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
