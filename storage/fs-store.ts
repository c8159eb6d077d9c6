import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat as statFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { sha256, sha256File } from './checksum';
import { CorruptObjectError, ObjectNotFoundError } from './errors';
import { assertValidKey, assertValidPrefix } from './validate-key';
import type { ListedObject, PutOptions, Store, StoredObject } from './store';

/**
 * The local-disk store (the embedded default). Bytes live at `<root>/objects/<key>`, so a person
 * can open them; the checksum record at `<root>/sums/<key>` is written last and is the commit
 * marker: an object without one is incomplete and does not exist.
 *
 * Durability: each file is written under a temporary name, fsynced, renamed into place, and its
 * folder fsynced (new folders' parents too) before the next step, so after a crash or power loss
 * a record never survives without the bytes it describes. A record that is unreadable all the same
 * (a disk that lies about fsync, a hand edit) makes that one object corrupt: reading it throws
 * CorruptObjectError, listing still shows it, and nothing else in the store is affected.
 */
export class FsStore implements Store {
  readonly location: string;
  private readonly objects: string;
  private readonly sums: string;
  /** Folders whose entries up to the root are known to be on disk. */
  private readonly durableDirs = new Set<string>();

  constructor(readonly root: string) {
    this.location = `fs:${root}`;
    this.objects = join(root, 'objects');
    this.sums = join(root, 'sums');
  }

  async put(key: string, body: Uint8Array, _options?: PutOptions): Promise<StoredObject> {
    assertValidKey(key);
    const object: StoredObject = { key, size: body.byteLength, sha256: sha256(body) };
    await this.writeAtomically(this.objectPath(key), (tmp) => writeFile(tmp, body));
    await this.commit(object);
    return object;
  }

  async putFile(key: string, path: string, _options?: PutOptions): Promise<StoredObject> {
    assertValidKey(key);
    const { sha256: sum, size } = await sha256File(path);
    await this.writeAtomically(this.objectPath(key), (tmp) => copyFile(path, tmp));
    const object: StoredObject = { key, size, sha256: sum };
    await this.commit(object);
    return object;
  }

  async get(key: string): Promise<Buffer> {
    const record = await this.requireRecord(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.objectPath(key));
    } catch (error) {
      if (isNotFound(error)) throw new CorruptObjectError(key, this.location, 'checksum recorded but bytes are missing');
      throw error;
    }
    this.verify(record, bytes.byteLength, sha256(bytes));
    return bytes;
  }

  async getFile(key: string, path: string): Promise<StoredObject> {
    const record = await this.requireRecord(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      await copyFile(this.objectPath(key), tmp, constants.COPYFILE_FICLONE);
      const { sha256: sum, size } = await sha256File(tmp);
      this.verify(record, size, sum);
      await rename(tmp, path);
      return record;
    } catch (error) {
      await rm(tmp, { force: true });
      if (isNotFound(error)) throw new CorruptObjectError(key, this.location, 'checksum recorded but bytes are missing');
      throw error;
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    assertValidKey(key);
    return this.readRecord(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<ListedObject[]> {
    assertValidPrefix(prefix);
    // Walk only the directory the prefix names, not the whole store.
    const slash = prefix.lastIndexOf('/');
    const start = join(this.sums, prefix.slice(0, slash + 1));
    const found: ListedObject[] = [];
    for (const file of await walk(start)) {
      const key = relative(this.sums, file).split(sep).join('/');
      if (!key.startsWith(prefix) || key.endsWith('.part')) continue;
      const record = await this.readRecord(key).catch((error: unknown) => {
        if (error instanceof CorruptObjectError) return 'unreadable' as const;
        throw error;
      });
      // An unreadable record is listed (with the size of the bytes) so that callers see the key,
      // skip it when get() reports it corrupt, and can delete it; it must not hide its neighbours.
      if (record === 'unreadable') found.push({ key, size: await this.bytesSize(key) });
      else if (record) found.push({ key, size: record.size });
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    // Marker first, and durably: a crash in between leaves unreferenced bytes, never a record without bytes.
    await rm(this.sumPath(key), { force: true });
    await syncDirectory(dirname(this.sumPath(key))).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    await rm(this.objectPath(key), { force: true });
  }

  private async bytesSize(key: string): Promise<number> {
    try {
      return (await statFile(this.objectPath(key))).size;
    } catch (error) {
      if (isNotFound(error) || isNotDirectory(error)) return 0;
      throw error;
    }
  }

  private objectPath(key: string): string {
    return join(this.objects, ...key.split('/'));
  }

  private sumPath(key: string): string {
    return join(this.sums, ...key.split('/'));
  }

  private async commit(object: StoredObject): Promise<void> {
    const record = JSON.stringify({ size: object.size, sha256: object.sha256 });
    await this.writeAtomically(this.sumPath(object.key), (tmp) => writeFile(tmp, record));
  }

  /** Write to a temporary file, fsync it, rename it into place, fsync the folder: done means on disk. */
  private async writeAtomically(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const dir = dirname(path);
    await this.makeDirectoryDurably(dir);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      await write(tmp);
      await syncFile(tmp);
      await rename(tmp, path);
      await syncDirectory(dir);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  /**
   * mkdir -p, then fsync the parent of every folder up to the root, so new folders survive a crash
   * (also when another writer created them a moment ago and has not synced them yet). Once per folder
   * per process.
   */
  private async makeDirectoryDurably(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (let d = dir; d !== dirname(this.root) && dirname(d) !== d && !this.durableDirs.has(d); d = dirname(d)) {
      await syncDirectory(dirname(d));
      this.durableDirs.add(d);
    }
  }

  private async readRecord(key: string): Promise<StoredObject | undefined> {
    let text: string;
    try {
      text = await readFile(this.sumPath(key), 'utf8');
    } catch (error) {
      if (isNotFound(error) || isNotDirectory(error)) return undefined;
      throw error;
    }
    try {
      const { size, sha256: sum } = JSON.parse(text) as { size: number; sha256: string };
      if (typeof size !== 'number' || typeof sum !== 'string') throw new Error('fields missing');
      return { key, size, sha256: sum };
    } catch (error) {
      throw new CorruptObjectError(key, this.location, `unreadable checksum record (${(error as Error).message})`);
    }
  }

  private async requireRecord(key: string): Promise<StoredObject> {
    assertValidKey(key);
    const record = await this.readRecord(key);
    if (!record) throw new ObjectNotFoundError(key, this.location);
    return record;
  }

  private verify(record: StoredObject, size: number, sum: string): void {
    if (size !== record.size) {
      throw new CorruptObjectError(record.key, this.location, `expected ${record.size} bytes, found ${size}`);
    }
    if (sum !== record.sha256) {
      throw new CorruptObjectError(record.key, this.location, `sha256 mismatch (expected ${record.sha256}, found ${sum})`);
    }
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a folder: makes the names created or removed in it durable (Linux, macOS; a no-op where unsupported). */
async function syncDirectory(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR' || (error as NodeJS.ErrnoException).code === 'EPERM') return; // Windows
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!['EINVAL', 'ENOTSUP', 'EPERM', 'EBADF'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error) || isNotDirectory(error)) return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function isNotDirectory(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOTDIR';
}

