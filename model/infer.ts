/**
 * Inference from an export: load model.json + shards from the store with tf.loadLayersModel (the
 * stock TF.js loader, proving the format), compile its weights into an InferencePlan (batch norm
 * folded, native ops), and translate batches of partial-information images.
 *
 * The caller builds the inputs the way the training pairs were built: `metadata.partialInformation`
 * names the method and its parameters (the imaging module applies them).
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../imaging/rgb';
import { CorruptObjectError, getJson, keys, ObjectNotFoundError, type Store } from '../storage';
import { imageToTensor, tensorToImages } from './data';
import { ExportMetadataSchema, type ExportMetadata } from './export';
import { compileInference, type InferencePlan } from './inference';
import type { WeightValues } from './pix2pix';
import { ExportNotFoundError, ExportCorruptError, InferenceInputError } from './errors';
export { ExportNotFoundError, ExportCorruptError, InferenceInputError };

export interface LoadedGenerator {
  /** The export as stock tfjs loads it (predict() works; the plan below is faster). */
  model: tf.LayersModel;
  /** What translateTensor/translateImages run. */
  plan: InferencePlan;
  metadata: ExportMetadata;
  dispose(): void;
}

async function readExportFiles(store: Store, modelId: string): Promise<{ metadata: ExportMetadata; modelJson: tf.io.ModelJSON; weightData: ArrayBuffer }> {
  const dir = keys.exportDir(modelId);
  let metadata: ExportMetadata;
  try {
    metadata = await getJson(store, `${dir}/metadata.json`, ExportMetadataSchema);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw new ExportNotFoundError(modelId, `${dir}/metadata.json`);
    if (error instanceof CorruptObjectError) throw new ExportCorruptError(error.message);
    throw error;
  }
  const read = async (name: string): Promise<Buffer> => {
    const expected = metadata.files.find((f) => f.name === name);
    if (!expected) throw new ExportCorruptError(`${dir}/metadata.json does not list ${name}`);
    // The store checks the bytes against its record on get; the record must be the one metadata.json names.
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
  };
  const modelJson = JSON.parse((await read('model.json')).toString('utf8')) as tf.io.ModelJSON;
  const paths = modelJson.weightsManifest.flatMap((group) => group.paths);
  const shards = [];
  for (const path of paths) shards.push(await read(path));
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  return { metadata, modelJson, weightData };
}

/** Loads an export. Throws ExportNotFoundError or ExportCorruptError. */
export async function loadExport(store: Store, modelId: string): Promise<LoadedGenerator> {
  const { metadata, modelJson, weightData } = await readExportFiles(store, modelId);
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
  let plan: InferencePlan;
  try {
    plan = compileInference(weightsOfLayersModel(model), metadata.network);
  } catch (error) {
    model.dispose();
    throw new ExportCorruptError(`export of ${modelId} is not a bloomsight generator: ${(error as Error).message}`);
  }
  return {
    model,
    plan,
    metadata,
    dispose: () => {
      plan.dispose();
      model.dispose();
    },
  };
}

/** [b, s, s, 3] in [-1, 1] -> translated, same shape (caller disposes). */
export function translateTensor(loaded: LoadedGenerator, input: tf.Tensor4D): tf.Tensor4D {
  const s = loaded.metadata.imageSize;
  if (input.shape[1] !== s || input.shape[2] !== s || input.shape[3] !== 3) {
    throw new InferenceInputError(`input is ${input.shape.slice(1).join('x')}, the model takes ${s}x${s}x3`);
  }
  return loaded.plan.run(input);
}

/** Translates images in batches of `batchSize`, yielding to the event loop between batches. */
export async function translateImages(loaded: LoadedGenerator, images: RgbImage[], batchSize = 8): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for (let i = 0; i < images.length; i += batchSize) {
    const input = imageToTensor(images.slice(i, i + batchSize));
    try {
      const output = translateTensor(loaded, input);
      out.push(...tensorToImages(output));
      output.dispose();
    } finally {
      input.dispose();
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Layer weight order in tf.layers, by the suffix of our weight names. */
const LAYER_WEIGHTS: Record<string, string[]> = {
  conv: ['kernel', 'bias'],
  convT: ['kernel', 'bias'],
  bn: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
};

/**
 * An export's generator weights by trainer name (layer `enc2_bn` -> `enc2/bn/gamma`, ...): the
 * starting point for fine-tuning (TrainRequest.initialGenerator).
 */
export async function loadExportedGeneratorWeights(store: Store, modelId: string): Promise<{ weights: WeightValues; metadata: ExportMetadata }> {
  const loaded = await loadExport(store, modelId);
  try {
    return { weights: weightsOfLayersModel(loaded.model), metadata: loaded.metadata };
  } finally {
    loaded.dispose();
  }
}

function weightsOfLayersModel(model: tf.LayersModel): WeightValues {
  const weights: WeightValues = new Map();
  for (const layer of model.layers) {
    const values = layer.getWeights();
    if (values.length === 0) continue;
    const separator = layer.name.indexOf('_');
    const prefix = `${layer.name.slice(0, separator)}/${layer.name.slice(separator + 1)}`;
    const names = LAYER_WEIGHTS[layer.name.slice(separator + 1)];
    if (!names) throw new ExportCorruptError(`unexpected layer ${layer.name} with weights in the export`);
    values.forEach((value, i) => weights.set(`${prefix}/${names[i]}`, (value.dataSync() as Float32Array).slice()));
  }
  return weights;
}
