/**
 * A damaged checksum record on the local-disk store (what a disk that lies about fsync, or a hand
 * edit, leaves behind) costs one checkpoint, never the training: the damaged checkpoint is skipped
 * and reported, training resumes from the previous complete one, and pruning still works.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, loadLatestCheckpoint, train, type ImagePair, type TrainOptionsInput } from '../model';
import type { FsStore } from '../storage';
import { fixturePairs, modelTestBackend, tempStore } from './helpers/model';

const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[checkpoint-faults.test] SKIPPED: ${skipReason}`);

const OPTIONS: TrainOptionsInput = { imageSize: 64, ngf: 8, ndf: 8, seed: 5, checkpointEverySteps: 5, checkpointEverySeconds: 10_000, keepCheckpoints: 3 };

describe.skipIf(skipReason !== undefined)('a broken checksum record in the local-disk store', () => {
  let pairs: ImagePair[];
  let store: FsStore;
  let root: string;
  let cleanup: () => Promise<void>;
  const recordPath = (key: string) => join(root, 'sums', ...key.split('/'));

  beforeAll(async () => {
    pairs = (await fixturePairs(64)).slice(0, 3);
    ({ store, root, cleanup } = await tempStore());
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it.each([
    ['manifest.json', 'a truncated record', '{"size": 12'],
    ['generator.bin', 'an empty record', ''],
  ])('on %s (%s) skips that checkpoint: training resumes from the previous one and finishes', async (part, _what, record) => {
    const modelId = `broken-${part.replace(/\W/g, '')}`;
    const first = await train({ options: { ...OPTIONS, maxSteps: 10 }, pairs, store, modelId, attempt: 'a1' });
    first.model.dispose();
    const [newest, previous] = await listCheckpoints(store, modelId);
    expect([newest.step, previous.step]).toEqual([10, 5]);
    await writeFile(recordPath(`${newest.dir}/${part}`), record);

    const warnings: string[] = [];
    const resumed = await train({ options: { ...OPTIONS, maxSteps: 15 }, pairs, store, modelId, attempt: 'a2', onWarning: (w) => warnings.push(w) });
    try {
      expect(resumed.resumedFrom?.step).toBe(5);
      expect(resumed.skippedCheckpoints.map((s) => s.dir)).toEqual([newest.dir]);
      expect(resumed.skippedCheckpoints[0].reason).toMatch(/unreadable checksum record/);
      expect(warnings.join('\n')).toContain(newest.dir);
      expect(resumed.step).toBe(15);
    } finally {
      resumed.model.dispose();
    }
    // The newest checkpoint loads, and pruning went on past the broken folder (listing it did not throw).
    const latest = await loadLatestCheckpoint(store, modelId);
    expect(latest?.ref).toMatchObject({ step: 15, attempt: 'a2' });
    expect((await listCheckpoints(store, modelId)).map((c) => `${c.step}-${c.attempt}`)).toEqual(['15-a2', '10-a2', '10-a1']);
  });
});
