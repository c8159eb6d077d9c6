/**
 * Chaos, small: the whole pipeline on separate processes (its own Temporal dev server and S3 server,
 * one worker per queue), every kind of process SIGKILLed at least once, at the worst moments (a
 * checkpoint's parts stored and its manifest not, half an upload sent, half an image received mid
 * batch, an activity's record stored but not reported, the render's join uploading, the report
 * being written), each restarted. The run must complete and end with exactly the model and the frames
 * of an uninterrupted run, with every invariant of the bucket holding. The same harness with more
 * kills at random moments is `npx tsx bench/chaos.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelTestBackend } from './helpers/model';
import { chaosPreset, formatReport } from './helpers/chaos/presets';
import { PROCESS_KINDS } from './helpers/chaos/cluster';
import { runChaos, type ChaosReport } from './helpers/chaos/run-chaos';

const SEED = 20261129;
const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[chaos.test] SKIPPED: ${skipReason}`);

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe.skipIf(skipReason !== undefined)(`a run whose every process is SIGKILLed at the worst moments (seed ${SEED})`, () => {
  it('completes with the uninterrupted run\u2019s model and frames, and every invariant holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloomsight-chaos-test-'));
    const lines: string[] = [];
    let report: ChaosReport | undefined;
    try {
      report = await runChaos(dir, chaosPreset('ci', SEED), (line) => lines.push(line));
    } finally {
      // The schedule, the kill log and the figures go to the test output, pass or fail.
      console.log([...lines, report ? formatReport(report) : `(logs and data kept in ${dir})`].join('\n'));
    }
    if (!report) throw new Error('no report');
    const fired = report.kills.filter((k) => !k.missed);
    expect(report.kills.filter((k) => k.missed).map((k) => `${k.target} ${k.moment}: ${k.missed}`)).toEqual([]);
    expect(new Set(fired.map((k) => k.target))).toEqual(new Set(PROCESS_KINDS));
    for (const check of report.checks) expect(check.ok, `${check.name}: ${check.detail}`).toBe(true);
    expect(report.checks.length).toBe(11);
    // Kills landed in training, and some cost steps: the bound was tested, not vacuous.
    expect(report.figures.stepsRedone.some((r) => (r.lost?.redone ?? 0) > 0)).toBe(true);
    dirs.push(dir);
  }, 420_000);
});
