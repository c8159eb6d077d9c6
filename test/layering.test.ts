/**
 * The layering rules (.dependency-cruiser.cjs) hold for the whole tree, and they can fail: a file
 * placed on purpose in a library folder importing a workflow module, and a cpu-queue module reaching
 * TensorFlow, are each reported by the rule they break.
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const FOLDERS = ['activities', 'apply', 'camera', 'cli', 'config', 'imaging', 'model', 'platform', 'report', 'services', 'sources', 'storage', 'video', 'workers', 'workflows', 'bench', 'scripts', 'test'];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** depcruise over `paths`; its violations (it exits non-zero when there are any). */
async function cruise(paths: string[], config = '.dependency-cruiser.cjs'): Promise<Violation[]> {
  const args = ['depcruise', '--config', config, '--output-type', 'json', ...paths];
  try {
    const { stdout } = await run('npx', args, { cwd: ROOT, maxBuffer: 1 << 26 });
    return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout;
    if (!stdout) throw error;
    return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
  }
}

describe('layering rules', () => {
  it('hold for the whole tree', async () => {
    const violations = await cruise(FOLDERS);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 60_000);

  it('fail for a library module importing a workflow, and for a cpu-queue module reaching TensorFlow', async () => {
    const probes = { library: join(ROOT, 'imaging', 'layering-probe.ts'), cpuQueue: join(ROOT, 'activities', 'layering-probe.ts') };
    // The cpu-queue rule names activities/cpu.ts; a copy of the rules points it at the probe instead.
    const config = join(tmpdir(), `bloomsight-layering-${process.pid}.cjs`);
    try {
      await writeFile(probes.library, "import '../workflows/validate';\n");
      await writeFile(probes.cpuQueue, "import './render-chunk';\n");
      const rules = require(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: Array<{ name: string; from: { path?: string } }> };
      const cpuRule = rules.forbidden.find((r) => r.name === 'cpu-and-io-workers-load-no-model-runtime')!;
      const probing = { ...rules, forbidden: rules.forbidden.map((r) => (r === cpuRule ? { ...r, from: { path: '^activities/layering-probe[.]ts$' } } : r)) };
      await writeFile(config, `module.exports = ${JSON.stringify(probing)};\n`);

      const violations = await cruise(['imaging/layering-probe.ts', 'activities/layering-probe.ts'], config);
      const broken = (file: string) => new Set(violations.filter((v) => v.from === file).map((v) => v.rule.name));
      expect([...broken('imaging/layering-probe.ts')]).toContain('library-stays-below');
      expect([...broken('activities/layering-probe.ts')]).toContain('cpu-and-io-workers-load-no-model-runtime');
      expect(violations.some((v) => v.rule.name === 'cpu-and-io-workers-load-no-model-runtime' && v.to.includes('node_modules/@tensorflow/'))).toBe(true);
    } finally {
      await Promise.all([...Object.values(probes), config].map((path) => rm(path, { force: true })));
    }
  }, 60_000);
});
