/**
 * Export: the generator in TensorFlow.js's layers format, so any tfjs runtime can load it with
 * tf.loadLayersModel, plus a metadata file saying how it was trained and how to feed it.
 *
 *   models/<modelId>/export/model.json               topology + weights manifest
 *   models/<modelId>/export/group1-shardNofM.bin     weights, 4 MiB shards
 *   models/<modelId>/export/metadata.json            written LAST: see ExportMetadata
 *
 * The layers graph is rebuilt here from the same Generator description the trainer uses (layer
 * `enc2_bn` holds weights `enc2/bn/*`), in inference form: batch norm with moving statistics,
 * dropout inactive. test/model-resume-export.test.ts checks it computes exactly what Pix2Pix.translate does.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { keys, putJson, type Store } from '../storage';
import type { LossRecord } from './checkpoint';
import { LEAKY_SLOPE, KERNEL_SIZE, type Generator } from './networks';
import { NetworkOptionsSchema, ProvenanceSchema, type Provenance, type TrainOptions } from './options';
import type { Parameter } from './params';
import type { StepLosses } from './pix2pix';

export const EXPORT_FORMAT_VERSION = 1;
const SHARD_BYTES = 4 * 2 ** 20;

export const ExportMetadataSchema = z.object({
  formatVersion: z.literal(EXPORT_FORMAT_VERSION),
  kind: z.literal('bloomsight-pix2pix-generator'),
  imageSize: z.number().int(),
  network: NetworkOptionsSchema,
  /** How the training inputs were made from photos: inference must build its inputs the same way. */
  partialInformation: ProvenanceSchema.shape.partialInformation.optional(),
  datasetId: z.string().optional(),
  steps: z.number().int().min(0),
  finalLosses: z.object({ gGan: z.number(), gL1: z.number(), g: z.number(), dReal: z.number(), dFake: z.number(), d: z.number() }).optional(),
  lossHistory: z.array(z.object({ step: z.number(), gGan: z.number(), gL1: z.number(), g: z.number(), d: z.number() })).default([]),
  trainingSeconds: z.number().min(0).optional(),
  backend: z.string(),
  tfjsVersion: z.string(),
  trainOptions: z.record(z.string(), z.unknown()).optional(),
  /** The tensor contract of model.json. */
  io: z.object({
    input: z.literal('NHWC float32 RGB in [-1, 1]: byte / 127.5 - 1'),
    output: z.literal('NHWC float32 RGB in [-1, 1]: round((y + 1) * 127.5)'),
    normalization: z.literal('batch norm with moving statistics, dropout off'),
  }),
  files: z.array(z.object({ name: z.string(), size: z.number().int(), sha256: z.string() })),
  createdAt: z.string(),
});
export type ExportMetadata = z.infer<typeof ExportMetadataSchema>;

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

/** The generator as a tf.layers model holding copies of its current weights (caller disposes). */
export function generatorToLayersModel(g: Generator): tf.LayersModel {
  const s = g.options.imageSize;
  const { batchNormEpsilon: epsilon, batchNormMomentum: momentum } = g.options;
  const cheap = { kernelInitializer: 'zeros' as const }; // overwritten below; skips random init work
  const assignments: Array<[tf.layers.Layer, Parameter[]]> = [];
  const add = <L extends tf.layers.Layer>(layer: L, parameters: Parameter[]): L => {
    assignments.push([layer, parameters]);
    return layer;
  };
  const input = tf.input({ shape: [s, s, 3], name: 'partial_information' });
  let x = input;
  const skips: tf.SymbolicTensor[] = [];
  g.encoder.forEach((block, i) => {
    const { kernel, bias } = block.conv;
    const conv = add(tf.layers.conv2d({ name: `enc${i + 1}_conv`, filters: kernel.shape[3], kernelSize: KERNEL_SIZE, strides: 2, padding: 'same', useBias: !!bias, ...cheap }), bias ? [kernel, bias] : [kernel]);
    x = conv.apply(x) as tf.SymbolicTensor;
    if (block.norm) {
      const { gamma, beta, movingMean, movingVariance } = block.norm;
      x = add(tf.layers.batchNormalization({ name: `enc${i + 1}_bn`, epsilon, momentum }), [gamma, beta, movingMean, movingVariance]).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.leakyReLU({ name: `enc${i + 1}_lrelu`, alpha: LEAKY_SLOPE }).apply(x) as tf.SymbolicTensor;
    skips.push(x);
  });
  g.decoder.forEach((block, j) => {
    const { kernel } = block.conv;
    const { gamma, beta, movingMean, movingVariance } = block.norm;
    const name = `dec${j + 1}`;
    x = add(tf.layers.conv2dTranspose({ name: `${name}_convT`, filters: kernel.shape[2], kernelSize: KERNEL_SIZE, strides: 2, padding: 'same', useBias: false, ...cheap }), [kernel]).apply(x) as tf.SymbolicTensor;
    x = add(tf.layers.batchNormalization({ name: `${name}_bn`, epsilon, momentum }), [gamma, beta, movingMean, movingVariance]).apply(x) as tf.SymbolicTensor;
    if (block.dropout && g.options.dropout > 0) x = tf.layers.dropout({ name: `${name}_dropout`, rate: g.options.dropout }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `${name}_relu` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ name: `${name}_skip`, axis: 3 }).apply([x, skips[skips.length - 2 - j]]) as tf.SymbolicTensor;
  });
  const { kernel, bias } = g.output;
  const outputLayer = tf.layers.conv2dTranspose({ name: 'out_convT', filters: 3, kernelSize: KERNEL_SIZE, strides: 2, padding: 'same', useBias: true, activation: 'tanh', ...cheap });
  x = add(outputLayer, [kernel, bias!]).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ name: 'bloomsight_pix2pix_generator', inputs: input, outputs: x });
  for (const [layer, parameters] of assignments) {
    const values = parameters.map((p) => tf.tensor(p.values(), p.shape, 'float32'));
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

/** Writes the export of `g` to the store (see the file comment for the layout). */
export async function exportGenerator(store: Store, modelId: string, g: Generator, request: ExportRequest): Promise<ExportResult> {
  const dir = keys.exportDir(modelId);
  const layersModel = generatorToLayersModel(g);
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
  const weights = Buffer.from(tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]));
  const shardCount = Math.max(1, Math.ceil(weights.byteLength / SHARD_BYTES));
  const shardNames = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  const files: ExportMetadata['files'] = [];
  const write = async (name: string, body: Buffer) => {
    const stored = await store.put(`${dir}/${name}`, body);
    files.push({ name, size: stored.size, sha256: stored.sha256 });
  };
  for (let i = 0; i < shardCount; i++) await write(shardNames[i], weights.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shardNames, weights: artifacts.weightSpecs }],
  };
  await write('model.json', Buffer.from(JSON.stringify(modelJson)));
  const metadata: ExportMetadata = {
    formatVersion: EXPORT_FORMAT_VERSION,
    kind: 'bloomsight-pix2pix-generator',
    imageSize: g.options.imageSize,
    network: g.options,
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
    files,
    createdAt: new Date().toISOString(),
  };
  await putJson(store, `${dir}/metadata.json`, metadata);
  // Shards of an older, larger export would otherwise linger beside the new one.
  const current = new Set([...files.map((f) => `${dir}/${f.name}`), `${dir}/metadata.json`]);
  for (const { key } of await store.list(`${dir}/`)) if (!current.has(key)) await store.delete(key);
  return { dir, metadata };
}
