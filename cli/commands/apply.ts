import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { comparisonColumns, ComparisonNotFoundError, readComparison } from '../../activities/comparison-record';
import { applyComparisonToImages, applyToImages, readImageSources, type AppliedImage } from '../../apply/apply-images';
import { loadConfig } from '../../config/load';
import { loadExport, type LoadedGenerator } from '../../model/infer';
import { resolveInferenceProvider, type ExecutionProvider } from '../../model/onnx-runtime';
import { openStore } from '../../storage';
import { CliError } from '../context';

export const APPLY_HELP = `Usage: bloomsight apply (--model MODEL_ID | --comparison RUN_KEY) [--out DIR] [--three] <image or folder>...

Shows images to a trained network and writes, for each, original | interpretation side by side
(--three adds the partial-information panel) as DIR/<name>.png (default DIR: ./bloomsight-applied).
With --comparison, to every variant of a comparison (bloomsight compare) in one picture: the
original, then each variant's interpretation (--three: its partial information, then its
interpretation), in the order the comparison lists them (printed first).
The models are read from the configured store.`;

export async function applyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { model: { type: 'string' }, comparison: { type: 'string' }, out: { type: 'string' }, three: { type: 'boolean', default: false } },
  });
  if (!values.model && !values.comparison) throw new CliError('apply needs --model MODEL_ID or --comparison RUN_KEY', 2);
  if (values.model && values.comparison) throw new CliError('apply takes --model or --comparison, not both', 2);
  if (positionals.length === 0) throw new CliError('apply needs at least one image or folder', 2);
  const config = loadConfig();
  const { provider } = await resolveInferenceProvider(config.workers.gpu.inference);
  const store = await openStore(config.store);
  const sources = await readImageSources(positionals).catch((error: Error) => {
    throw new CliError(error.message, 2);
  });
  const out = resolve(values.out ?? 'bloomsight-applied');
  let written: string[];
  if (values.comparison) {
    const comparison = await readComparison(store, values.comparison).catch((error: Error) => {
      throw error instanceof ComparisonNotFoundError ? new CliError(error.message, 2) : error;
    });
    console.log(`columns: ${comparisonColumns(comparison.variants.map((v) => v.name), values.three ? 'three' : 'two')}`);
    written = await applyComparison(store, comparison.variants.map((v) => v.modelId), sources, out, values.three ?? false, provider);
  } else {
    written = await applyModel(store, values.model!, sources, out, values.three ?? false, provider);
  }
  for (const path of written) console.log(path);
  return 0;
}

/** Applies several exports (a comparison's variants) to images and writes one composite per image; returns the files written. */
export async function applyComparison(
  store: Awaited<ReturnType<typeof openStore>>,
  modelIds: readonly string[],
  sources: Array<{ name: string; bytes: Buffer }>,
  outDir: string,
  threePanels = false,
  provider: ExecutionProvider = 'cpu',
): Promise<string[]> {
  const loaded: LoadedGenerator[] = [];
  try {
    for (const modelId of modelIds) loaded.push(await loadExport(store, modelId, { provider }));
    return await writeComposites(await applyComparisonToImages(loaded, sources, { threePanels }), outDir);
  } finally {
    await Promise.all(loaded.map((l) => l.dispose()));
  }
}

/** Applies an export to images and writes the composites; returns the files written. */
export async function applyModel(
  store: Awaited<ReturnType<typeof openStore>>,
  modelId: string,
  sources: Array<{ name: string; bytes: Buffer }>,
  outDir: string,
  threePanels = false,
  provider: ExecutionProvider = 'cpu',
): Promise<string[]> {
  const loaded = await loadExport(store, modelId, { provider });
  try {
    return await writeComposites(await applyToImages(loaded, sources, { threePanels }), outDir);
  } finally {
    await loaded.dispose();
  }
}

async function writeComposites(applied: AppliedImage[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const image of applied) {
    const path = join(outDir, `${basename(image.source, extname(image.source))}.png`);
    await writeFile(path, image.composite);
    written.push(path);
  }
  return written;
}
