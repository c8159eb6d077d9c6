/**
 * Chaos: the whole pipeline on separate processes (Temporal dev server, S3 server, one worker per
 * queue), with every kind of process SIGKILLed several times at random moments and at the worst
 * moments, each restarted; then the invariants, and the model compared byte for byte with an
 * uninterrupted run of the same seed and step count. Prints the seed, the schedule, the kill log, the
 * checks and the figures; exits 1 if a check fails. A failing schedule is replayed with its seed.
 *
 *   npx tsx bench/chaos.ts [--seed N] [--preset full|ci] [--kills-per-kind N] [--steps N] [--keep]
 *
 * --preset ci is the schedule test/chaos.test.ts runs; full (default) kills each kind of process
 * `--kills-per-kind` times (default 3) at random moments besides every worst moment.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chaosPreset, cpuLine, formatReport } from '../test/helpers/chaos/presets';
import { runChaos } from '../test/helpers/chaos/run-chaos';


async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      preset: { type: 'string', default: 'full' },
      'kills-per-kind': { type: 'string' },
      steps: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const settings = chaosPreset(values.preset === 'ci' ? 'ci' : 'full', seed);
  if (values['kills-per-kind'] !== undefined) settings.randomKillsPerKind = Number(values['kills-per-kind']);
  if (values.steps !== undefined) settings.steps = Number(values.steps);

  console.log(`bloomsight chaos — seed ${seed} (replay: npx tsx bench/chaos.ts --seed ${seed} --preset ${values.preset})`);
  console.log(`${cpuLine()}; other processes on this machine add noise to the wall times`);
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-chaos-'));
  const started = Date.now();
  try {
    const report = await runChaos(dir, settings, (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`));
    console.log(formatReport(report));
    process.exitCode = report.checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    if (values.keep || process.exitCode) console.log(`logs, report.json and the services' data: ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
