import { z } from 'zod';
import type { RuntimeConfig } from '../config/runtime';
import { downloadImages, type UrlOutcome } from '../sources/download';
import { rootsInsideFolders } from '../sources/folders';
import { parseProviderOptions, type LocalFolderOptions, type ProviderContext } from '../sources/providers';
import { chosenFolder } from '../sources/providers/local-folder';
import { loadSearchResults, searchAndSave } from '../sources/search';
import { getJson, keys, putJson, type Store } from '../storage';
import {
  DatasetManifestSchema,
  DownloadRecordSchema,
  readIfPresent,
  ScrapeRecordSchema,
  summariseOutcomes,
  type DownloadRecord,
  type ScrapeRecord,
} from './dataset-records';
import { heartbeater } from './heartbeat';
import { downloadMetrics } from './metrics';

const LineSchema = z.object({ line: z.string(), datasetId: z.string(), modelId: z.string(), exportKey: z.string(), updatedAt: z.string() });
export type LineRecord = z.infer<typeof LineSchema>;
const lineKey = (line: string) => `lines/${line}/latest.json`;

/**
 * Network-bound activities: search and download. Endpoints, keys, folders and allow-lists come
 * from the worker's configuration; the run input only chooses among them (checked here again, as
 * runs started before those rules, or workflows started directly, reach this worker too).
 */
export function createSearchDownloadActivities(store: Store, config: RuntimeConfig) {
  const denyHosts = ownServices(config);
  const sources = (signal: AbortSignal): ProviderContext => ({
    secrets: { googleApiKey: config.providers.googleApiKey, googleCx: config.providers.googleCx },
    endpoints: { openverse: config.providers.openverseBaseUrl, wikimedia: config.providers.wikimediaBaseUrl, google: config.providers.googleBaseUrl },
    folders: config.folders,
    denyHosts,
    store,
    signal,
    http: { userAgent: config.download.userAgent, idleTimeoutMs: config.download.idleTimeoutSeconds * 1000 },
  });
  return {
    /**
     * Searches once per run: the results are saved before any download, and the run remembers which
     * saved search it used, so a resumed run downloads from the same list (no second, paid, search).
     */
    async scrapeImages(input: { runKey: string; query: string; provider: string; providerOptions: Record<string, unknown>; maxItems: number }): Promise<{ searchKey: string; found: number; truncated?: string }> {
      const recordKey = keys.runRecord(input.runKey, 'scrape');
      const done = await readIfPresent(store, recordKey, ScrapeRecordSchema);
      if (done) return { searchKey: done.searchKey, found: done.found, truncated: done.truncated };
      const hb = heartbeater();
      const context = sources(hb.signal);
      // Throws ProviderConfigError (not retried) naming the option at fault: an endpoint, a folder not configured.
      const options = parseProviderOptions(input.provider, input.providerOptions);
      // The downloader reads file: URLs only inside the folder this run chose.
      const localRoots = input.provider === 'local-folder' ? [(await chosenFolder(options as LocalFolderOptions, context)).target] : [];
      const saved = await searchAndSave(store, input.provider, { query: input.query, maxItems: input.maxItems, options }, { date: new Date(), context });
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
      const recordKey = keys.batchRecord(input.runKey, input.batch, 'download');
      const done = await readIfPresent(store, recordKey, DownloadRecordSchema);
      if (done) return { ...counts(done.outcomes), skipped: 0 };

      const scrape = await getJson(store, keys.runRecord(input.runKey, 'scrape'), ScrapeRecordSchema);
      const search = await loadSearchResults(store, input.searchKey);
      const inBatch = search.result.items.slice(input.batch * input.batchSize, (input.batch + 1) * input.batchSize);
      // Retraining: images the line's previous dataset already holds are not fetched again.
      const baseUrls = input.baseDatasetId
        ? new Set((await getJson(store, keys.datasetManifest(input.baseDatasetId), DatasetManifestSchema)).pairs.map((p) => p.url))
        : new Set<string>();
      const items = inBatch.filter((item) => !baseUrls.has(item.url));
      const partialKey = keys.batchRecord(input.runKey, input.batch, 'download-partial');
      const known = new Map<string, UrlOutcome>();
      for (const outcome of (await readIfPresent(store, partialKey, DownloadRecordSchema))?.outcomes ?? []) known.set(outcome.url, outcome);

      const hb = heartbeater();
      const metrics = downloadMetrics();
      const outcomes: UrlOutcome[] = [];
      let lastSave = Date.now();
      const result = await downloadImages(store, items, {
        concurrency: config.workers.io.concurrency,
        allowHosts: config.download.allowHosts,
        denyHosts,
        idleTimeoutMs: config.download.idleTimeoutSeconds * 1000,
        urlBudgetMs: config.download.urlBudgetSeconds * 1000,
        userAgent: config.download.userAgent,
        // A record in the store cannot widen what this worker reads: only roots inside its configured folders.
        localRoots: await rootsInsideFolders(scrape.localRoots, config.folders),
        known,
        verifyKnown: false,
        signal: hb.signal,
        onProgress: (doneCount, total) => hb.beat({ done: doneCount, total }),
        onOutcome: async (outcome) => {
          outcomes.push(outcome);
          if (!known.has(outcome.url)) metrics.outcome(outcome); // outcomes reused from an earlier attempt were counted then
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
      return readIfPresent(store, keys.line(input.line), LineSchema);
    },

    async recordLine(input: { line: string; datasetId: string; modelId: string; exportKey: string }): Promise<void> {
      await putJson(store, keys.line(input.line), { ...input, updatedAt: new Date().toISOString() } satisfies LineRecord);
    },
  };
}

export type SearchDownloadActivities = ReturnType<typeof createSearchDownloadActivities>;

/** The deployment's own services (`host:port`): no image URL, search result or redirect may reach them. */
export function ownServices(config: RuntimeConfig): string[] {
  const hosts = [config.temporal.address];
  if (config.store.kind === 's3') {
    const endpoint = new URL(config.store.endpoint);
    hosts.push(`${endpoint.hostname}:${endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80')}`);
  }
  return hosts;
}

function counts(outcomes: readonly UrlOutcome[]) {
  const { downloaded, duplicates, failed } = summariseOutcomes(outcomes);
  return { downloaded, duplicates, failed };
}
