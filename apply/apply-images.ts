import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { composeRow, conformRgb, partialInformation, type RgbImage } from '../imaging';
import { PartialParamsSchema } from '../imaging/partial-params';
import { translateImages, type LoadedGenerator } from '../model/infer';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export interface AppliedImage {
  source: string;
  /** PNG: original | interpretation (| partial information). */
  composite: Buffer;
}

/**
 * Shows images to a trained network: conform each to the model's size, build the partial
 * information exactly as training did (method and params from the export's metadata), translate,
 * and compose original | interpretation side by side, optionally with the partial panel.
 */
export async function applyToImages(loaded: LoadedGenerator, sources: Array<{ name: string; bytes: Buffer }>, options: { threePanels?: boolean } = {}): Promise<AppliedImage[]> {
  const size = loaded.metadata.imageSize;
  const params = PartialParamsSchema.parse(loaded.metadata.partialInformation?.params ?? { method: 'kmeans' });
  const originals: RgbImage[] = [];
  const partials: RgbImage[] = [];
  for (const source of sources) {
    const original = await conformRgb(source.bytes, { size, fit: 'centre' });
    originals.push(original);
    partials.push(await partialInformation(original, params));
  }
  const outputs = await translateImages(loaded, partials);
  return Promise.all(
    sources.map(async (source, i) => ({
      source: source.name,
      composite: await composeRow([originals[i]!, outputs[i]!, ...(options.threePanels ? [partials[i]!] : [])]),
    })),
  );
}

/** Image files named on the command line: files as given, folders by their image files (sorted). */
export async function readImageSources(paths: readonly string[]): Promise<Array<{ name: string; bytes: Buffer }>> {
  const found: Array<{ name: string; bytes: Buffer }> = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      const names = (await readdir(path)).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
      for (const name of names) found.push({ name, bytes: await readFile(join(path, name)) });
    } else {
      found.push({ name: path.split('/').pop()!, bytes: await readFile(path) });
    }
  }
  return found;
}
