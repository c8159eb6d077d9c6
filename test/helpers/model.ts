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
import { FsStore } from '../../storage';

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
