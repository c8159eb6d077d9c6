import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private temporary folder for one activity attempt, removed afterwards whatever happens.
 * Files never pass between activities through it: what another activity needs goes to the store.
 *
 * A worker killed with SIGKILL runs no `finally`: its folders (a render's chunks, a join's video)
 * stay behind. The folder name carries the worker's pid, so the first scratch folder a worker makes
 * also removes those of workers that are no longer alive.
 */
export async function withScratch<T>(label: string, work: (dir: string) => Promise<T>, root = tmpdir()): Promise<T> {
  sweeping ??= removeScratchOfDeadWorkers(root).then(
    () => undefined,
    () => undefined,
  );
  await sweeping;
  const dir = await mkdtemp(join(root, `bloomsight-${label}-${process.pid}-`));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let sweeping: Promise<void> | undefined;

/** Removes `bloomsight-<label>-<pid>-*` folders whose pid is not a running process. */
export async function removeScratchOfDeadWorkers(root = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root)) {
    const pid = Number(/^bloomsight-[a-z]+-(\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
