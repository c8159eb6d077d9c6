/**
 * Scratch folders of a worker killed with SIGKILL (no `finally` ran) are removed by the next worker's
 * first scratch folder; a live worker's folders are left alone.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { withScratch } from '../activities/scratch';

const root = await mkdtemp(join(tmpdir(), 'bloomsight-scratch-test-'));
afterAll(() => rm(root, { recursive: true, force: true }));

it('removes the folders a SIGKILLed worker left, keeps a living one\u2019s, and cleans up its own', async () => {
  // A real process killed with SIGKILL: its pid is free afterwards.
  const dead = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  await new Promise((r) => dead.once('spawn', r));
  dead.kill('SIGKILL');
  await new Promise((r) => dead.once('exit', r));
  const alive = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  await new Promise((r) => alive.once('spawn', r));
  try {
    for (const [name, pid] of [[`bloomsight-join-${dead.pid}-AbC123`, dead.pid], [`bloomsight-chunk-${alive.pid}-XyZ789`, alive.pid]] as const) {
      await mkdir(join(root, name));
      await writeFile(join(root, name, 'chunk-0.mp4'), `left by ${pid}`);
    }
    await mkdir(join(root, 'unrelated-folder'));
    let inside = '';
    await withScratch('plan', async (dir) => {
      inside = dir;
      expect(dir).toContain(`bloomsight-plan-${process.pid}-`);
    }, root);
    expect((await readdir(root)).sort()).toEqual([`bloomsight-chunk-${alive.pid}-XyZ789`, 'unrelated-folder']);
    expect(inside).not.toBe('');
  } finally {
    alive.kill('SIGKILL');
  }
});
