// What the camera page needs from an export's metadata.json, read with the exporter's own schema
// (model/export-metadata.ts: zod only, no tfjs), so page and exporter cannot drift apart.
import { PartialParamsSchema, type PartialParams } from '../../imaging/partial-params';
import { EXPORT_FORMAT_VERSION, ExportMetadataSchema, type OnnxContract } from '../../model/export-metadata';

/** The export formats this page understands: 1 (TF.js files only) and EXPORT_FORMAT_VERSION (plus generator.onnx). */
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = [1, EXPORT_FORMAT_VERSION];

export interface CameraModel {
  imageSize: number;
  params: PartialParams;
  /** Set when metadata did not record the preprocessing and defaults were assumed. */
  paramsAssumed: boolean;
  /** generator.onnx's contract; absent in a version 1 export the server could not upgrade. */
  onnx?: OnnxContract;
  /** The TF.js files (the fallback backend): model.json and its shards. */
  hasLayersModel: boolean;
  steps: number;
  createdAt: string;
}

export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

/** Reads parsed metadata.json; throws MetadataError with a message for a person. */
export function readCameraModel(json: unknown): CameraModel {
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version !== 'number' || !SUPPORTED_FORMAT_VERSIONS.includes(version)) {
    throw new MetadataError(`incompatible export: formatVersion ${JSON.stringify(version)}, this page reads versions ${SUPPORTED_FORMAT_VERSIONS.join(' and ')}`);
  }
  const parsed = ExportMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MetadataError(`metadata.json is not a bloomsight export: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const { imageSize, partialInformation, steps, createdAt, onnx, files } = parsed.data;
  const recorded = partialInformation ? { ...partialInformation.params, method: partialInformation.method } : { method: 'kmeans' };
  const params = PartialParamsSchema.safeParse(recorded);
  if (!params.success) throw new MetadataError(`metadata.json has partial-information parameters this page cannot apply: ${params.error.issues[0]?.message}`);
  if (onnx && (onnx.input.shape[2] !== imageSize || onnx.input.shape[3] !== imageSize)) {
    throw new MetadataError(`generator.onnx takes ${onnx.input.shape.join('x')}, metadata.json says ${imageSize}x${imageSize}`);
  }
  return {
    imageSize,
    params: params.data,
    paramsAssumed: !partialInformation,
    onnx,
    hasLayersModel: files.some((file) => file.name === 'model.json'),
    steps,
    createdAt,
  };
}

/** 'k-means, k=7, palette' — the page's caption of the partial-information panel. */
export function describeParams(params: PartialParams): string {
  return params.method === 'kmeans'
    ? `k-means, k=${params.k}, ${params.paint}${params.blurSigma ? `, blur ${params.blurSigma}` : ''}`
    : `edges, ${params.low}–${params.high}${params.blurSigma ? `, blur ${params.blurSigma}` : ''}`;
}
