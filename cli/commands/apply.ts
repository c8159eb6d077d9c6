import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyToImages, readImageSources } from '../../apply/apply-images';
import { loadConfig } from '../../config/load';
import { loadExport } from '../../model/infer';
import { resolveInferenceProvider, type ExecutionProvider } from '../../model/onnx-runtime';
import { openStore } from '../../storage';
import { CliError } from '../context';

export const APPLY_HELP = `Usage: bloomsight apply --model MODEL_ID [--out DIR] [--three] <image or folder>...

Shows images to a trained network and writes, for each, original | interpretation side by side
(--three adds the partial-information panel) as DIR/<name>.png (default DIR: ./bloomsight-applied).
The model is read from the configured store.`;

export async function applyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { model: { type: 'string' }, out: { type: 'string' }, three: { type: 'boolean', default: false } } });
  if (!values.model) throw new CliError('apply needs --model MODEL_ID', 2);
  if (positionals.length === 0) throw new CliError('apply needs at least one image or folder', 2);
  const config = loadConfig();
  const { provider } = await resolveInferenceProvider(config.workers.gpu.inference);
  const store = await openStore(config.store);
  const sources = await readImageSources(positionals).catch((error: Error) => {
    throw new CliError(error.message, 2);
  });
  const written = await applyModel(store, values.model, sources, resolve(values.out ?? 'bloomsight-applied'), values.three ?? false, provider);
  for (const path of written) console.log(path);
  return 0;
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
    const applied = await applyToImages(loaded, sources, { threePanels });
    await mkdir(outDir, { recursive: true });
    const written: string[] = [];
    for (const image of applied) {
      const path = join(outDir, `${basename(image.source, extname(image.source))}.png`);
      await writeFile(path, image.composite);
      written.push(path);
    }
    return written;
  } finally {
    await loaded.dispose();
  }
}
