import type { RuntimeConfig } from '../config/runtime';
import { splitPair, writePng } from '../imaging';
import { ExportMetadataSchema } from '../model/export-metadata';
import { loadExport, translateImages } from '../model/infer';
import { buildReport } from '../report';
import { getJson, keys, type Store } from '../storage';
import { DatasetManifestSchema, DownloadRecordSchema, summariseOutcomes } from './dataset-records';
import { heartbeater } from './heartbeat';
import { workerInferenceProvider } from './model-runtime';

/** The run report needs the model (examples are translated), so it is written on the gpu queue. */
export function createReportActivities(store: Store, config: RuntimeConfig) {
  return {
    /**
     * Writes `reports/<runKey>/index.html`: parameters, dataset counts and failures by reason, loss
     * curves from the export's history, held-out examples (partial | photo | network output), and the
     * rendered clip copied beside it as clip.mp4. Rewritten on every call (it is cheap and reflects the latest export).
     */
    async writeReport(input: { runKey: string; modelId: string; datasetId: string; batches: number; found: number; parameters: Record<string, unknown>; renderId?: string }): Promise<{ reportKey: string }> {
      // Heartbeats between steps: a worker killed while writing the report is noticed within the heartbeat timeout.
      const hb = heartbeater(0);
      const manifest = await getJson(store, keys.datasetManifest(input.datasetId), DatasetManifestSchema);
      const metadata = await getJson(store, `${keys.exportDir(input.modelId)}/metadata.json`, ExportMetadataSchema);

      const outcomes = [];
      for (let batch = 0; batch < input.batches; batch++) {
        outcomes.push(...(await getJson(store, keys.batchRecord(input.runKey, batch, 'download'), DownloadRecordSchema)).outcomes);
      }
      const { downloaded, duplicates, failed, failuresByReason } = summariseOutcomes(outcomes);

      // Held-out pairs when the dataset kept some, else the first few training pairs (said so in the notes).
      const heldOut = new Set(manifest.heldOut);
      const chosen = heldOut.size > 0 ? manifest.pairs.filter((p) => heldOut.has(p.sha256)) : manifest.pairs.slice(0, 6);
      const pairs = await Promise.all(chosen.map(async (p) => ({ name: p.url.split('/').pop() ?? p.sha256.slice(0, 12), ...(await splitPair(await store.get(p.key))) })));
      hb.beat({ step: 'examples' });
      const loaded = await loadExport(store, input.modelId, { provider: await workerInferenceProvider(config) });
      let outputs;
      try {
        outputs = await translateImages(loaded, pairs.map((p) => p.a));
      } finally {
        await loaded.dispose();
      }
      const examples = await Promise.all(pairs.map(async (p, i) => ({ name: p.name, partial: await writePng(p.a), photo: await writePng(p.b), output: await writePng(outputs[i]!) })));
      hb.beat({ step: 'video' });

      let video: { mp4Path?: string; gif?: Buffer } | undefined;
      if (input.renderId && (await store.exists(keys.renderVideo(input.renderId)))) {
        const mp4 = await store.get(keys.renderVideo(input.renderId));
        await store.put(keys.reportFile(input.runKey, 'clip.mp4'), mp4, { contentType: 'video/mp4' });
        const gifKey = keys.renderPreview(input.renderId);
        video = { mp4Path: 'clip.mp4', gif: (await store.exists(gifKey)) ? await store.get(gifKey) : undefined };
      }
      const last = metadata.lossHistory.at(-1);
      const html = buildReport({
        title: `bloomsight run ${input.runKey}`,
        runKey: input.runKey,
        modelId: input.modelId,
        createdAt: new Date().toISOString(),
        parameters: input.parameters,
        dataset: { found: input.found, downloaded, duplicates, failed, pairs: manifest.pairs.length, failuresByReason, datasetId: input.datasetId },
        training: {
          steps: metadata.steps,
          seconds: metadata.trainingSeconds ?? 0,
          imagesPerSecond: metadata.trainingSeconds ? (metadata.steps * Number((metadata.trainOptions as { batchSize?: number } | undefined)?.batchSize ?? 1)) / metadata.trainingSeconds : 0,
          backend: metadata.backend,
          finalLosses: last && { gGan: last.gGan, gL1: last.gL1, d: last.d },
        },
        lossHistory: metadata.lossHistory,
        examples,
        video,
        notes: heldOut.size > 0 ? [`Examples are the ${heldOut.size} held-out images the network never trained on.`] : ['The dataset was too small to hold images out: the examples were seen in training.'],
      });
      const reportKey = keys.report(input.runKey);
      hb.beat({ step: 'page' });
      await store.put(reportKey, Buffer.from(html), { contentType: 'text/html' });
      return { reportKey };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
