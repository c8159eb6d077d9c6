/**
 * The dataset stages' speed without Temporal: N synthetic photos served by a local HTTP server →
 * download (sniff, decode check, dedupe) → conform to 256x256 → k-means (k = 7) pairs in a
 * local-disk store; then k-means alone at 256x256. Target: 1000 images in under 30 s on 2 cores.
 *   npx tsx bench/dataset.ts [images=1000] [batchSize=50] [parallelBatches=4]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../config/load';
import { conformRgb, kmeansColours } from '../imaging';
import { FsStore } from '../storage';
import { benchDatasetSpec, runPlainDataset } from './lib/plain-dataset';
import { servePhotos, syntheticPhotos } from './lib/synthetic-photos';
import { printMachine } from './lib/machine';

const [count = 1000, batchSize = 50, parallelBatches = 4] = process.argv.slice(2).map(Number);

async function main() {
  printMachine();
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-bench-dataset-'));
  const photos = await syntheticPhotos(count);
  const server = await servePhotos(photos);
  try {
    const store = new FsStore(join(dir, 'store'));
    await store.put('inputs/urls.txt', Buffer.from(server.urls.join('\n')));
    const config = parseConfig({ store: { kind: 'fs', root: store.root }, download: { allowHosts: [server.host] }, workers: { io: { concurrency: 8 } } });
    const started = performance.now();
    const manifest = await runPlainDataset(store, config, benchDatasetSpec('bench', count, batchSize, parallelBatches));
    const seconds = (performance.now() - started) / 1000;
    console.log(`download → conform 256 → k-means pairs: ${manifest.pairs} pairs from ${count} URLs (${manifest.downloaded} downloaded, ${manifest.failed} failed) in ${seconds.toFixed(2)} s = ${(count / seconds).toFixed(1)} URLs/s (target: ${count} in < 30 s)`);

    const images = await Promise.all(photos.slice(0, 50).map((p) => conformRgb(p, { size: 256, fit: 'centre' })));
    kmeansColours(images[0]!, { k: 7 }); // warm up
    const t0 = performance.now();
    const rounds = 4;
    for (let r = 0; r < rounds; r++) for (const image of images) kmeansColours(image, { k: 7 });
    console.log(`k-means k=7 at 256x256: ${((performance.now() - t0) / (rounds * images.length)).toFixed(2)} ms per image`);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
