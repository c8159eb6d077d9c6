/**
 * The two chaos experiments (the CI test's and the bench's) and the printed report.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { ChaosReport, ChaosSettings } from './run-chaos';

/**
 * ci: every kind of process killed at least once, every worst moment once, on a run small enough for
 * a test of about three minutes on two cores. full: the same worst moments plus random kills of every
 * kind, on a longer training.
 */
export function chaosPreset(name: 'ci' | 'full', seed: number): ChaosSettings {
  const common = {
    seed,
    faults: { missing: 1, broken: 1, truncated: 1, duplicate: 1 },
    imageSize: 64,
    ngf: 8,
    ndf: 8,
    heartbeatTimeoutSeconds: 5,
    maxDownMs: 1500,
  };
  if (name === 'ci') {
    // Pinned steps: a kill that does not stop training (Temporal's) lets it run on for the seconds the
    // server needs to come back, so the kills that do stop it come after, at later steps.
    return {
      ...common,
      photos: 12,
      batchSize: 4,
      parallelBatches: 2,
      steps: 300,
      checkpointEvery: 10,
      clip: { seconds: 5, fps: 12 },
      randomKillsPerKind: 0,
      fixed: [
        { target: 'io', moment: { kind: 'download-batch' } },
        { target: 'temporal', moment: { kind: 'record-stored', record: 'download' } },
        { target: 'cpu', moment: { kind: 'random', stage: 'dataset', delayMs: 300 } },
        { target: 'temporal', moment: { kind: 'random', stage: 'train', afterStep: 20, delayMs: 100 } },
        { target: 'gpu', moment: { kind: 'checkpoint-write', afterStep: 60 } },
        { target: 's3', moment: { kind: 's3-upload', of: 'checkpoint-part', afterStep: 120 } },
        { target: 'pipeline', moment: { kind: 'record-stored', record: 'train' } },
        { target: 'gpu', moment: { kind: 'record-stored', record: 'chunk' } },
        { target: 'cpu', moment: { kind: 'render-join' } },
        { target: 'gpu', moment: { kind: 'report-write' } },
      ],
    };
  }
  return {
    ...common,
    photos: 24,
    batchSize: 4,
    parallelBatches: 2,
    steps: 600,
    checkpointEvery: 20,
    clip: { seconds: 6, fps: 24 },
    randomKillsPerKind: 3,
    fixed: [
      { target: 'io', moment: { kind: 'download-batch' } },
      { target: 's3', moment: { kind: 'download-batch' } },
      { target: 'temporal', moment: { kind: 'record-stored', record: 'download' } },
      { target: 'gpu', moment: { kind: 'checkpoint-write' } },
      { target: 's3', moment: { kind: 'checkpoint-write' } },
      { target: 's3', moment: { kind: 's3-upload', of: 'checkpoint-part' } },
      { target: 'gpu', moment: { kind: 's3-upload', of: 'checkpoint-part' } },
      { target: 'temporal', moment: { kind: 'record-stored', record: 'train' } },
      { target: 'gpu', moment: { kind: 's3-upload', of: 'render' } },
      { target: 'gpu', moment: { kind: 'record-stored', record: 'chunk' } },
      { target: 'cpu', moment: { kind: 'render-join' } },
      { target: 's3', moment: { kind: 'render-join' } },
      { target: 'gpu', moment: { kind: 'report-write' } },
    ],
  };
}

/** CPU model and the SIMD extensions TensorFlow can use, for the figures' context. */
export function cpuLine(): string {
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    flags = (line?.split(':')[1] ?? '').trim().split(/\s+/).filter((f) => /^(sse4_2|avx|avx2|fma|avx512f|avx512_vnni|avx512_bf16|amx_tile)$/.test(f));
  } catch {
    // not Linux
  }
  return `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, SIMD ${flags.join(' ') || 'unknown'}`;
}

export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const { figures } = report;
  lines.push('', 'kill log (stage = what the run was doing when SIGKILL was sent):');
  for (const kill of report.kills) {
    lines.push(
      kill.missed
        ? `  ${String(kill.index + 1).padStart(2)}. ${kill.target.padEnd(8)} ${kill.moment}: missed (${kill.missed})`
        : `  ${String(kill.index + 1).padStart(2)}. ${kill.target.padEnd(8)} pid ${String(kill.pid).padEnd(7)} +${(kill.atMs / 1000).toFixed(1).padStart(5)} s  ${kill.stage.padEnd(7)} ${kill.moment}${kill.held ? ` [${kill.held}]` : ''}; down ${kill.downMs} ms, restart ${kill.restartMs} ms`,
    );
  }
  lines.push('', 'checks:');
  for (const check of report.checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  lines.push('', 'kills by process and moment:');
  for (const [kind, moments] of Object.entries(figures.killsByKind)) {
    lines.push(`  ${kind.padEnd(8)} ${Object.entries(moments).map(([m, n]) => `${n}× ${m}`).join(', ')}`);
  }
  if (figures.missed) lines.push(`  (${figures.missed} planned kills missed their moment)`);
  lines.push('', `steps redone (upper bounds; checkpoint every ${report.settings.checkpointEvery} steps):`);
  for (const r of figures.stepsRedone) {
    lines.push(
      `  kill ${String(r.kill).padStart(2)} ${r.target.padEnd(8)} ${r.moment}: ` +
        (r.lost ? `newest checkpoint ${r.lost.lastCheckpoint}, reached at most ${r.lost.reachedAtMost}, resumed from ${r.lost.resumedFrom} -> ${r.lost.redone} steps` : 'training went on undisturbed'),
    );
  }
  for (const u of figures.unexplainedInterruptions) lines.push(`  interruption without a kill: reached at most ${u.reachedAtMost}, resumed from ${u.resumedFrom} -> ${u.redone} steps`);
  lines.push(`  total ${figures.totalStepsRedone} of ${report.settings.steps} steps`);
  const w = figures.wallSeconds;
  lines.push('', `wall time: uninterrupted ${w.reference.toFixed(1)} s, with ${report.kills.filter((k) => !k.missed).length} kills ${w.chaos.toFixed(1)} s (${w.ratio.toFixed(2)}x)`);
  lines.push(`image web: ${figures.urlFetches.fetches} fetches of ${figures.urlFetches.urls} URLs; ${figures.urlFetches.goodUrlsFetchedAgain} good images fetched again by a retried batch`);
  lines.push(`activities: ${figures.activities.total}, of which ${figures.activities.retried.length} were retried: ${figures.activities.retried.join(', ') || 'none'}`);
  lines.push(`bucket: ${figures.objects} objects`);
  return lines.join('\n');
}
