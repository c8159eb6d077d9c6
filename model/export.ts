/**
 * Export: the generator in inference form, in two formats, plus a metadata file saying how it was
 * trained and how to feed it.
 *
 *   models/<modelId>/export/generator.onnx            ONNX (opset 17, NCHW, batch norm folded, dynamic batch):
 *                                                     what bloomsight's own inference runs (ONNX Runtime)
 *   models/<modelId>/export/model.json                TensorFlow.js layers format, for tf.loadLayersModel
 *   models/<modelId>/export/group1-shardNofM.bin      (the camera page's fallback, and tfjs users)
 *   models/<modelId>/export/metadata.json             written LAST: see ExportMetadata
 *
 * The metadata's schema lives in model/export-metadata.ts (no tfjs: the camera page reads it too).
 * Both formats are built from the one generator definition (model/networks.ts) through their NetworkOps, so
 * they compute the same function as training's eval forward (tested to 1e-4).
 */
import * as tf from '@tensorflow/tfjs';
import { keys, putJson, type Store } from '../storage';
import type { LossRecord } from './checkpoint';
import type { WeightValues } from './fold';
import { generatorLayout } from './layout';
import { generatorToLayersModel } from './ops/layers';
import { generatorToOnnx, ONNX_IO, ONNX_IR_VERSION, ONNX_OPSET } from './ops/onnx';
import { EXPORT_FORMAT_VERSION, ONNX_FILE, type ExportMetadata, type OnnxContract } from './export-metadata';
import type { NetworkOptions, Provenance, TrainOptions } from './options';
import type { StepLosses } from './pix2pix';

export { EXPORT_FORMAT_VERSION, ExportMetadataSchema, ONNX_FILE, type ExportMetadata } from './export-metadata';

const SHARD_BYTES = 4 * 2 ** 20;

export interface ExportRequest {
  provenance?: Provenance;
  steps: number;
  finalLosses?: StepLosses;
  lossHistory?: LossRecord[];
  trainingSeconds?: number;
  trainOptions?: TrainOptions;
}

export interface ExportResult {
  dir: string;
  metadata: ExportMetadata;
}

/** generator.onnx for these weights, and its contract (sha256 filled in by the caller's store write). */
export function onnxGenerator(network: NetworkOptions, weights: WeightValues, about: { partialInformation?: ExportMetadata['partialInformation']; steps: number }) {
  const s = network.imageSize;
  const bytes = generatorToOnnx(generatorLayout(network), weights, network.batchNormEpsilon, {
    producerVersion: `tfjs ${tf.version.tfjs}`,
    properties: {
      'bloomsight.imageSize': String(s),
      'bloomsight.network': JSON.stringify(network),
      'bloomsight.steps': String(about.steps),
      ...(about.partialInformation ? { 'bloomsight.partialInformation': JSON.stringify(about.partialInformation) } : {}),
    },
  });
  const contract = (sha256: string): OnnxContract => ({
    file: ONNX_FILE,
    sha256,
    opset: ONNX_OPSET,
    irVersion: ONNX_IR_VERSION,
    input: { name: ONNX_IO.input, layout: 'NCHW', shape: ['batch', 3, s, s], dtype: 'float32' },
    output: { name: ONNX_IO.output, layout: 'NCHW', shape: ['batch', 3, s, s], dtype: 'float32' },
    range: ONNX_IO.range,
    batchNorm: 'folded into the convolutions (moving statistics); dropout off',
  });
  return { bytes, contract };
}

/** Writes the export of a generator's weights to the store (see the file comment for the layout). */
export async function exportGenerator(store: Store, modelId: string, weights: WeightValues, network: NetworkOptions, request: ExportRequest): Promise<ExportResult> {
  const dir = keys.exportDir(modelId);
  const files: ExportMetadata['files'] = [];
  const write = async (name: string, body: Buffer | Uint8Array) => {
    const stored = await store.put(`${dir}/${name}`, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    files.push({ name, size: stored.size, sha256: stored.sha256 });
    return stored.sha256;
  };

  // TensorFlow.js layers format: model.json + 4 MiB shards.
  const layersModel = generatorToLayersModel(generatorLayout(network), weights, { epsilon: network.batchNormEpsilon, momentum: network.batchNormMomentum }, network.dropout);
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    await layersModel.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    layersModel.dispose();
  }
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('tf.layers save produced no weights');
  const shardsBytes = Buffer.from(tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]));
  const shardCount = Math.max(1, Math.ceil(shardsBytes.byteLength / SHARD_BYTES));
  const shardNames = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  for (let i = 0; i < shardCount; i++) await write(shardNames[i], shardsBytes.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shardNames, weights: artifacts.weightSpecs }],
  };
  await write('model.json', Buffer.from(JSON.stringify(modelJson)));

  const onnx = onnxGenerator(network, weights, { partialInformation: request.provenance?.partialInformation, steps: request.steps });
  const onnxSha = await write(ONNX_FILE, onnx.bytes);

  const metadata: ExportMetadata = {
    formatVersion: EXPORT_FORMAT_VERSION,
    kind: 'bloomsight-pix2pix-generator',
    imageSize: network.imageSize,
    network,
    partialInformation: request.provenance?.partialInformation,
    datasetId: request.provenance?.datasetId,
    steps: request.steps,
    finalLosses: request.finalLosses,
    lossHistory: request.lossHistory ?? [],
    trainingSeconds: request.trainingSeconds,
    backend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    trainOptions: request.trainOptions as Record<string, unknown> | undefined,
    io: {
      input: 'NHWC float32 RGB in [-1, 1]: byte / 127.5 - 1',
      output: 'NHWC float32 RGB in [-1, 1]: round((y + 1) * 127.5)',
      normalization: 'batch norm with moving statistics, dropout off',
    },
    onnx: onnx.contract(onnxSha),
    files,
    createdAt: new Date().toISOString(),
  };
  await putJson(store, `${dir}/metadata.json`, metadata);
  // Shards of an older, larger export would otherwise linger beside the new one.
  const current = new Set([...files.map((f) => `${dir}/${f.name}`), `${dir}/metadata.json`]);
  for (const { key } of await store.list(`${dir}/`)) if (!current.has(key)) await store.delete(key);
  return { dir, metadata };
}
