/**
 * Each queue's worker loads only what its queue needs: importing the io or cpu queue's activities
 * loads neither TensorFlow.js nor ONNX Runtime (the processes stay small); the gpu queue's does.
 * Checked in fresh Node processes, from the modules they actually loaded.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const MODEL_RUNTIMES = /node_modules\/(@tensorflow|onnxruntime-node)\//;

/** The files under node_modules a fresh process has loaded after requiring `module`. */
async function loadedBy(module: string): Promise<string[]> {
  const script = `require(${JSON.stringify(join(ROOT, module))}); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, maxBuffer: 1 << 24 });
  return (JSON.parse(stdout) as string[]).filter((path) => path.includes('/node_modules/'));
}

describe('what each queue worker loads', () => {
  it.each(['activities/io.ts', 'activities/cpu.ts'])('%s loads no TensorFlow.js and no ONNX Runtime', async (module) => {
    const loaded = await loadedBy(module);
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((path) => MODEL_RUNTIMES.test(path))).toEqual([]);
  }, 60_000);

  it('activities/gpu.ts loads both (the check sees them when they are there)', async () => {
    const loaded = await loadedBy('activities/gpu.ts');
    expect(loaded.some((path) => path.includes('/node_modules/@tensorflow/tfjs'))).toBe(true);
    expect(loaded.some((path) => path.includes('/node_modules/onnxruntime-node/'))).toBe(true);
  }, 60_000);
});
