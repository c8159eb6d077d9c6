import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UrlOutcomeSchema, type UrlOutcome } from '../sources/download-outcomes';
import { getJson, keys, putJson, type Store } from '../storage';

/**
 * The per-batch records the dataset activities keep in the store. A record is written once its
 * batch is finished, so its presence is what lets a retried or resumed activity skip the batch.
 */
export const ScrapeRecordSchema = z.object({ searchKey: z.string(), found: z.number(), truncated: z.string().optional(), localRoots: z.array(z.string()).default([]) });
export type ScrapeRecord = z.infer<typeof ScrapeRecordSchema>;

export const DownloadRecordSchema = z.object({ batch: z.number(), outcomes: z.array(UrlOutcomeSchema) });
export type DownloadRecord = z.infer<typeof DownloadRecordSchema>;

const ImageRef = z.object({ sha256: z.string(), url: z.string(), key: z.string() });
export const ConformRecordSchema = z.object({
  batch: z.number(),
  images: z.array(ImageRef),
  failures: z.array(z.object({ url: z.string(), sha256: z.string(), reason: z.string() })),
});
export type ConformRecord = z.infer<typeof ConformRecordSchema>;

export const PairsRecordSchema = z.object({ batch: z.number(), pairs: z.array(ImageRef) });
export type PairsRecord = z.infer<typeof PairsRecordSchema>;

export const DatasetManifestSchema = z.object({
  datasetId: z.string(),
  createdAt: z.string(),
  runKey: z.string(),
  parent: z.string().optional(),
  imageSize: z.number(),
  partial: z.record(z.string(), z.unknown()),
  pairs: z.array(ImageRef),
  /** sha256 of the pairs kept out of training, for the report's examples. */
  heldOut: z.array(z.string()).default([]),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

export async function readIfPresent<T>(store: Store, key: string, schema: z.ZodType<T>): Promise<T | undefined> {
  return (await store.exists(key)) ? getJson(store, key, schema) : undefined;
}

export { getJson, putJson };

/** Pairs kept out of training: about 10 %, at most 8, none for datasets under 4 pairs; chosen by content hash (stable). */
export function chooseHeldOut(pairs: readonly { sha256: string }[]): string[] {
  if (pairs.length < 4) return [];
  const count = Math.min(8, Math.max(1, Math.floor(pairs.length / 10)));
  return pairs.map((p) => p.sha256).sort().slice(0, count);
}

/**
 * Stores the manifest of a set of pairs unless it exists. The dataset id is derived from the pair
 * keys, which are content-addressed, so the same pairs always give the same id: a run and a
 * comparison's variant that made the same pairs share one dataset.
 */
export async function storeDatasetManifest(
  store: Store,
  pairs: DatasetManifest['pairs'],
  about: { runKey: string; parent?: string; imageSize: number; partial: Record<string, unknown> },
): Promise<{ datasetId: string; manifestKey: string; pairs: number }> {
  const sorted = [...pairs].sort((a, b) => (a.key < b.key ? -1 : 1));
  const datasetId = datasetIdOf(sorted.map((p) => p.key));
  const manifestKey = keys.datasetManifest(datasetId);
  if (!(await store.exists(manifestKey))) {
    const manifest: DatasetManifest = { datasetId, createdAt: new Date().toISOString(), ...about, pairs: sorted, heldOut: chooseHeldOut(sorted) };
    await putJson(store, manifestKey, manifest);
  }
  return { datasetId, manifestKey, pairs: sorted.length };
}

/** 16 hex of sha256 over the sorted pair keys. */
export function datasetIdOf(sortedPairKeys: readonly string[]): string {
  return createHash('sha256').update(sortedPairKeys.join('\n')).digest('hex').slice(0, 16);
}

/** Counts of a batch's (or several batches') download outcomes, with failures by reason. */
export function summariseOutcomes(outcomes: readonly UrlOutcome[]) {
  const summary = { downloaded: 0, duplicates: 0, failed: 0, failuresByReason: {} as Record<string, number> };
  for (const outcome of outcomes) {
    if (outcome.outcome === 'downloaded') summary.downloaded++;
    else if (outcome.outcome === 'duplicate') summary.duplicates++;
    else {
      summary.failed++;
      summary.failuresByReason[outcome.reason] = (summary.failuresByReason[outcome.reason] ?? 0) + 1;
    }
  }
  return summary;
}
