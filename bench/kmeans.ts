// Micro-bench of the imaging hot path: npx tsx bench/kmeans.ts [images=100]
// Per stage: wall ms/image (one image at a time) and process CPU ms/image (all threads,
// including libvips workers), then the whole conform -> cluster -> pair path with 1, 2 and 4
// images in flight. Project target: 1000 images download -> pairs in < 30 s on 2 cores,
// i.e. roughly 20 CPU-ms per image for conform + cluster + pair.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  colouriseClusters,
  composePair,
  conformImage,
  conformRgb,
  edgeImage,
  kmeansColours,
  partialInformation,
  readRgb,
  type RgbImage,
} from '../imaging';
import { printMachine } from './lib/machine';

const count = Number(process.argv[2] ?? 100);
const photosDir = join(__dirname, '..', 'test', 'fixtures', 'photos');
const photos = readdirSync(photosDir)
  .filter((name) => name.endsWith('.jpg'))
  .sort()
  .map((name) => readFileSync(join(photosDir, name)));
const inputs = Array.from({ length: count }, (_, i) => photos[i % photos.length]!);

interface Measure {
  wallMs: number;
  cpuMs: number;
}

async function measure(run: (i: number) => unknown | Promise<unknown>, n = count): Promise<Measure> {
  for (let i = 0; i < Math.min(8, n); i++) await run(i); // warm up JIT and libvips caches
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run(i);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: wall / n, cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

async function measureConcurrent(run: (i: number) => Promise<unknown>, inFlight: number): Promise<Measure & { perSecond: number }> {
  let next = 0;
  const worker = async () => {
    while (next < count) await run(next++);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: wall / count, cpuMs: (cpu.user + cpu.system) / 1000 / count, perSecond: (count * 1000) / wall };
}

function row(label: string, m: Measure & { perSecond?: number }): void {
  const perSecond = m.perSecond ?? 1000 / m.wallMs;
  console.log(
    `${label.padEnd(44)} ${m.wallMs.toFixed(2).padStart(7)} ms/img wall ${m.cpuMs.toFixed(2).padStart(7)} ms/img cpu ${perSecond.toFixed(0).padStart(5)} img/s`,
  );
}

async function main(): Promise<void> {
  printMachine();
  console.log(`bench: ${count} images (${photos.length} fixture JPEGs 512x512, repeated), size 256, k=7`);
  console.log(`node ${process.version}, libvips ${sharp.versions.vips}, sharp threads ${sharp.concurrency()}, cores available ${availableParallelism()}`);

  const conformedList: RgbImage[] = [];
  for (const photo of photos) conformedList.push(await conformRgb(photo));
  const conformedPngs = await Promise.all(photos.map((photo) => conformImage(photo)));
  const photoAt = (i: number) => conformedList[i % conformedList.length]!;
  const clustersAt = conformedList.map((photo) => kmeansColours(photo, { k: 7 }));
  const partialAt = conformedList.map((photo, i) => colouriseClusters(clustersAt[i]!, photo.width, photo.height, 'palette'));

  // Scraped photos are rarely square: a landscape re-encode shows what the crop strategy costs.
  const landscapes = await Promise.all(photos.map((photo) => sharp(photo).resize(1024, 683, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer()));
  const landscapeAt = (i: number) => landscapes[i % landscapes.length]!;

  console.log('\nstages, one image at a time:');
  row('conform 512x512 -> raw (attention)', await measure((i) => conformRgb(inputs[i]!, { fit: 'attention' })));
  row('conform 512x512 -> raw (centre)', await measure((i) => conformRgb(inputs[i]!, { fit: 'centre' })));
  row('conform 1024x683 -> raw (attention)', await measure((i) => conformRgb(landscapeAt(i), { fit: 'attention' })));
  row('conform 1024x683 -> raw (centre)', await measure((i) => conformRgb(landscapeAt(i), { fit: 'centre' })));
  row('conform 512x512 -> PNG (attention)', await measure((i) => conformImage(inputs[i]!, { fit: 'attention' })));
  row('k-means k=7 (256x256)', await measure((i) => kmeansColours(photoAt(i), { k: 7 })));
  row('colourise (palette)', await measure((i) => colouriseClusters(clustersAt[i % photos.length]!, 256, 256, 'palette')));
  row('edges (Canny)', await measure((i) => edgeImage(photoAt(i))));
  row('compose pair -> PNG', await measure((i) => composePair(partialAt[i % photos.length]!, photoAt(i))));
  row('read conformed PNG -> raw', await measure((i) => readRgb(conformedPngs[i % photos.length]!)));

  const direct = async (i: number) => {
    const photo = await conformRgb(inputs[i]!);
    const clusters = kmeansColours(photo, { k: 7 });
    return composePair(colouriseClusters(clusters, photo.width, photo.height, 'palette'), photo);
  };
  // What the dataset activities do: conformed PNG goes to the store, is read back for the pair.
  const viaStore = async (i: number) => {
    const png = await conformImage(inputs[i]!);
    const photo = await readRgb(png);
    return composePair(await partialInformation(photo, { method: 'kmeans' }), photo);
  };

  console.log('\nwhole path conform -> k-means -> colourise -> pair PNG:');
  for (const inFlight of [1, 2, 4]) row(`direct (raw hand-off), ${inFlight} in flight`, await measureConcurrent(direct, inFlight));
  for (const inFlight of [1, 2, 4]) row(`via conformed PNG (activity path), ${inFlight} in flight`, await measureConcurrent(viaStore, inFlight));
  console.log('\n1000 images, of the 30 s budget (download time not included):');
  for (const [label, run] of [['direct', direct], ['activity path', viaStore]] as const) {
    const m = await measureConcurrent(run, 4);
    console.log(
      `  ${label.padEnd(14)} measured ${(m.wallMs).toFixed(1)} s at 4 in flight on this machine; ` +
        `CPU ${m.cpuMs.toFixed(1)} ms/img -> ${(m.cpuMs / 2).toFixed(1)} s if both cores are free`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
