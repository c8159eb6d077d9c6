import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { composeRow, conformRgb, ImageShapeError, partialInformation, type RgbImage } from '../imaging';
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
  const originals = await conformAll(sources, loaded.metadata.imageSize);
  const { partials, outputs } = await interpret(loaded, originals);
  return Promise.all(
    sources.map(async (source, i) => ({
      source: source.name,
      composite: await composeRow([originals[i]!, outputs[i]!, ...(options.threePanels ? [partials[i]!] : [])]),
    })),
  );
}

/**
 * Shows images to several networks at once (a comparison's variants, which share one image size):
 * original, then each network's interpretation, left to right in the given order; with
 * `threePanels` each network's partial information comes before its interpretation, as in the
 * comparison report and video.
 */
export async function applyComparisonToImages(models: ReadonlyArray<LoadedGenerator>, sources: Array<{ name: string; bytes: Buffer }>, options: { threePanels?: boolean } = {}): Promise<AppliedImage[]> {
  const size = models[0]!.metadata.imageSize;
  const other = models.find((m) => m.metadata.imageSize !== size);
  if (other) throw new ImageShapeError(`the models differ in size (${size} and ${other.metadata.imageSize} px): they cannot share one picture`);
  const originals = await conformAll(sources, size);
  const columns: RgbImage[][] = [];
  for (const loaded of models) {
    const { partials, outputs } = await interpret(loaded, originals);
    columns.push(...(options.threePanels ? [partials, outputs] : [outputs]));
  }
  return Promise.all(sources.map(async (source, i) => ({ source: source.name, composite: await composeRow([originals[i]!, ...columns.map((column) => column[i]!)]) })));
}

async function conformAll(sources: Array<{ bytes: Buffer }>, size: number): Promise<RgbImage[]> {
  const originals: RgbImage[] = [];
  for (const source of sources) originals.push(await conformRgb(source.bytes, { size, fit: 'centre' }));
  return originals;
}

/** The partial information of each image as the model was trained on it, and the model's interpretation. */
async function interpret(loaded: LoadedGenerator, originals: readonly RgbImage[]): Promise<{ partials: RgbImage[]; outputs: RgbImage[] }> {
  const params = PartialParamsSchema.parse(loaded.metadata.partialInformation?.params ?? { method: 'kmeans' });
  const partials: RgbImage[] = [];
  for (const original of originals) partials.push(await partialInformation(original, params));
  return { partials, outputs: await translateImages(loaded, partials) };
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
