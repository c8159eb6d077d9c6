/**
 * Shared set-up of the model tests: the backend (native when it loads; heavy tests skip without it
 * unless BLOOMSIGHT_REQUIRE_NATIVE=1 makes that a failure), the eight fixture photos made into
 * (k-means partial information, photo) pairs at a small size, and a throwaway FsStore.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { conformRgb, partialInformation } from '../../imaging';
import { initBackend, type ActiveBackend } from '../../model/backend';
import type { ImagePair } from '../../model';
import { exportGenerator } from '../../model/export';
import { initialWeights, NETWORK_SEEDS } from '../../model/init';
import { generatorLayers, generatorLayout, networkWeights } from '../../model/layout';
import type { NetworkOptions, Provenance } from '../../model/options';
import { FsStore, type Store } from '../../storage';

const PHOTOS = resolve(__dirname, '..', 'fixtures', 'photos');

export async function modelTestBackend(): Promise<{ backend: ActiveBackend; skipReason: string | undefined }> {
  const backend = await initBackend({ prefer: 'auto', log: () => {} });
  const requireNative = process.env.BLOOMSIGHT_REQUIRE_NATIVE === '1';
  if (!backend.native && requireNative) throw new Error(`BLOOMSIGHT_REQUIRE_NATIVE=1 but the native backend did not load: ${backend.warning}`);
  const skipReason = backend.native ? undefined : `native backend unavailable (${backend.warning?.split('\n')[0]})`;
  return { backend, skipReason };
}

/** Fixture photos (sorted by name) as size x size pairs: k-means (k = 8, palette colours) | photo. */
export async function fixturePairs(size: number): Promise<ImagePair[]> {
  const files = (await readdir(PHOTOS)).filter((f) => f.endsWith('.jpg')).sort();
  const pairs: ImagePair[] = [];
  for (const file of files) {
    const target = await conformRgb(await readFile(join(PHOTOS, file)), { size, fit: 'centre' });
    const input = await partialInformation(target, { method: 'kmeans', k: 8, paint: 'palette' });
    pairs.push({ input, target });
  }
  return pairs;
}

export async function tempStore(): Promise<{ store: FsStore; root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'bloomsight-model-test-'));
  return { store: new FsStore(root), root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * A real export of an untrained generator with the paper's seeded initial weights (what a
 * `new Pix2Pix` starts from), through the real exporter. `rescaleKernels` rescales kernels from
 * N(0, 0.02) to variance 1/fan-in: at 0.02 the signal fades through the U-Net and the untrained output
 * is a flat grey; rescaled, the output visibly follows the input.
 */
export async function exportUntrained(
  store: Store,
  modelId: string,
  options: { imageSize: number; ngf: number; seed: number; partialInformation: Provenance['partialInformation']; rescaleKernels?: boolean },
): Promise<void> {
  const network: NetworkOptions = { imageSize: options.imageSize, ngf: options.ngf, ndf: options.ngf, dropout: 0.5, batchNormMomentum: 0.99, batchNormEpsilon: 1e-5 };
  const specs = networkWeights(generatorLayers(generatorLayout(network)));
  const weights = initialWeights(specs, NETWORK_SEEDS.generator(options.seed));
  if (options.rescaleKernels) {
    for (const spec of specs.filter((w) => w.role === 'kernel')) {
      // Convolution kernels are [k, k, in, out]; a stride-2 transposed one [k, k, out, in] sums k*k/4 taps per input channel.
      const fanIn = spec.name.includes('convT') ? 4 * spec.shape[3]! : 16 * spec.shape[2]!;
      const values = weights.get(spec.name)!;
      for (let i = 0; i < values.length; i++) values[i] *= Math.sqrt(1 / fanIn) / 0.02;
    }
  }
  await exportGenerator(store, modelId, weights, network, { steps: 0, provenance: { datasetId: 'test', partialInformation: options.partialInformation } });
}
