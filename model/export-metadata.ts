/**
 * The schema of an export's metadata.json, in a module without tfjs or the store, so the camera page
 * and the render planner can read exports without loading TensorFlow.
 */
import { z } from 'zod';
import { NetworkOptionsSchema, ProvenanceSchema } from './options';

/** 2: generator.onnx beside the TF.js files. Version 1 exports are upgraded on first use (model/infer.ts). */
export const EXPORT_FORMAT_VERSION = 2;
export const ONNX_FILE = 'generator.onnx';

const FileSchema = z.object({ name: z.string(), size: z.number().int(), sha256: z.string() });

/** How generator.onnx is fed and read. */
export const OnnxContractSchema = z.object({
  file: z.literal(ONNX_FILE),
  sha256: z.string(),
  opset: z.number().int(),
  irVersion: z.number().int(),
  input: z.object({ name: z.string(), layout: z.literal('NCHW'), shape: z.tuple([z.literal('batch'), z.literal(3), z.number().int(), z.number().int()]), dtype: z.literal('float32') }),
  output: z.object({ name: z.string(), layout: z.literal('NCHW'), shape: z.tuple([z.literal('batch'), z.literal(3), z.number().int(), z.number().int()]), dtype: z.literal('float32') }),
  range: z.string(),
  batchNorm: z.literal('folded into the convolutions (moving statistics); dropout off'),
});
export type OnnxContract = z.infer<typeof OnnxContractSchema>;

export const ExportMetadataSchema = z.object({
  formatVersion: z.union([z.literal(1), z.literal(EXPORT_FORMAT_VERSION)]),
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
  /** The tensor contract of model.json (TensorFlow.js). */
  io: z.object({
    input: z.literal('NHWC float32 RGB in [-1, 1]: byte / 127.5 - 1'),
    output: z.literal('NHWC float32 RGB in [-1, 1]: round((y + 1) * 127.5)'),
    normalization: z.literal('batch norm with moving statistics, dropout off'),
  }),
  /** The tensor contract of generator.onnx (absent in version 1 exports). */
  onnx: OnnxContractSchema.optional(),
  files: z.array(FileSchema),
  createdAt: z.string(),
});
export type ExportMetadata = z.infer<typeof ExportMetadataSchema>;

