/**
 * Inference from an export: generator.onnx on ONNX Runtime (model/onnx-runtime.ts), fed batches of
 * partial-information images. An export made before generator.onnx existed (format version 1) gets
 * it on first use: its TF.js weights are read with the stock tf.loadLayersModel and converted.
 *
 * The caller builds the inputs the way the training pairs were built: `metadata.partialInformation`
 * names the method and its parameters (the imaging module applies them).
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../imaging/rgb';
import { CorruptObjectError, getJson, keys, ObjectNotFoundError, putJson, type Store } from '../storage';
import { ExportCorruptError, ExportNotFoundError, InferenceInputError } from './errors';
import { EXPORT_FORMAT_VERSION, ExportMetadataSchema, ONNX_FILE, onnxGenerator, type ExportMetadata } from './export';
import type { WeightValues } from './fold';
import { generatorLayers, generatorLayout } from './layout';
import { layersModelNames, layersModelWeights } from './ops/layers';
import { createGeneratorSession, type ExecutionProvider, type GeneratorSession } from './onnx-runtime';
import { imagesToNchw, nchwToImages } from './pixels';

export { ExportCorruptError, ExportNotFoundError, InferenceInputError };

export interface LoadedGenerator {
  metadata: ExportMetadata & { onnx: NonNullable<ExportMetadata['onnx']> };
  session: GeneratorSession;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  /** ONNX Runtime execution provider (the worker resolves it at start); default the CPU. */
  provider?: ExecutionProvider;
}

async function readMetadata(store: Store, modelId: string): Promise<ExportMetadata> {
  const key = `${keys.exportDir(modelId)}/metadata.json`;
  try {
    return await getJson(store, key, ExportMetadataSchema);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw new ExportNotFoundError(modelId, key);
    if (error instanceof CorruptObjectError) throw new ExportCorruptError(error.message);
    throw error;
  }
}

/** One export file, checked against metadata.json's record (the store checks the bytes against its own). */
async function readExportFile(store: Store, modelId: string, metadata: ExportMetadata, name: string): Promise<Buffer> {
  const dir = keys.exportDir(modelId);
  const expected = metadata.files.find((f) => f.name === name);
  if (!expected) throw new ExportCorruptError(`${dir}/metadata.json does not list ${name}`);
  const record = await store.stat(`${dir}/${name}`);
  if (!record) throw new ExportCorruptError(`${dir}/${name} is missing`);
  if (record.size !== expected.size || record.sha256 !== expected.sha256) {
    throw new ExportCorruptError(`${dir}/${name} does not match metadata.json (another export's file?)`);
  }
  try {
    return await store.get(`${dir}/${name}`);
  } catch (error) {
    if (error instanceof ObjectNotFoundError || error instanceof CorruptObjectError) throw new ExportCorruptError(`${dir}/${name}: ${error.message}`);
    throw error;
  }
}

/**
 * Loads an export's generator.onnx into ONNX Runtime (adding the file first to a version 1 export).
 * Throws ExportNotFoundError or ExportCorruptError.
 */
export async function loadExport(store: Store, modelId: string, options: LoadOptions = {}): Promise<LoadedGenerator> {
  let metadata = await readMetadata(store, modelId);
  if (!metadata.onnx) metadata = await addOnnx(store, modelId, metadata);
  const onnx = metadata.onnx!;
  const bytes = await readExportFile(store, modelId, metadata, ONNX_FILE);
  let session: GeneratorSession;
  try {
    session = await createGeneratorSession(bytes, options.provider ?? 'cpu', { input: onnx.input.name, output: onnx.output.name });
  } catch (error) {
    throw new ExportCorruptError(`${keys.exportDir(modelId)}/${ONNX_FILE} does not load in ONNX Runtime: ${(error as Error).message.split('\n')[0]}`);
  }
  return { metadata: { ...metadata, onnx }, session, dispose: () => session.release() };
}

/** Translates images (each of the model's size) in batches of `batchSize`. */
export async function translateImages(loaded: LoadedGenerator, images: readonly RgbImage[], batchSize = 8): Promise<RgbImage[]> {
  const s = loaded.metadata.imageSize;
  for (const image of images) {
    if (image.width !== s || image.height !== s) throw new InferenceInputError(`input is ${image.width}x${image.height}, the model takes ${s}x${s}`);
  }
  const out: RgbImage[] = [];
  for (let i = 0; i < images.length; i += batchSize) {
    const batch = images.slice(i, i + batchSize);
    const output = await loaded.session.run(imagesToNchw(batch), batch.length, s);
    out.push(...nchwToImages(output, batch.length, s, s));
  }
  return out;
}

/**
 * An export's generator weights by their checkpoint names (layer `enc2_bn` -> `enc2/bn/gamma`, ...),
 * read from its TF.js files with the stock loader: the starting point for fine-tuning, and what a
 * version 1 export's generator.onnx is made from.
 */
export async function loadExportedGeneratorWeights(store: Store, modelId: string): Promise<{ weights: WeightValues; metadata: ExportMetadata }> {
  const metadata = await readMetadata(store, modelId);
  const modelJson = JSON.parse((await readExportFile(store, modelId, metadata, 'model.json')).toString('utf8')) as tf.io.ModelJSON;
  const shards: Buffer[] = [];
  for (const path of modelJson.weightsManifest.flatMap((group) => group.paths)) shards.push(await readExportFile(store, modelId, metadata, path));
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
  try {
    return { weights: weightsOfLayersModel(model, metadata.network), metadata };
  } finally {
    model.dispose();
  }
}

/** Writes generator.onnx into a version 1 export and records it in metadata.json (same bytes from any worker). */
async function addOnnx(store: Store, modelId: string, metadata: ExportMetadata): Promise<ExportMetadata> {
  const { weights } = await loadExportedGeneratorWeights(store, modelId);
  const onnx = onnxGenerator(metadata.network, weights, { partialInformation: metadata.partialInformation, steps: metadata.steps });
  const dir = keys.exportDir(modelId);
  const stored = await store.put(`${dir}/${ONNX_FILE}`, Buffer.from(onnx.bytes.buffer, onnx.bytes.byteOffset, onnx.bytes.byteLength));
  const upgraded: ExportMetadata = {
    ...metadata,
    formatVersion: EXPORT_FORMAT_VERSION,
    onnx: onnx.contract(stored.sha256),
    files: [...metadata.files.filter((f) => f.name !== ONNX_FILE), { name: ONNX_FILE, size: stored.size, sha256: stored.sha256 }],
  };
  await putJson(store, `${dir}/metadata.json`, upgraded);
  return upgraded;
}

/** The generator's weights out of a tf.layers model of it, by the layer names the exporter gives (model/ops/layers.ts). */
function weightsOfLayersModel(model: tf.LayersModel, network: ExportMetadata['network']): WeightValues {
  const weights: WeightValues = new Map();
  for (const layer of generatorLayers(generatorLayout(network))) {
    const layerNames = layersModelNames(layer);
    const order = layersModelWeights(layer);
    const read = (layerName: string, names: string[]) => {
      let values: tf.Tensor[];
      try {
        values = model.getLayer(layerName).getWeights();
      } catch {
        throw new ExportCorruptError(`the TF.js export has no layer ${layerName}`);
      }
      if (values.length !== names.length) throw new ExportCorruptError(`layer ${layerName} of the TF.js export has ${values.length} weights, expected ${names.length}`);
      values.forEach((value, i) => weights.set(names[i], (value.dataSync() as Float32Array).slice()));
    };
    read(layerNames.conv, order.conv);
    if (layerNames.batchNorm && order.batchNorm) read(layerNames.batchNorm, order.batchNorm);
  }
  return weights;
}
