import { conformImage, ImageDecodeError, paramsHash } from '../imaging';
import type { FitStrategy } from '../imaging/conform';
import type { PartialParams } from '../imaging/partial-params';
import { DatasetError } from '../model/errors';
import { keys, type Store } from '../storage';
import {
  ConformRecordSchema,
  DatasetManifestSchema,
  DownloadRecordSchema,
  getJson,
  PairsRecordSchema,
  putJson,
  readIfPresent,
  storeDatasetManifest,
  summariseOutcomes,
  type ConformRecord,
  type DatasetManifest,
  type PairsRecord,
} from './dataset-records';
import { heartbeater } from './heartbeat';
import { ensurePair } from './pairs';

/** CPU image work: conform, partial information, dataset manifests. One activity per batch of images. */
export function createDatasetActivities(store: Store) {
  return {
    /** Conforms the batch's downloaded images to `imageSize` squares; already conformed images are skipped. */
    async conformBatch(input: { runKey: string; batch: number; imageSize: number; fit: FitStrategy }): Promise<{ conformed: number; failed: number }> {
      const recordKey = keys.batchRecord(input.runKey, input.batch, 'conform');
      const done = await readIfPresent(store, recordKey, ConformRecordSchema);
      if (done) return { conformed: done.images.length, failed: done.failures.length };

      const download = await getJson(store, keys.batchRecord(input.runKey, input.batch, 'download'), DownloadRecordSchema);
      const sources = uniqueBySha(download.outcomes.flatMap((o) => (o.outcome === 'downloaded' ? [{ sha256: o.sha256, url: o.url, key: o.key }] : [])));
      const hb = heartbeater();
      const record: ConformRecord = { batch: input.batch, images: [], failures: [] };
      for (const [i, source] of sources.entries()) {
        hb.signal.throwIfAborted();
        const key = keys.conformed(input.imageSize, source.sha256);
        if (!(await store.exists(key))) {
          try {
            await store.put(key, await conformImage(await store.get(source.key), { size: input.imageSize, fit: input.fit }), { contentType: 'image/png' });
          } catch (error) {
            // A download that passed the decode check can still fail here (e.g. a damaged JPEG tail): record, go on.
            if (!(error instanceof ImageDecodeError)) throw error;
            record.failures.push({ url: source.url, sha256: source.sha256, reason: error.reason });
            continue;
          }
        }
        record.images.push({ sha256: source.sha256, url: source.url, key });
        hb.beat({ done: i + 1, total: sources.length });
      }
      await putJson(store, recordKey, record);
      return { conformed: record.images.length, failed: record.failures.length };
    },

    /** Turns each conformed image into an A|B pair (partial information | photo). */
    async partialBatch(input: { runKey: string; batch: number; imageSize: number; partial: PartialParams }): Promise<{ pairs: number }> {
      const recordKey = keys.batchRecord(input.runKey, input.batch, 'pairs');
      const done = await readIfPresent(store, recordKey, PairsRecordSchema);
      if (done) return { pairs: done.pairs.length };

      const conformed = await getJson(store, keys.batchRecord(input.runKey, input.batch, 'conform'), ConformRecordSchema);
      const hash = paramsHash(input.partial);
      const hb = heartbeater();
      const record: PairsRecord = { batch: input.batch, pairs: [] };
      for (const [i, image] of conformed.images.entries()) {
        hb.signal.throwIfAborted();
        const key = await ensurePair(store, image, input.imageSize, input.partial, hash);
        record.pairs.push({ sha256: image.sha256, url: image.url, key });
        hb.beat({ done: i + 1, total: conformed.images.length });
      }
      await putJson(store, recordKey, record);
      return { pairs: record.pairs.length };
    },

    /**
     * Joins the batches' pairs (and the base dataset's, for a new version of a line) into one
     * manifest. The dataset id is derived from the pair keys, so the same pairs give the same id.
     */
    async writeDatasetManifest(input: { runKey: string; batches: number; imageSize: number; partial: PartialParams; baseDatasetId?: string }) {
      const pairs = new Map<string, DatasetManifest['pairs'][number]>();
      let downloaded = 0;
      let failed = 0;
      if (input.baseDatasetId) {
        const base = await getJson(store, keys.datasetManifest(input.baseDatasetId), DatasetManifestSchema);
        for (const pair of base.pairs) pairs.set(pair.sha256, pair);
      }
      for (let batch = 0; batch < input.batches; batch++) {
        const download = await getJson(store, keys.batchRecord(input.runKey, batch, 'download'), DownloadRecordSchema);
        const summary = summariseOutcomes(download.outcomes);
        downloaded += summary.downloaded;
        failed += summary.failed;
        const record = await getJson(store, keys.batchRecord(input.runKey, batch, 'pairs'), PairsRecordSchema);
        for (const pair of record.pairs) pairs.set(pair.sha256, pair);
      }
      if (pairs.size === 0) {
        throw new DatasetError(`no usable images: ${failed} of the scraped items failed to download or decode (see runs/${input.runKey}/batches/)`);
      }
      const { datasetId, manifestKey, pairs: count } = await storeDatasetManifest(store, [...pairs.values()], { runKey: input.runKey, parent: input.baseDatasetId, imageSize: input.imageSize, partial: input.partial });
      return { datasetId, manifestKey, pairs: count, downloaded, failed };
    },
  };
}

export type DatasetActivities = ReturnType<typeof createDatasetActivities>;

function uniqueBySha<T extends { sha256: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.sha256) && seen.add(item.sha256));
}
