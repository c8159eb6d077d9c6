/**
 * The store layout, in one place. Content-addressed where possible, so a re-run finds its work done.
 * No key is ever a prefix-directory of another object (S3 servers over a filesystem refuse `a` beside `a/b`).
 *
 *   searches/<provider>/<queryHash>/<date>.json          raw search results, saved before any download
 *   images/raw/<sha256>.<ext>                            downloaded bytes, deduplicated by content
 *   images/<size>/<sha256>.png                           conformed
 *   pairs/<method>-<paramsHash>/<size>/<sha256>.png      partial information | photo (A|B)
 *   datasets/<datasetId>/manifest.json                   the pair keys of one dataset version
 *   runs/<runKey>/...                                    per-run state (stage records, download failures)
 *   models/<modelId>/checkpoints/<step>-<attempt>/...    one complete checkpoint per folder
 *   models/<modelId>/latest.json                         pointer to the newest complete checkpoint
 *   models/<modelId>/export/...                          model.json, weight shards, metadata.json
 *   renders/<renderId>/chunks/<n>.mp4                    finished chunks; final MP4 and GIF beside them
 *   reports/<runKey>/index.html                          the visual report
 */
export const keys = {
  searchResults: (provider: string, queryHash: string, date: string) => `searches/${provider}/${queryHash}/${date}.json`,
  rawImage: (sha256: string, ext: string) => `images/raw/${sha256}.${ext}`,
  conformed: (size: number, sha256: string) => `images/${size}/${sha256}.png`,
  pair: (method: string, paramsHash: string, size: number, sha256: string) => `pairs/${method}-${paramsHash}/${size}/${sha256}.png`,
  datasetManifest: (datasetId: string) => `datasets/${datasetId}/manifest.json`,
  run: (runKey: string, name: string) => `runs/${runKey}/${name}`,
  checkpointDir: (modelId: string, step: number, attempt: string) => `models/${modelId}/checkpoints/${String(step).padStart(9, '0')}-${attempt}`,
  latestCheckpoint: (modelId: string) => `models/${modelId}/latest.json`,
  exportDir: (modelId: string) => `models/${modelId}/export`,
  renderChunk: (renderId: string, index: number) => `renders/${renderId}/chunks/${String(index).padStart(6, '0')}.mp4`,
  renderOutput: (renderId: string, file: string) => `renders/${renderId}/${file}`,
  report: (runKey: string) => `reports/${runKey}/index.html`,
} as const;
