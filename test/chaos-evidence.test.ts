/**
 * The chaos harness's own measurements, on made-up traffic: the steps a kill cost training are read
 * correctly from the checkpoint writes and reads, including a resume from a checkpoint older than the
 * newest (which the chaos invariant must catch); and a seed gives one schedule.
 */
import { describe, expect, it } from 'vitest';
import { stepsRedoneAfterKills } from './helpers/chaos/evidence';
import { planKills } from './helpers/chaos/schedule';
import type { S3Request } from './helpers/chaos/s3-proxy';

const run = { bucket: 'b', modelId: 'm', interval: 10 };
const pad = (step: number) => String(step).padStart(9, '0');

/** Traffic of one checkpoint write (parts then manifest), at `time`; `manifest: false` = cut before it. */
function write(step: number, attempt: string, time: number, manifest = true): S3Request[] {
  const parts = ['generator.bin', 'discriminator.bin', 'optimizer-generator.bin', 'optimizer-discriminator.bin', 'state.json', ...(manifest ? ['manifest.json'] : [])];
  return parts.map((part, i) => ({ start: time + i, method: 'PUT', bucket: 'b', key: `models/m/checkpoints/${pad(step)}-${attempt}/${part}`, query: '', status: 200, delivered: true, bytes: 1 }));
}
/** An attempt's start: it reads the checkpoint it resumes from. */
function load(step: number, attempt: string, time: number): S3Request[] {
  return [{ start: time, method: 'GET', bucket: 'b', key: `models/m/checkpoints/${pad(step)}-${attempt}/generator.bin`, query: '', status: 200, delivered: true, bytes: 1 }];
}

describe('steps redone, read from the checkpoint traffic', () => {
  it('a kill between checkpoints: the next attempt resumed from the newest, at most one interval redone', () => {
    const log = [...write(10, 'a1', 100), ...write(20, 'a1', 200), ...load(20, 'a1', 400), ...write(30, 'a2', 500)];
    const { perKill, unexplained } = stepsRedoneAfterKills(log, run, [{ time: 250 }]);
    expect(perKill).toEqual([{ lastCheckpoint: 20, reachedAtMost: 30, resumedFrom: 20, redone: 10 }]);
    expect(unexplained).toEqual([]);
  });

  it('a kill inside a checkpoint write (parts stored, manifest not): the attempt had reached that step', () => {
    const log = [...write(10, 'a1', 100), ...write(20, 'a1', 200, false), ...load(10, 'a1', 400), ...write(20, 'a2', 500)];
    const { perKill } = stepsRedoneAfterKills(log, run, [{ time: 207 }]);
    expect(perKill).toEqual([{ lastCheckpoint: 10, reachedAtMost: 20, resumedFrom: 10, redone: 10 }]);
  });

  it('a resume from an older checkpoint than the newest complete one shows as more than one interval', () => {
    const log = [...write(10, 'a1', 100), ...write(20, 'a1', 200), ...load(10, 'a1', 400), ...write(20, 'a2', 500)];
    const { perKill } = stepsRedoneAfterKills(log, run, [{ time: 250 }]);
    expect(perKill[0]?.redone).toBe(20);
  });

  it('a kill after which the same attempt finished costs nothing; an attempt that ended without a kill is reported', () => {
    const log = [...write(10, 'a1', 100), ...load(10, 'a1', 150), ...write(20, 'a2', 200), ...write(30, 'a2', 300)];
    const { perKill, unexplained } = stepsRedoneAfterKills(log, run, [{ time: 250 }]);
    expect(perKill).toEqual([undefined]);
    expect(unexplained).toEqual([{ lastCheckpoint: 10, reachedAtMost: 20, resumedFrom: 10, redone: 10 }]);
  });

  it('charges one interruption once, to the last kill before the next attempt began that can stop training', () => {
    const log = [...write(10, 'a1', 100), ...load(10, 'a1', 400), ...load(10, 'a1', 420), ...write(20, 'a2', 500)];
    const lost = { lastCheckpoint: 10, reachedAtMost: 20, resumedFrom: 10, redone: 10 };
    expect(stepsRedoneAfterKills(log, run, [{ time: 150 }, { time: 300 }]).perKill).toEqual([undefined, lost]);
    expect(stepsRedoneAfterKills(log, run, [{ time: 150 }, { time: 300, stopsTraining: false }]).perKill).toEqual([lost, undefined]);
  });
});

describe('the kill schedule', () => {
  const options = { randomKillsPerKind: 2, steps: 300, checkpointEvery: 10, maxDownMs: 1500, fixed: [{ target: 'gpu' as const, moment: { kind: 'checkpoint-write' as const } }] };

  it('is the same for the same seed, and another for another seed', () => {
    expect(planKills({ ...options, seed: 7 })).toEqual(planKills({ ...options, seed: 7 }));
    expect(planKills({ ...options, seed: 7 })).not.toEqual(planKills({ ...options, seed: 8 }));
  });

  it('kills every kind of process the asked number of times at random moments, besides the fixed ones, in the order the run reaches them', () => {
    const plan = planKills({ ...options, seed: 3 });
    expect(plan).toHaveLength(13);
    for (const kind of ['temporal', 's3', 'pipeline', 'io', 'cpu', 'gpu']) expect(plan.filter((e) => e.target === kind && e.moment.kind === 'random')).toHaveLength(2);
    const stages = plan.map((e) => (e.moment.kind === 'random' ? e.moment.stage : 'train'));
    const order = ['dataset', 'train', 'render', 'report'];
    expect([...stages].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(stages);
    const write = plan.find((e) => e.moment.kind === 'checkpoint-write')!;
    expect(write.moment.kind === 'checkpoint-write' && write.moment.afterStep! % 10).toBe(0);
    for (const e of plan) expect(e.downMs).toBeGreaterThanOrEqual(200);
  });
});
