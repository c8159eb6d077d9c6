// What the camera page needs from an export's metadata.json, checked in the browser. model/export.ts
// holds the full schema but imports tfjs and the store, so the page keeps this small, lenient reading
// of it; test/camera.test.ts checks the format version matches EXPORT_FORMAT_VERSION.
import { z } from 'zod';
import { PartialParamsSchema, type PartialParams } from '../imaging/partial-params';

/** The export formats this page understands (model/export-metadata.ts EXPORT_FORMAT_VERSION and older): both carry model.json. */
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = [1, 2];
export const EXPORT_KIND = 'bloomsight-pix2pix-generator';

export interface CameraModel {
  imageSize: number;
  params: PartialParams;
  /** Set when metadata did not record the preprocessing and defaults were assumed. */
  paramsAssumed: boolean;
  steps?: number;
  createdAt?: string;
}

export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

const CameraMetadataSchema = z.object({
  kind: z.literal(EXPORT_KIND),
  imageSize: z.number().int().min(1).max(4096),
  partialInformation: z.object({ method: z.string(), params: z.record(z.string(), z.unknown()).default({}) }).optional(),
  steps: z.number().optional(),
  createdAt: z.string().optional(),
});

/** Reads parsed metadata.json; throws MetadataError with a message for a person. */
export function readCameraModel(json: unknown): CameraModel {
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version !== 'number' || !SUPPORTED_FORMAT_VERSIONS.includes(version)) {
    throw new MetadataError(`incompatible export: formatVersion ${JSON.stringify(version)}, this page reads versions ${SUPPORTED_FORMAT_VERSIONS.join(' and ')}`);
  }
  const parsed = CameraMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MetadataError(`metadata.json is not a bloomsight export: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const { imageSize, partialInformation, steps, createdAt } = parsed.data;
  const recorded = partialInformation ? { ...partialInformation.params, method: partialInformation.method } : { method: 'kmeans' };
  const params = PartialParamsSchema.safeParse(recorded);
  if (!params.success) throw new MetadataError(`metadata.json has partial-information parameters this page cannot apply: ${params.error.issues[0]?.message}`);
  return { imageSize, params: params.data, paramsAssumed: !partialInformation, steps, createdAt };
}
