import { resolve } from 'node:path';
import { z } from 'zod';
import type { RuntimeConfig } from '../config/runtime';
import { downloadImages, type UrlOutcome } from '../sources/download';
import { loadSearchResults, searchAndSave } from '../sources/search';
import { getJson, keys, putJson, type Store } from '../storage';
import {
  batchRecordKey,
  DatasetManifestSchema,
  DownloadRecordSchema,
  readIfPresent,
  ScrapeRecordSchema,
  summariseOutcomes,
  type DownloadRecord,
  type ScrapeRecord,
} from './dataset-records';
import { heartbeater } from './heartbeat';

const LineSchema = z.object({ line: z.string(), datasetId: z.string(), modelId: z.string(), exportKey: z.string(), updatedAt: z.string() });
export type LineRecord = z.infer<typeof LineSchema>;
const lineKey = (line: string) => `lines/${line}/latest.json`;

/** Network-bound activities: search and download. Secrets come from the worker's configuration. */
export function createIoActivities(store: Store, config: RuntimeConfig) {
  return {
    /**
     * Searches once per run: the results are saved before any download, and the run remembers which
     * saved search it used, so a resumed run downloads from the same list (no second, paid, search).
     */
    async scrapeImages(input: { runKey: string; query: string; provider: string; providerOptions: Record<string, unknown>; maxItems: number }): Promise<{ searchKey: string; found: number; truncated?: string }> {
      const recordKey = keys.run(input.runKey, 'scrape.json');
      const done = await readIfPresent(store, recordKey, ScrapeRecordSchema);
      if (done) return { searchKey: done.searchKey, found: done.found, truncated: done.truncated };
      const hb = heartbeater();
      const saved = await searchAndSave(
        store,
        input.provider,
        { query: input.query, maxItems: input.maxItems, options: input.providerOptions },
        { date: new Date(), context: { secrets: config.providers, store, signal: hb.signal, http: { userAgent: config.download.userAgent } } },
      );
      const localRoots = input.provider === 'local-folder' && typeof input.providerOptions.path === 'string' ? [resolve(input.providerOptions.path)] : [];
      const record: ScrapeRecord = { searchKey: saved.key, found: saved.count, truncated: saved.truncated?.reason, localRoots };
      await putJson(store, recordKey, record);
      return { searchKey: saved.key, found: saved.count, truncated: saved.truncated?.reason };
    },

    /**
     * Downloads one batch of the saved search results. Outcomes are saved as they come (every few
     * seconds), so a retried attempt only fetches what the previous one had not finished; the final
     * record marks the batch done. URLs already in the base dataset (retraining) are not fetched again.
     */
    async downloadBatch(input: { runKey: string; batch: number; searchKey: string; batchSize: number; baseDatasetId?: string }): Promise<{ downloaded: number; duplicates: number; failed: number; skipped: number }> {
      const recordKey = batchRecordKey(input.runKey, input.batch, 'download');
      const done = await readIfPresent(store, recordKey, DownloadRecordSchema);
      if (done) return { ...counts(done.outcomes), skipped: 0 };

      const scrape = await getJson(store, keys.run(input.runKey, 'scrape.json'), ScrapeRecordSchema);
      const search = await loadSearchResults(store, input.searchKey);
      const inBatch = search.result.items.slice(input.batch * input.batchSize, (input.batch + 1) * input.batchSize);
      // Retraining: images the line's previous dataset already holds are not fetched again.
      const baseUrls = input.baseDatasetId
        ? new Set((await getJson(store, keys.datasetManifest(input.baseDatasetId), DatasetManifestSchema)).pairs.map((p) => p.url))
        : new Set<string>();
      const items = inBatch.filter((item) => !baseUrls.has(item.url));
      const partialKey = keys.run(input.runKey, `batches/${String(input.batch).padStart(6, '0')}/download-partial.json`);
      const known = new Map<string, UrlOutcome>();
      for (const outcome of (await readIfPresent(store, partialKey, DownloadRecordSchema))?.outcomes ?? []) known.set(outcome.url, outcome);

      const hb = heartbeater();
      const outcomes: UrlOutcome[] = [];
      let lastSave = Date.now();
      const result = await downloadImages(store, items, {
        concurrency: config.workers.io.concurrency,
        allowHosts: config.download.allowHosts,
        userAgent: config.download.userAgent,
        localRoots: scrape.localRoots,
        known,
        verifyKnown: false,
        signal: hb.signal,
        onProgress: (doneCount, total) => hb.beat({ done: doneCount, total }),
        onOutcome: async (outcome) => {
          outcomes.push(outcome);
          if (Date.now() - lastSave > 5000) {
            lastSave = Date.now();
            await putJson(store, partialKey, { batch: input.batch, outcomes });
          }
        },
      });
      const record: DownloadRecord = { batch: input.batch, outcomes: [...result.downloaded, ...result.duplicates, ...result.failures] };
      await putJson(store, recordKey, record);
      await store.delete(partialKey);
      return { ...counts(record.outcomes), skipped: inBatch.length - items.length };
    },

    /** The newest dataset and export of a model line (periodic retraining builds on it). */
    async readLine(input: { line: string }): Promise<LineRecord | undefined> {
      return readIfPresent(store, lineKey(input.line), LineSchema);
    },

    async recordLine(input: { line: string; datasetId: string; modelId: string; exportKey: string }): Promise<void> {
      await putJson(store, lineKey(input.line), { ...input, updatedAt: new Date().toISOString() } satisfies LineRecord);
    },
  };
}

export type IoActivities = ReturnType<typeof createIoActivities>;

function counts(outcomes: readonly UrlOutcome[]) {
  const { downloaded, duplicates, failed } = summariseOutcomes(outcomes);
  return { downloaded, duplicates, failed };
}
