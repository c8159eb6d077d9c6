/**
 * What must hold after a chaos run, checked against the bucket itself, the proxy's record of every S3
 * request, the image web's record of every hit, and the reference run:
 *   - the run completed (no manual step: the driver only killed and restarted processes);
 *   - the final generator and discriminator weights and both optimisers' moments are byte-identical
 *     to the reference run's, and so is the export;
 *   - no kill during training cost more than one checkpoint interval of steps;
 *   - the rendered video's frames equal the reference render's;
 *   - every object's checksum verifies, no object is empty, every checkpoint a record points to is
 *     complete, no image is stored twice, no URL is fetched again once its batch is recorded.
 * Each check carries its evidence, so a failure says what was found.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint } from '../../../model/checkpoint';
import { ffmpegBinaries } from '../../../services/binaries';
import { getJson, keys, type Store } from '../../../storage';
import { probeVideo } from '../../../video';
import type { Hit, ImageWeb } from './image-web';
import type { ChaosSettings, KillRecord, RunOutcome } from './types';
import type { S3Request } from './s3-proxy';
import { activityRuns, stepsRedoneAfterKills, type LostSteps } from './evidence';
import type { Client } from '@temporalio/client';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RunEvidence extends RunOutcome {
  store: Store;
  urls: string[];
}

export interface StepsRedone {
  kill: number;
  target: string;
  moment: string;
  /** Undefined when the kill did not interrupt training. */
  lost?: LostSteps;
}

export interface InvariantInput {
  reference: RunEvidence;
  chaos: RunEvidence;
  proxyLog: S3Request[];
  client: Client;
  hits: Hit[];
  web: ImageWeb;
  kills: KillRecord[];
  settings: ChaosSettings;
  scratch: string;
}

const PARTS = ['generator.bin', 'discriminator.bin', 'optimizer-generator.bin', 'optimizer-discriminator.bin'] as const;

export async function checkInvariants(input: InvariantInput) {
  const { reference, chaos, settings } = input;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  // The run completed.
  check(
    'the run completed with no manual step',
    chaos.result.steps === settings.steps && chaos.result.pairs === reference.result.pairs && chaos.result.render !== undefined,
    `steps ${chaos.result.steps}/${settings.steps}, pairs ${chaos.result.pairs} (reference ${reference.result.pairs}), render ${chaos.result.render?.mp4Key ?? 'missing'}`,
  );

  // The same model.
  const model = await compareModels(reference, chaos);
  check('final weights and both optimisers\u2019 moments byte-identical to the uninterrupted run', model.differing.length === 0, model.detail);
  const exported = await compareExports(reference, chaos);
  check('the export is byte-identical to the uninterrupted run\u2019s', exported.differing.length === 0, exported.detail);

  // Steps computed again.
  const redone = stepsRedone(input);
  const losses = [...redone.perKill.flatMap((r) => (r.lost ? [r.lost.redone] : [])), ...redone.unexplained.map((u) => u.redone)];
  const worst = Math.max(0, ...losses);
  check(
    'every kill during training cost at most one checkpoint interval of steps',
    worst <= settings.checkpointEvery,
    redone.perKill.length === 0
      ? 'no kill landed in training'
      : `${redone.perKill.length} kills in training, ${redone.perKill.filter((r) => r.lost).length} interrupted it, at most ${worst} steps redone (interval ${settings.checkpointEvery})` +
          (redone.unexplained.length ? `; ${redone.unexplained.length} interruptions without a kill (heartbeat timeouts?)` : ''),
  );

  // The same frames.
  await mkdir(input.scratch, { recursive: true });
  const [refFrames, chaosFrames] = await Promise.all([framesOf(reference, input.scratch), framesOf(chaos, input.scratch)]);
  const sameFrames = refFrames.length > 0 && refFrames.length === chaosFrames.length && refFrames.every((h, i) => h === chaosFrames[i]);
  check('the rendered frames equal the uninterrupted render\u2019s', sameFrames, `${chaosFrames.length} frames (reference ${refFrames.length}), ${refFrames.filter((h, i) => h !== chaosFrames[i]).length} differ`);

  // The bucket.
  const scan = await scanBucket(chaos.store);
  check('every object\u2019s checksum verifies', scan.corrupt.length === 0, `${scan.objects} objects read and verified${scan.corrupt.length ? `; corrupt: ${scan.corrupt.join(', ')}` : ''}`);
  check('no zero-byte objects', scan.empty.length === 0, scan.empty.length ? `empty: ${scan.empty.join(', ')}` : `${scan.objects} objects, none empty`);
  const referenced = await referencedCheckpoints(chaos);
  check('no checkpoint referenced that is incomplete', referenced.broken.length === 0, `${referenced.detail}; ${scan.unfinishedCheckpoints} unfinished checkpoint folders left unreferenced`);
  const images = imagesStoredOnce(scan.keys, input.proxyLog, chaos.bucket);
  check('no image stored twice', images.duplicates.length === 0, `${images.images} images; ${images.duplicates.length ? `stored twice: ${images.duplicates.join(', ')}` : 'each once'}; ${images.redundantUploads} redundant uploads of identical bytes`);
  const fetches = await fetchesAfterRecord(input);
  check('no URL fetched again after its batch\u2019s record exists', fetches.late.length === 0, fetches.detail);
  const runs = await activityRuns(input.client, [chaos.runKey, `${chaos.runKey}--dataset`, `${chaos.runKey}--render`]);
  const again = runs.filter((r) => r.scheduled > 1);
  const retried = runs.filter((r) => r.attempt > 1);
  check(
    'no finished activity asked for again',
    again.length === 0 && runs.every((r) => r.completed),
    `${runs.length} activities, each scheduled once and completed${again.length ? `; scheduled again: ${again.map((r) => r.activityType).join(', ')}` : ''}; ${retried.length} needed more than one attempt (${retried.map((r) => `${r.activityType} ${r.attempt}`).join(', ')})`,
  );

  // Figures.
  const killsByKind: Record<string, Record<string, number>> = {};
  for (const kill of input.kills.filter((k) => !k.missed)) {
    const moment = kill.moment.replace(/ \(.*$/, '');
    (killsByKind[kill.target] ??= {})[moment] = (killsByKind[kill.target]![moment] ?? 0) + 1;
  }
  const figures = {
    killsByKind,
    missed: input.kills.filter((k) => k.missed).length,
    stepsRedone: redone.perKill,
    unexplainedInterruptions: redone.unexplained,
    totalStepsRedone: losses.reduce((sum, n) => sum + n, 0),
    wallSeconds: { reference: reference.wallSeconds, chaos: chaos.wallSeconds, ratio: chaos.wallSeconds / reference.wallSeconds },
    urlFetches: fetches.figures,
    objects: scan.objects,
    activities: { total: runs.length, retried: retried.map((r) => `${r.activityType} (attempt ${r.attempt})`) },
  };
  return { checks, figures };
}

async function finalCheckpoint(run: RunEvidence): Promise<string> {
  return (await getJson<{ dir: string }>(run.store, keys.latestCheckpoint(run.runKey))).dir;
}

async function compareModels(reference: RunEvidence, chaos: RunEvidence) {
  const [refDir, chaosDir] = await Promise.all([finalCheckpoint(reference), finalCheckpoint(chaos)]);
  const differing: string[] = [];
  const sizes: string[] = [];
  for (const part of PARTS) {
    const [a, b] = await Promise.all([reference.store.get(`${refDir}/${part}`), chaos.store.get(`${chaosDir}/${part}`)]);
    if (!a.equals(b)) differing.push(part);
    sizes.push(`${part} ${a.byteLength} B`);
  }
  const [refState, chaosState] = await Promise.all([getJson<State>(reference.store, `${refDir}/state.json`), getJson<State>(chaos.store, `${chaosDir}/state.json`)]);
  const counters = (s: State) => JSON.stringify({ step: s.step, g: s.optimizer.generator.step, d: s.optimizer.discriminator.step, cursor: s.data.cursor });
  if (counters(refState) !== counters(chaosState)) differing.push(`counters ${counters(chaosState)} vs ${counters(refState)}`);
  return { differing, detail: differing.length ? `differ: ${differing.join(', ')}` : `${chaosDir.split('/').pop()} equals ${refDir.split('/').pop()} (${sizes.join(', ')}; step, optimiser steps and data cursor equal)` };
}

interface State {
  step: number;
  data: { cursor: number };
  optimizer: { generator: { step: number }; discriminator: { step: number } };
}

async function compareExports(reference: RunEvidence, chaos: RunEvidence) {
  const files = async (run: RunEvidence) => (await run.store.list(`${keys.exportDir(run.runKey)}/`)).map((o) => o.key.slice(keys.exportDir(run.runKey).length + 1)).filter((name) => name !== 'metadata.json');
  const [refFiles, chaosFiles] = await Promise.all([files(reference), files(chaos)]);
  const differing: string[] = refFiles.join() === chaosFiles.join() ? [] : [`file lists ${chaosFiles.join(' ')} vs ${refFiles.join(' ')}`];
  for (const name of refFiles.filter((n) => chaosFiles.includes(n))) {
    const [a, b] = await Promise.all([reference.store.get(`${keys.exportDir(reference.runKey)}/${name}`), chaos.store.get(`${keys.exportDir(chaos.runKey)}/${name}`)]);
    if (!a.equals(b)) differing.push(name);
  }
  return { differing, detail: differing.length ? `differ: ${differing.join(', ')}` : `${refFiles.length} files equal (${refFiles.join(', ')}; metadata.json aside: it records times)` };
}

function stepsRedone({ proxyLog, kills, chaos, settings }: InvariantInput): { perKill: StepsRedone[]; unexplained: LostSteps[] } {
  const inTraining = kills.filter((k) => !k.missed && k.stage === 'train');
  const { perKill, unexplained } = stepsRedoneAfterKills(
    proxyLog,
    { bucket: chaos.bucket, modelId: chaos.runKey, interval: settings.checkpointEvery },
    inTraining.map((k) => ({ time: k.time, stopsTraining: ['gpu', 's3', 'temporal'].includes(k.target) })),
  );
  return { perKill: inTraining.map((k, i) => ({ kill: k.index + 1, target: k.target, moment: k.moment, lost: perKill[i] })), unexplained };
}

/** sha256 of every decoded frame (RGB24) of the run's rendered MP4. */
async function framesOf(run: RunEvidence, scratch: string): Promise<string[]> {
  const path = join(scratch, `${run.bucket}-render.mp4`);
  await run.store.getFile(run.result.render!.mp4Key, path);
  const { ffmpeg } = await ffmpegBinaries();
  const decoded = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn(ffmpeg, ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
  const info = await probeVideo(path);
  const frameBytes = info.width * info.height * 3;
  const frames: string[] = [];
  for (let offset = 0; frameBytes > 0 && offset < decoded.length; offset += frameBytes) {
    frames.push(createHash('sha256').update(decoded.subarray(offset, offset + frameBytes)).digest('hex'));
  }
  return frames;
}

/** Reads every object through the store (which verifies its sha256). */
async function scanBucket(store: Store) {
  const listed = await store.list('');
  const corrupt: string[] = [];
  const empty: string[] = [];
  const folders = new Map<string, boolean>();
  for (const { key, size } of listed) {
    if (size === 0) empty.push(key);
    try {
      const bytes = await store.get(key);
      if (bytes.byteLength === 0) empty.push(key);
    } catch (error) {
      corrupt.push(`${key} (${(error as Error).message})`);
    }
    const folder = /^(models\/[^/]+\/checkpoints\/[^/]+)\//.exec(key)?.[1];
    if (folder) folders.set(folder, (folders.get(folder) ?? false) || key.endsWith('/manifest.json'));
  }
  return { objects: listed.length, keys: listed.map((o) => o.key), corrupt, empty, unfinishedCheckpoints: [...folders.values()].filter((complete) => !complete).length };
}

/** The checkpoints that latest.json and the training record point to must load completely. */
async function referencedCheckpoints(run: RunEvidence) {
  const train = await getJson<{ checkpointDir?: string; steps: number }>(run.store, keys.runRecord(run.runKey, 'train'));
  const latest = await getJson<{ dir: string }>(run.store, keys.latestCheckpoint(run.runKey));
  const metadata = await getJson<{ steps: number }>(run.store, `${keys.exportDir(run.runKey)}/metadata.json`);
  const broken: string[] = [];
  for (const [what, dir] of [['latest.json', latest.dir], ['train.json', train.checkpointDir]] as const) {
    if (!dir) {
      broken.push(`${what} names no checkpoint`);
      continue;
    }
    try {
      const content = await loadCheckpoint(run.store, { dir });
      if (content.snapshot.step !== train.steps) broken.push(`${what} -> ${dir} is at step ${content.snapshot.step}, training ended at ${train.steps}`);
    } catch (error) {
      broken.push(`${what} -> ${dir}: ${(error as Error).message}`);
    }
  }
  if (metadata.steps !== train.steps) broken.push(`the export is of step ${metadata.steps}, training ended at ${train.steps}`);
  return { broken, detail: broken.length ? broken.join('; ') : `latest.json and train.json name ${latest.dir.split('/').pop()}, complete and verified; the export is of that step` };
}

/** Content-addressed images: one object per content, and the proxy saw each key stored once. */
function imagesStoredOnce(objectKeys: string[], proxyLog: S3Request[], bucket: string) {
  const raw = objectKeys.filter((k) => k.startsWith('images/raw/'));
  const byContent = new Map<string, string[]>();
  for (const key of raw) {
    const sha = key.slice('images/raw/'.length).split('.')[0]!;
    byContent.set(sha, [...(byContent.get(sha) ?? []), key]);
  }
  const duplicates = [...byContent.values()].filter((k) => k.length > 1).map((k) => k.join(' = '));
  const stored = new Map<string, number>();
  for (const r of proxyLog) {
    if (r.bucket === bucket && r.method === 'PUT' && r.status === 200 && /^(images|pairs)\//.test(r.key)) stored.set(r.key, (stored.get(r.key) ?? 0) + 1);
  }
  const redundantUploads = [...stored.values()].reduce((sum, n) => sum + n - 1, 0);
  return { images: raw.length, duplicates, redundantUploads };
}

/** No image URL is fetched after the download record of its batch was stored. */
async function fetchesAfterRecord({ chaos, proxyLog, hits, settings }: InvariantInput) {
  const recordedAt = new Map<number, number>();
  for (const r of proxyLog) {
    const batch = new RegExp(`^runs/${chaos.runKey}/batches/(\\d+)/download\\.json$`).exec(r.key)?.[1];
    if (r.bucket === chaos.bucket && r.method === 'PUT' && r.status === 200 && batch !== undefined && !recordedAt.has(Number(batch))) recordedAt.set(Number(batch), r.start);
  }
  const batchOf = new Map(chaos.urls.map((url, i) => [new URL(url).pathname, Math.floor(i / settings.batchSize)]));
  const late: string[] = [];
  const perUrl = new Map<string, number>();
  for (const hit of hits) {
    const batch = batchOf.get(hit.path);
    if (batch === undefined) continue;
    perUrl.set(hit.path, (perUrl.get(hit.path) ?? 0) + 1);
    const recorded = recordedAt.get(batch);
    if (recorded !== undefined && hit.time > recorded) late.push(`${hit.path} ${hit.time - recorded} ms after batch ${batch}'s record`);
  }
  const refetched = [...perUrl.entries()].filter(([path, n]) => n > 1 && /-(ok|slow)\.jpg$/.test(path)).length;
  return {
    late,
    detail: late.length ? late.slice(0, 5).join('; ') : `${recordedAt.size} batch records; ${[...perUrl.values()].reduce((a, b) => a + b, 0)} fetches of ${perUrl.size} URLs, none after its batch was recorded`,
    figures: { urls: chaos.urls.length, fetches: [...perUrl.values()].reduce((a, b) => a + b, 0), goodUrlsFetchedAgain: refetched },
  };
}
