/**
 * The local-disk store's writes are durable before they count as done, shown on the system calls
 * themselves: a child process writes and deletes objects under strace, and the trace must show each
 * file fsynced before it is renamed into place, its folder fsynced after, the bytes committed before
 * the checksum record, and on delete the record's removal synced before the bytes go. A damaged
 * record spoils its own object only.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptObjectError, FsStore } from '../storage';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bloomsight-durability-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One file-system event of the traced process, with descriptors resolved to paths. */
type Event = { call: 'fsync' | 'rename' | 'unlink'; path: string; to?: string };

/** Parses `strace -f -e trace=openat,fsync,rename,unlink,close` output into events on paths under `under`. */
function parseTrace(text: string, under: string): Event[] {
  const fds = new Map<string, string>(); // "pid:fd" -> path; threads share the table, so key by fd alone
  const events: Event[] = [];
  for (const line of text.split('\n')) {
    const open = /openat\(AT_FDCWD, "([^"]+)", [^)]*\) = (\d+)/.exec(line);
    if (open) fds.set(open[2], open[1]);
    const sync = /fsync\((\d+)\)\s+= 0/.exec(line);
    if (sync && fds.get(sync[1])?.startsWith(under)) events.push({ call: 'fsync', path: fds.get(sync[1])! });
    const renamed = /rename\("([^"]+)", "([^"]+)"\)\s+= 0/.exec(line);
    if (renamed && renamed[1].startsWith(under)) events.push({ call: 'rename', path: renamed[1], to: renamed[2] });
    const unlinked = /unlink\("([^"]+)"\)\s+= 0/.exec(line);
    if (unlinked && unlinked[1].startsWith(under)) events.push({ call: 'unlink', path: unlinked[1] });
  }
  return events;
}

describe('the local-disk store on the system-call level', () => {
  it('fsyncs every file before renaming it into place and the folder after, bytes before the record; deletes the record durably first', async () => {
    const root = join(dir, 'store');
    const script = join(dir, 'writer.ts');
    const source = join(dir, 'source.bin');
    await writeFile(source, Buffer.alloc(5000, 7));
    await writeFile(
      script,
      `import { FsStore } from ${JSON.stringify(join(ROOT, 'storage', 'fs-store.ts'))};
const store = new FsStore(${JSON.stringify(root)});
(async () => {
  await store.put('runs/r1/batches/000001/download.json', Buffer.from('{"batch":1}'));
  await store.putFile('renders/x/render.mp4', ${JSON.stringify(source)});
  await store.delete('runs/r1/batches/000001/download.json');
})();
`,
    );
    const trace = join(dir, 'trace.txt');
    await run('strace', ['-f', '-qq', '-e', 'trace=openat,fsync,rename,unlink', '-o', trace, process.execPath, '--import', 'tsx', script], { cwd: ROOT });
    const events = parseTrace(await readFile(trace, 'utf8'), root);
    const index = (predicate: (e: Event) => boolean, what: string) => {
      const i = events.findIndex(predicate);
      expect(i, `${what} in\n${events.map((e) => `${e.call} ${e.path}${e.to ? ` -> ${e.to}` : ''}`).join('\n')}`).toBeGreaterThanOrEqual(0);
      return i;
    };

    for (const key of ['runs/r1/batches/000001/download.json', 'renders/x/render.mp4']) {
      const object = join(root, 'objects', key);
      const record = join(root, 'sums', key);
      const renameObject = index((e) => e.call === 'rename' && e.to === object, `rename into ${object}`);
      const tmpObject = events[renameObject].path;
      const syncTmpObject = index((e) => e.call === 'fsync' && e.path === tmpObject, `fsync of ${tmpObject}`);
      const syncObjectDir = events.findIndex((e, i) => i > renameObject && e.call === 'fsync' && e.path === join(object, '..'));
      const renameRecord = index((e) => e.call === 'rename' && e.to === record, `rename into ${record}`);
      const syncTmpRecord = index((e) => e.call === 'fsync' && e.path === events[renameRecord].path, 'fsync of the record');
      const syncRecordDir = events.findIndex((e, i) => i > renameRecord && e.call === 'fsync' && e.path === join(record, '..'));
      expect(syncTmpObject, `${key}: bytes fsynced before the rename`).toBeLessThan(renameObject);
      expect(syncObjectDir, `${key}: folder fsynced after the rename`).toBeGreaterThan(renameObject);
      expect(syncObjectDir, `${key}: bytes durable before the record is written`).toBeLessThan(syncTmpRecord);
      expect(syncTmpRecord).toBeLessThan(renameRecord);
      expect(syncRecordDir, `${key}: record's folder fsynced after its rename`).toBeGreaterThan(renameRecord);
      // New folders exist on disk too: their parents were fsynced.
      expect(events.some((e) => e.call === 'fsync' && e.path === join(root, 'objects', key.split('/')[0]))).toBe(true);
    }

    const deleted = 'runs/r1/batches/000001/download.json';
    const unlinkRecord = index((e) => e.call === 'unlink' && e.path === join(root, 'sums', deleted), 'unlink of the record');
    const unlinkObject = index((e) => e.call === 'unlink' && e.path === join(root, 'objects', deleted), 'unlink of the bytes');
    const syncBetween = events.findIndex((e, i) => i > unlinkRecord && i < unlinkObject && e.call === 'fsync' && e.path === join(root, 'sums', deleted, '..'));
    expect(syncBetween, 'the record removal is durable before the bytes go').toBeGreaterThan(unlinkRecord);
  });

  it('lists an object whose checksum record is unreadable, reports it corrupt on read, and leaves its neighbours alone', async () => {
    const root = join(dir, 'store-broken-record');
    const store = new FsStore(root);
    await store.put('models/m/checkpoints/10-a/manifest.json', Buffer.from('{"ok":true}'));
    await store.put('models/m/checkpoints/10-a/state.json', Buffer.from('{"step":10}'));
    await store.put('models/m/checkpoints/5-a/manifest.json', Buffer.from('{"ok":5}'));
    await writeFile(join(root, 'sums', 'models', 'm', 'checkpoints', '10-a', 'state.json'), '{"size": 1');

    expect(await store.list('models/m/checkpoints/')).toEqual([
      { key: 'models/m/checkpoints/10-a/manifest.json', size: 11 },
      { key: 'models/m/checkpoints/10-a/state.json', size: 11 },
      { key: 'models/m/checkpoints/5-a/manifest.json', size: 8 },
    ]);
    await expect(store.get('models/m/checkpoints/10-a/state.json')).rejects.toBeInstanceOf(CorruptObjectError);
    await expect(store.stat('models/m/checkpoints/10-a/state.json')).rejects.toBeInstanceOf(CorruptObjectError);
    expect((await store.get('models/m/checkpoints/10-a/manifest.json')).toString()).toBe('{"ok":true}');
    await store.delete('models/m/checkpoints/10-a/state.json');
    expect(await store.list('models/m/checkpoints/10-a/')).toHaveLength(1);
  });
});
