import { join } from 'node:path';
import type { RuntimeConfig } from '../config/runtime';
import { partialInformation, splitPair, writePng, type RgbImage } from '../imaging';
import type { PartialParams } from '../imaging/partial-params';
import { ExportMetadataSchema } from '../model/export-metadata';
import { loadExport, translateImages } from '../model/infer';
import { buildComparisonReport, type ComparisonReportData } from '../report';
import { getJson, keys, type Store } from '../storage';
import { conformFrame, coverSize, decodeFrames, probeVideo } from '../video';
import { comparisonColumns } from './comparison-record';
import { DatasetManifestSchema, DownloadRecordSchema, summariseOutcomes } from './dataset-records';
import { heartbeater } from './heartbeat';
import { workerInferenceProvider } from './model-runtime';
import { withScratch } from './scratch';

/** Frames of the video shown in the report, evenly spaced. */
const REPORT_FRAMES = 4;

export interface ComparisonReportInput {
  runKey: string;
  /** The shared dataset: its held-out photos are every variant's (held out by content hash). */
  datasetId: string;
  batches: number;
  found: number;
  parameters: Record<string, unknown>;
  variants: Array<{ name: string; modelId: string; datasetId: string; partial: PartialParams; trainOverrides: Record<string, unknown> }>;
  /** The side-by-side render, copied beside the report as clip.mp4, and its columns. */
  renderId?: string;
  panels?: 'two' | 'three';
  /** Store key of the video whose frames get rows of their own. */
  video?: string;
}

/** The comparison report runs every variant's model (examples, frames, held-out L1), so it is written on the gpu queue. */
export function createCompareReportActivities(store: Store, config: RuntimeConfig) {
  return {
    /**
     * Writes `reports/<runKey>/index.html`: the variants with steps, training time and held-out L1,
     * loss curves on shared axes, rows of held-out photos and video frames (photo, then each variant's
     * partial information and output), and the side-by-side clip. Rewritten on every call.
     */
    async writeComparisonReport(input: ComparisonReportInput): Promise<{ reportKey: string }> {
      const hb = heartbeater();
      const shared = await getJson(store, keys.datasetManifest(input.datasetId), DatasetManifestSchema);
      const size = shared.imageSize;
      const outcomes = [];
      for (let batch = 0; batch < input.batches; batch++) {
        outcomes.push(...(await getJson(store, keys.batchRecord(input.runKey, batch, 'download'), DownloadRecordSchema)).outcomes);
      }
      const { downloaded, duplicates, failed, failuresByReason } = summariseOutcomes(outcomes);

      // Held-out photos when the dataset kept some (the same photos in every variant's dataset), else the first few.
      const heldOut = shared.heldOut.length > 0;
      const chosen = heldOut ? shared.pairs.filter((p) => shared.heldOut.includes(p.sha256)) : shared.pairs.slice(0, 6);
      const photos = await Promise.all(chosen.map(async (p) => (await splitPair(await store.get(p.key))).b));
      const frames = input.video ? await sampleFrames(store, input.video, size, hb) : [];

      const provider = await workerInferenceProvider(config);
      const variants: ComparisonReportData['variants'] = [];
      const cells: Array<Array<{ partial: RgbImage; output: RgbImage }>> = [];
      for (const variant of input.variants) {
        const manifest = await getJson(store, keys.datasetManifest(variant.datasetId), DatasetManifestSchema);
        const pairKey = new Map(manifest.pairs.map((p) => [p.sha256, p.key]));
        const partials: RgbImage[] = [];
        for (const pair of chosen) {
          const key = pairKey.get(pair.sha256);
          if (!key) throw new Error(`dataset ${variant.datasetId} of variant ${variant.name} has no pair for photo ${pair.sha256}`);
          partials.push((await splitPair(await store.get(key))).a);
        }
        for (const frame of frames) partials.push(await partialInformation(frame.image, variant.partial));
        const loaded = await loadExport(store, variant.modelId, { provider });
        let outputs: RgbImage[];
        try {
          outputs = await translateImages(loaded, partials);
        } finally {
          await loaded.dispose();
        }
        cells.push(partials.map((partial, i) => ({ partial, output: outputs[i]! })));
        const metadata = await getJson(store, `${keys.exportDir(variant.modelId)}/metadata.json`, ExportMetadataSchema);
        const last = metadata.lossHistory.at(-1);
        const batchSize = Number((metadata.trainOptions as { batchSize?: number } | undefined)?.batchSize ?? 1);
        variants.push({
          name: variant.name,
          modelId: variant.modelId,
          datasetId: variant.datasetId,
          partial: variant.partial,
          trainOverrides: variant.trainOverrides,
          steps: metadata.steps,
          trainingSeconds: metadata.trainingSeconds ?? 0,
          imagesPerSecond: metadata.trainingSeconds ? (metadata.steps * batchSize) / metadata.trainingSeconds : 0,
          backend: metadata.backend,
          finalLosses: last && { gGan: last.gGan, gL1: last.gL1, d: last.d },
          heldOutL1: heldOut ? meanL1(outputs.slice(0, photos.length), photos) : undefined,
          lossHistory: metadata.lossHistory.map(({ step, gGan, gL1, d }) => ({ step, gGan, gL1, d })),
        });
        hb.beat({ variants: variants.length, of: input.variants.length });
      }

      const row = async (name: string, photo: RgbImage, index: number) => ({
        name,
        photo: await writePng(photo),
        variants: await Promise.all(cells.map(async (variant) => ({ partial: await writePng(variant[index]!.partial), output: await writePng(variant[index]!.output) }))),
      });
      const examples = await Promise.all(chosen.map((p, i) => row(p.url.split('/').pop() ?? p.sha256.slice(0, 12), photos[i]!, i)));
      const frameRows = await Promise.all(frames.map((frame, i) => row(frame.name, frame.image, photos.length + i)));

      let video: ComparisonReportData['video'];
      if (input.renderId && (await store.exists(keys.renderVideo(input.renderId)))) {
        await store.put(keys.reportFile(input.runKey, 'clip.mp4'), await store.get(keys.renderVideo(input.renderId)), { contentType: 'video/mp4' });
        const gifKey = keys.renderPreview(input.renderId);
        video = { mp4Path: 'clip.mp4', gif: (await store.exists(gifKey)) ? await store.get(gifKey) : undefined };
      }
      const html = buildComparisonReport({
        title: `bloomsight comparison ${input.runKey}`,
        runKey: input.runKey,
        createdAt: new Date().toISOString(),
        parameters: input.parameters,
        dataset: { found: input.found, downloaded, duplicates, failed, pairs: shared.pairs.length, failuresByReason, datasetId: input.datasetId },
        variants,
        heldOut,
        examples,
        frames: frameRows,
        video,
        notes: [
          heldOut ? `The photos are the ${chosen.length} held out of every variant's training.` : 'The dataset was too small to hold photos out: the photos shown were trained on.',
          ...(frames.length ? ['Video frames: each variant makes the partial information of the frame alone; the video keeps k-means clusters stable from frame to frame.'] : []),
          ...(video ? [`The clip, left to right: ${comparisonColumns(input.variants.map((v) => v.name), input.panels ?? 'two')}.`] : []),
        ],
      });
      const reportKey = keys.report(input.runKey);
      await store.put(reportKey, Buffer.from(html), { contentType: 'text/html' });
      return { reportKey };
    },
  };
}

export type CompareReportActivities = ReturnType<typeof createCompareReportActivities>;

/** Mean absolute difference of the outputs from the photos, pixel values in [-1, 1] as training's L1 measures it. */
function meanL1(outputs: readonly RgbImage[], photos: readonly RgbImage[]): number {
  let sum = 0;
  let n = 0;
  outputs.forEach((output, i) => {
    const photo = photos[i]!.data;
    for (let j = 0; j < output.data.length; j++) sum += Math.abs(output.data[j]! - photo[j]!);
    n += output.data.length;
  });
  return n > 0 ? (sum / n) * (2 / 255) : 0;
}

/** A few evenly spaced frames of the video, centre-cropped to the model's size as the renderer does. */
async function sampleFrames(store: Store, videoKey: string, size: number, hb: ReturnType<typeof heartbeater>): Promise<Array<{ name: string; image: RgbImage }>> {
  const { signal } = hb;
  return withScratch('report-frames', async (dir) => {
    const path = join(dir, 'video');
    await store.getFile(videoKey, path);
    const video = await probeVideo(path, { signal });
    const count = Math.min(REPORT_FRAMES, video.frameCount);
    const frames: Array<{ name: string; image: RgbImage }> = [];
    for (let i = 0; i < count; i++) {
      const index = Math.floor(((i + 0.5) * video.frameCount) / count);
      for await (const frame of decodeFrames(path, { video, size: coverSize(video, size), startFrame: index, frameCount: 1, signal })) {
        frames.push({ name: `frame ${frame.index} (${(frame.index / video.fps).toFixed(1)} s)`, image: await conformFrame(frame.image, size) });
      }
      hb.beat({ frames: frames.length, of: count });
    }
    return frames;
  });
}
