/**
 * The store layout, in one place: every key any stage reads or writes is built here. Content-addressed
 * where possible, so a re-run finds its work done. No key is ever a prefix-directory of another
 * object (S3 servers over a filesystem refuse `a` beside `a/b`).
 *
 *   searches/<provider>/<queryHash>/<date>.json          raw search results, saved before any download
 *   images/raw/<sha256>.<ext>                            downloaded bytes, deduplicated by content
 *   images/<size>/<sha256>.png                           conformed
 *   pairs/<method>-<paramsHash>/<size>/<sha256>.png      partial information | photo (A|B)
 *   datasets/<datasetId>/manifest.json                   the pair keys of one dataset version
 *   runs/<runKey>/<stage>.json                           a run's stage records (scrape, train, comparison)
 *   runs/<runKey>/batches/<n>/<stage>.json               a dataset batch's records (download, conform, pairs)
 *   lines/<line>/latest.json                             a model line's newest dataset and export
 *   models/<modelId>/checkpoints/<step>-<attempt>/...    one complete checkpoint per folder
 *   models/<modelId>/latest.json                         pointer to the newest complete checkpoint
 *   models/<modelId>/export/...                          generator.onnx, model.json, weight shards, metadata.json
 *   renders/<renderId>/plan.json                         the chunks and their starting k-means centres
 *   renders/<renderId>/chunks/<n>.mp4                    finished chunks (and chunk-records/<n>.json beside)
 *   renders/<renderId>/render.mp4, preview.gif           the joined video and its GIF
 *   reports/<runKey>/index.html                          the visual report (and the files it shows)
 */

/** Zero-padded so that keys sort in number order. */
const padded = (n: number, width: number) => String(n).padStart(width, '0');

/** A run's stage records. */
export type RunRecord = 'scrape' | 'train' | 'comparison';
/** A dataset batch's records; `download-partial` holds a batch's progress while it downloads. */
export type BatchRecord = 'download' | 'download-partial' | 'conform' | 'pairs';

export const keys = {
  searchResults: (provider: string, queryHash: string, date: string) => `searches/${provider}/${queryHash}/${date}.json`,
  rawImage: (sha256: string, ext: string) => `images/raw/${sha256}.${ext}`,
  conformed: (size: number, sha256: string) => `images/${size}/${sha256}.png`,
  pair: (method: string, paramsHash: string, size: number, sha256: string) => `pairs/${method}-${paramsHash}/${size}/${sha256}.png`,
  datasetManifest: (datasetId: string) => `datasets/${datasetId}/manifest.json`,
  runRecord: (runKey: string, record: RunRecord) => `runs/${runKey}/${record}.json`,
  batchRecord: (runKey: string, batch: number, record: BatchRecord) => `runs/${runKey}/batches/${padded(batch, 6)}/${record}.json`,
  /** Everything a run keeps under its own name (for listing). */
  runPrefix: (runKey: string) => `runs/${runKey}/`,
  line: (line: string) => `lines/${line}/latest.json`,
  /** Every model's folder lies under it (for listing exports). */
  modelsPrefix: 'models/',
  checkpointsPrefix: (modelId: string) => `models/${modelId}/checkpoints/`,
  checkpointDir: (modelId: string, step: number, attempt: string) => `models/${modelId}/checkpoints/${padded(step, 9)}-${attempt}`,
  latestCheckpoint: (modelId: string) => `models/${modelId}/latest.json`,
  exportDir: (modelId: string) => `models/${modelId}/export`,
  exportFile: (modelId: string, name: string) => `models/${modelId}/export/${name}`,
  renderPlan: (renderId: string) => `renders/${renderId}/plan.json`,
  renderChunk: (renderId: string, index: number) => `renders/${renderId}/chunks/${padded(index, 6)}.mp4`,
  renderChunkRecord: (renderId: string, index: number) => `renders/${renderId}/chunk-records/${padded(index, 6)}.json`,
  renderChunkRecordsPrefix: (renderId: string) => `renders/${renderId}/chunk-records/`,
  renderVideo: (renderId: string) => `renders/${renderId}/render.mp4`,
  renderPreview: (renderId: string) => `renders/${renderId}/preview.gif`,
  /** Every report's folder lies under it (for listing reports). */
  reportsPrefix: 'reports/',
  reportFile: (runKey: string, name: string) => `reports/${runKey}/${name}`,
  report: (runKey: string) => `reports/${runKey}/index.html`,
} as const;
