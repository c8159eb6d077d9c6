import { z } from 'zod';
import { getJson, keys, ObjectNotFoundError, type Store } from '../storage';

/**
 * What a finished comparison leaves in the store (`runs/<runKey>/comparison.json`), written once every
 * variant is trained and exported: which models to show side by side, in order. `bloomsight apply`
 * and `render --comparison` read it.
 */
export const ComparisonRecordSchema = z.object({
  runKey: z.string(),
  /** The shared dataset (the first variant's pairs; every variant's dataset holds the same photos). */
  datasetId: z.string(),
  imageSize: z.number().int(),
  variants: z
    .array(
      z.object({
        name: z.string(),
        modelId: z.string(),
        datasetId: z.string(),
        partial: z.record(z.string(), z.unknown()),
        train: z.record(z.string(), z.unknown()),
        exportKey: z.string(),
        steps: z.number().int(),
      }),
    )
    .min(1),
  createdAt: z.string(),
});
export type ComparisonRecord = z.infer<typeof ComparisonRecordSchema>;


/** Thrown when a comparison has no record: no such run key, or its variants are not all trained yet. */
export class ComparisonNotFoundError extends Error {
  override readonly name = 'ComparisonNotFoundError';
}

export async function readComparison(store: Store, runKey: string): Promise<ComparisonRecord> {
  try {
    return await getJson(store, keys.runRecord(runKey, 'comparison'), ComparisonRecordSchema);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) {
      throw new ComparisonNotFoundError(`no comparison ${runKey}: ${keys.runRecord(runKey, 'comparison')} is missing (is the run key right, and have all its variants finished training?)`);
    }
    throw error;
  }
}

/** The columns of a comparison's pictures and videos, left to right: the original, then each variant's (partial information and) output. */
export function comparisonColumns(variantNames: readonly string[], panels: 'two' | 'three'): string {
  return ['original', ...variantNames.flatMap((name) => (panels === 'three' ? [`${name} partial`, name] : [name]))].join(' | ');
}
