/**
 * Checkpoints that survive kills: everything needed to continue a run exactly.
 *
 * One checkpoint = one folder `models/<modelId>/checkpoints/<step>-<attempt>/` (attempt-scoped, so a
 * retried or zombie writer never writes into another's folder) holding:
 *
 *   generator.bin, discriminator.bin              float32 little-endian weights, network order
 *   optimizer-generator.bin, optimizer-discriminator.bin   Adam m then v for each trainable weight
 *   state.json                                    step, options, layout, data order, loss history, ...
 *   manifest.json                                 written LAST: size and sha256 of every part
 *
 * then `models/<modelId>/latest.json` is swapped to point at it. A reader trusts only folders whose
 * manifest exists and whose parts match it (the store also verifies its own checksums); a broken or
 * unfinished checkpoint is skipped, reported, and the previous complete one is used.
 */
import { z } from 'zod';
import { CorruptObjectError, getJson, keys, ObjectNotFoundError, putJson, type Store } from '../storage';
import type { AdamState } from './adam';
import type { DataOrderState } from './data';
import { ProvenanceSchema, TrainOptionsSchema, type Provenance, type TrainOptions } from './options';
import type { ModelSnapshot, WeightValues } from './pix2pix';
import { CheckpointCorruptError } from './errors';
export { CheckpointCorruptError };

export const CHECKPOINT_FORMAT_VERSION = 1;

/** Mean losses over a window of steps ending at `step`. */
export interface LossRecord {
  step: number;
  gGan: number;
  gL1: number;
  g: number;
  d: number;
}

export interface CheckpointContent {
  snapshot: ModelSnapshot;
  options: TrainOptions;
  data: DataOrderState;
  lossHistory: LossRecord[];
  /** Training time summed over every attempt so far (the time goal counts it). */
  trainingSeconds: number;
  provenance?: Provenance;
  /** e.g. 'tensorflow' or 'cpu'. */
  backend: string;
}

export interface CheckpointRef {
  modelId: string;
  step: number;
  attempt: string;
  /** Store key prefix of the folder (no trailing slash). */
  dir: string;
}

export interface SkippedCheckpoint {
  dir: string;
  reason: string;
}

export interface LoadedCheckpoint {
  ref: CheckpointRef;
  content: CheckpointContent;
  /** Newer checkpoints that were incomplete or corrupt, newest first. */
  skipped: SkippedCheckpoint[];
}

const PARTS = ['generator.bin', 'discriminator.bin', 'optimizer-generator.bin', 'optimizer-discriminator.bin', 'state.json'] as const;
type PartName = (typeof PARTS)[number];

const ManifestSchema = z.object({
  formatVersion: z.literal(CHECKPOINT_FORMAT_VERSION),
  modelId: z.string(),
  step: z.number().int().min(0),
  attempt: z.string(),
  createdAt: z.string(),
  parts: z.array(z.object({ name: z.enum(PARTS), size: z.number().int().min(0), sha256: z.string() })),
});
type Manifest = z.infer<typeof ManifestSchema>;

const LatestSchema = z.object({ step: z.number().int().min(0), attempt: z.string(), dir: z.string() });

const LayoutSchema = z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) }));

const StateSchema = z.object({
  formatVersion: z.literal(CHECKPOINT_FORMAT_VERSION),
  step: z.number().int().min(0),
  options: z.unknown(),
  provenance: ProvenanceSchema.optional(),
  backend: z.string(),
  trainingSeconds: z.number().min(0),
  data: z.object({ cursor: z.number().int().min(0), seed: z.number().int(), pairCount: z.number().int().min(0) }),
  lossHistory: z.array(z.object({ step: z.number(), gGan: z.number(), gL1: z.number(), g: z.number(), d: z.number() })),
  layout: z.object({ generator: LayoutSchema, discriminator: LayoutSchema }),
  optimizer: z.object({
    generator: z.object({ step: z.number().int().min(0), weights: z.array(z.string()) }),
    discriminator: z.object({ step: z.number().int().min(0), weights: z.array(z.string()) }),
  }),
});

// ---- writing ----

export interface SaveOptions {
  /** Complete checkpoints to keep (older ones are deleted after the new one is committed). Default 3, minimum 2. */
  keep?: number;
  /** Shapes of the weights by name, for the layout record. */
  shapes: { generator: Map<string, number[]>; discriminator: Map<string, number[]> };
  /** Names of the trainable weights, in optimiser order. */
  trainable: { generator: string[]; discriminator: string[] };
}

export async function saveCheckpoint(store: Store, modelId: string, attempt: string, content: CheckpointContent, options: SaveOptions): Promise<CheckpointRef> {
  const { snapshot } = content;
  const dir = keys.checkpointDir(modelId, snapshot.step, attempt);
  const state: z.infer<typeof StateSchema> = {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    step: snapshot.step,
    options: content.options,
    provenance: content.provenance,
    backend: content.backend,
    trainingSeconds: content.trainingSeconds,
    data: content.data,
    lossHistory: content.lossHistory,
    layout: {
      generator: [...snapshot.generator.keys()].map((name) => ({ name, shape: options.shapes.generator.get(name) ?? [] })),
      discriminator: [...snapshot.discriminator.keys()].map((name) => ({ name, shape: options.shapes.discriminator.get(name) ?? [] })),
    },
    optimizer: {
      generator: { step: snapshot.optimizerG.step, weights: options.trainable.generator },
      discriminator: { step: snapshot.optimizerD.step, weights: options.trainable.discriminator },
    },
  };
  // Packed one at a time, so only one part's copy is alive beside the snapshot.
  const bodies: Record<PartName, () => Buffer> = {
    'generator.bin': () => packFloats([...snapshot.generator.values()]),
    'discriminator.bin': () => packFloats([...snapshot.discriminator.values()]),
    'optimizer-generator.bin': () => packFloats([...snapshot.optimizerG.m, ...snapshot.optimizerG.v]),
    'optimizer-discriminator.bin': () => packFloats([...snapshot.optimizerD.m, ...snapshot.optimizerD.v]),
    'state.json': () => Buffer.from(JSON.stringify(state)),
  };
  const parts: Manifest['parts'] = [];
  for (const name of PARTS) {
    // The store hashes what it writes; its record is the manifest's too (no second pass over the bytes).
    const stored = await store.put(`${dir}/${name}`, bodies[name]());
    parts.push({ name, size: stored.size, sha256: stored.sha256 });
    await new Promise((resolve) => setImmediate(resolve));
  }
  const manifest: Manifest = { formatVersion: CHECKPOINT_FORMAT_VERSION, modelId, step: snapshot.step, attempt, createdAt: new Date().toISOString(), parts };
  await putJson(store, `${dir}/manifest.json`, manifest);
  await putJson(store, keys.latestCheckpoint(modelId), { step: snapshot.step, attempt, dir });
  await pruneCheckpoints(store, modelId, Math.max(2, options.keep ?? 3));
  return { modelId, step: snapshot.step, attempt, dir };
}

function packFloats(arrays: Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** Deletes all but the newest `keep` complete checkpoints, and unfinished folders older than the newest. */
async function pruneCheckpoints(store: Store, modelId: string, keep: number): Promise<void> {
  const folders = await listCheckpointFolders(store, modelId);
  const complete = folders.filter((f) => f.hasManifest);
  if (complete.length === 0) return;
  const newest = complete[0].step;
  const kept = new Set(complete.slice(0, keep).map((f) => f.dir));
  for (const folder of folders) {
    if (kept.has(folder.dir)) continue;
    if (!folder.hasManifest && folder.step >= newest) continue; // maybe another writer, still busy
    // Manifest first: from then on no reader trusts the folder.
    await store.delete(`${folder.dir}/manifest.json`);
    for (const key of folder.keys) if (!key.endsWith('/manifest.json')) await store.delete(key);
  }
}

// ---- reading ----

interface Folder {
  dir: string;
  step: number;
  attempt: string;
  hasManifest: boolean;
  keys: string[];
}

async function listCheckpointFolders(store: Store, modelId: string): Promise<Folder[]> {
  const prefix = keys.checkpointsPrefix(modelId);
  const byDir = new Map<string, Folder>();
  for (const { key } of await store.list(prefix)) {
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const name = rest.slice(0, slash);
    const match = /^(\d+)-(.+)$/.exec(name);
    if (!match) continue;
    const dir = prefix + name;
    const folder = byDir.get(dir) ?? { dir, step: Number(match[1]), attempt: match[2], hasManifest: false, keys: [] };
    folder.keys.push(key);
    if (key === `${dir}/manifest.json`) folder.hasManifest = true;
    byDir.set(dir, folder);
  }
  return [...byDir.values()].sort((a, b) => b.step - a.step || (a.dir < b.dir ? 1 : -1));
}

/** All checkpoints that look complete (have a manifest), newest first; parts are not verified here. */
export async function listCheckpoints(store: Store, modelId: string): Promise<CheckpointRef[]> {
  return (await listCheckpointFolders(store, modelId))
    .filter((f) => f.hasManifest)
    .map((f) => ({ modelId, step: f.step, attempt: f.attempt, dir: f.dir }));
}

/**
 * The newest checkpoint whose manifest exists and whose parts all match it, or undefined when the
 * model has none. Broken ones are skipped and listed in `skipped` (and passed to `onSkipped`).
 */
export async function loadLatestCheckpoint(
  store: Store,
  modelId: string,
  onSkipped?: (skipped: SkippedCheckpoint) => void,
): Promise<LoadedCheckpoint | undefined> {
  const folders = await listCheckpointFolders(store, modelId);
  let pointer: string | undefined;
  try {
    pointer = (await getJson(store, keys.latestCheckpoint(modelId), LatestSchema)).dir;
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError || error instanceof CorruptObjectError)) throw error;
  }
  // Newest first; at equal steps the folder latest.json names wins.
  folders.sort((a, b) => b.step - a.step || Number(b.dir === pointer) - Number(a.dir === pointer));
  const skipped: SkippedCheckpoint[] = [];
  for (const folder of folders) {
    try {
      const content = await readCheckpoint(store, folder.dir, folder.hasManifest);
      return { ref: { modelId, step: folder.step, attempt: folder.attempt, dir: folder.dir }, content, skipped };
    } catch (error) {
      if (!(error instanceof CheckpointCorruptError)) throw error;
      const entry = { dir: folder.dir, reason: error.reason };
      skipped.push(entry);
      onSkipped?.(entry);
    }
  }
  return undefined;
}

/** Loads one checkpoint folder. Throws CheckpointCorruptError when it is incomplete or damaged. */
export async function loadCheckpoint(store: Store, ref: Pick<CheckpointRef, 'dir'>): Promise<CheckpointContent> {
  return readCheckpoint(store, ref.dir, true);
}

async function readCheckpoint(store: Store, dir: string, hasManifest: boolean): Promise<CheckpointContent> {
  if (!hasManifest) throw new CheckpointCorruptError(dir, 'no manifest (the writer did not finish)');
  const manifest = await readVerified(dir, () => getJson(store, `${dir}/manifest.json`, ManifestSchema));
  const bodies = new Map<PartName, Buffer>();
  for (const name of PARTS) {
    const part = manifest.parts.find((p) => p.name === name);
    if (!part) throw new CheckpointCorruptError(dir, `manifest lists no ${name}`);
    // The store verifies the bytes against its own record on get; the record must be the manifest's.
    const record = await readVerified(dir, () => store.stat(`${dir}/${name}`));
    if (!record) throw new CheckpointCorruptError(dir, `missing ${name}`);
    if (record.size !== part.size || record.sha256 !== part.sha256) {
      throw new CheckpointCorruptError(dir, `${name} does not match the manifest (a part from another write?)`);
    }
    bodies.set(name, await readVerified(dir, () => store.get(`${dir}/${name}`)));
  }
  return decode(dir, bodies);
}

async function readVerified<T>(dir: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw new CheckpointCorruptError(dir, `missing ${error.key}`);
    if (error instanceof CorruptObjectError) throw new CheckpointCorruptError(dir, error.message);
    throw error;
  }
}

function decode(dir: string, bodies: Map<PartName, Buffer>): CheckpointContent {
  let state: z.infer<typeof StateSchema>;
  let options: TrainOptions;
  try {
    state = StateSchema.parse(JSON.parse(bodies.get('state.json')!.toString('utf8')));
    options = TrainOptionsSchema.parse(state.options);
  } catch (error) {
    throw new CheckpointCorruptError(dir, `state.json: ${(error as Error).message.split('\n')[0]}`);
  }
  const generator = unpackWeights(dir, bodies.get('generator.bin')!, state.layout.generator);
  const discriminator = unpackWeights(dir, bodies.get('discriminator.bin')!, state.layout.discriminator);
  const sizeOf = (names: string[], weights: WeightValues) =>
    names.map((name) => {
      const w = weights.get(name);
      if (!w) throw new CheckpointCorruptError(dir, `optimiser state names unknown weight ${name}`);
      return w.length;
    });
  const optimizerG = unpackAdam(dir, bodies.get('optimizer-generator.bin')!, state.optimizer.generator.step, sizeOf(state.optimizer.generator.weights, generator));
  const optimizerD = unpackAdam(dir, bodies.get('optimizer-discriminator.bin')!, state.optimizer.discriminator.step, sizeOf(state.optimizer.discriminator.weights, discriminator));
  return {
    snapshot: { step: state.step, generator, discriminator, optimizerG, optimizerD },
    options,
    data: state.data,
    lossHistory: state.lossHistory,
    trainingSeconds: state.trainingSeconds,
    provenance: state.provenance,
    backend: state.backend,
  };
}

function floatsAt(body: Buffer, offsetFloats: number, count: number): Float32Array {
  // Copy: the Buffer may be a slice of a shared pool with unaligned offset.
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(body.subarray(offsetFloats * 4, (offsetFloats + count) * 4));
  return out;
}

function unpackWeights(dir: string, body: Buffer, layout: Array<{ name: string; shape: number[] }>): WeightValues {
  const total = layout.reduce((sum, l) => sum + l.shape.reduce((a, b) => a * b, 1), 0);
  if (body.byteLength !== total * 4) throw new CheckpointCorruptError(dir, `weights hold ${body.byteLength} bytes, layout needs ${total * 4}`);
  const values: WeightValues = new Map();
  let offset = 0;
  for (const { name, shape } of layout) {
    const count = shape.reduce((a, b) => a * b, 1);
    values.set(name, floatsAt(body, offset, count));
    offset += count;
  }
  return values;
}

function unpackAdam(dir: string, body: Buffer, step: number, sizes: number[]): AdamState {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (body.byteLength !== total * 8) throw new CheckpointCorruptError(dir, `optimiser state holds ${body.byteLength} bytes, expected ${total * 8}`);
  const m: Float32Array[] = [];
  const v: Float32Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    m.push(floatsAt(body, offset, size));
    offset += size;
  }
  for (const size of sizes) {
    v.push(floatsAt(body, offset, size));
    offset += size;
  }
  return { step, m, v };
}
