import { composePair, partialInformation, readRgb } from '../imaging';
import type { PartialParams } from '../imaging/partial-params';
import { keys, type Store } from '../storage';

/**
 * Makes the training pair (partial information | photo) of one conformed image under its
 * content-addressed key, unless it is stored already: the same image, size and parameters always
 * give the same key, so runs and variants that agree share the work.
 */
export async function ensurePair(store: Store, image: { sha256: string; key: string }, imageSize: number, partial: PartialParams, hash: string): Promise<string> {
  const key = keys.pair(partial.method, hash, imageSize, image.sha256);
  if (!(await store.exists(key))) {
    const photo = await readRgb(await store.get(image.key));
    await store.put(key, await composePair(await partialInformation(photo, partial), photo), { contentType: 'image/png' });
  }
  return key;
}
