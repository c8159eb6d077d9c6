import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptObjectError,
  FsStore,
  getJson,
  InvalidKeyError,
  ObjectNotFoundError,
  putJson,
  S3Store,
  StoreUnavailableError,
  type Store,
} from '../storage';
import { freshS3Store, testServices } from './helpers/services';

const run = promisify(execFile);

/** Each implementation, plus a way to damage a stored object behind the store's back. */
interface Subject {
  name: string;
  make(): Promise<Store>;
  corrupt(store: Store, key: string, how: 'flip' | 'truncate'): Promise<void>;
}

const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-store-'));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

const subjects: Subject[] = [
  {
    name: 'local-disk store',
    make: async () => new FsStore(await tempDir()),
    async corrupt(store, key, how) {
      const path = join((store as FsStore).root, 'objects', ...key.split('/'));
      if (how === 'truncate') await truncate(path, 3);
      else {
        const bytes = await readFile(path);
        bytes[0] ^= 0xff;
        await writeFile(path, bytes);
      }
    },
  },
  {
    name: 'S3 store (versitygw)',
    make: () => freshS3Store('store-suite'),
    async corrupt(store, key, how) {
      // Rewrite the object with the same recorded checksum but different bytes: what a bad disk or a
      // half-finished copy by another tool would leave behind.
      const s3 = store as S3Store;
      const info = await s3.stat(key);
      const original = await readRawS3(s3, key);
      const damaged = how === 'truncate' ? original.subarray(0, 3) : Buffer.from(original.map((b, i) => (i === 0 ? b ^ 0xff : b)));
      await rawS3Client().putObject(bucketOf(s3), key, damaged, damaged.length, { 'X-Amz-Meta-bloomsight-sha256': info!.sha256 });
    },
  },
];

describe.each(subjects)('$name', (subject) => {
  let store: Store;
  beforeAll(async () => {
    store = await subject.make();
  });

  it('writes bytes and reads the same bytes back with their checksum', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    const written = await store.put('images/raw/abc.png', bytes);
    expect(written.size).toBe(70_000);
    expect(written.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await store.get('images/raw/abc.png')).equals(bytes)).toBe(true);
    expect(await store.stat('images/raw/abc.png')).toEqual(written);
    expect(await store.exists('images/raw/abc.png')).toBe(true);
  });

  it('round-trips JSON and reports a missing key as ObjectNotFoundError', async () => {
    await putJson(store, 'runs/r1/manifest.json', { stage: 'download', count: 3 });
    expect(await getJson(store, 'runs/r1/manifest.json')).toEqual({ stage: 'download', count: 3 });
    await expect(store.get('runs/r1/nothing.json')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.stat('runs/r1/nothing.json')).toBeUndefined();
    expect(await store.exists('runs/r1/nothing.json')).toBe(false);
  });

  it('overwrites a key as a whole', async () => {
    await store.put('models/m/latest.json', Buffer.from('first version, longer'));
    await store.put('models/m/latest.json', Buffer.from('second'));
    expect((await store.get('models/m/latest.json')).toString()).toBe('second');
  });

  it('lists by prefix in key order, and only under that prefix', async () => {
    for (const k of ['pairs/k/2', 'pairs/k/1', 'pairs/k/10', 'pairs/kk/1', 'pairsx/1']) await store.put(k, Buffer.from(k));
    expect((await store.list('pairs/k/')).map((o) => o.key)).toEqual(['pairs/k/1', 'pairs/k/10', 'pairs/k/2']);
    expect((await store.list('pairs/k')).map((o) => o.key)).toEqual(['pairs/k/1', 'pairs/k/10', 'pairs/k/2', 'pairs/kk/1']);
    expect(await store.list('nothing/here/')).toEqual([]);
  });

  it('deletes, and deleting an absent key is not an error', async () => {
    await store.put('tmp/x', Buffer.from('x'));
    await store.delete('tmp/x');
    await store.delete('tmp/x');
    expect(await store.exists('tmp/x')).toBe(false);
    expect(await store.list('tmp/')).toEqual([]);
  });

  it('streams files in and out with verification', async () => {
    const dir = await tempDir();
    const src = join(dir, 'in.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    bytes[12345] = 1;
    await writeFile(src, bytes);
    const written = await store.putFile('renders/r/out.mp4', src);
    expect(written.size).toBe(bytes.length);
    const dst = join(dir, 'sub', 'out.bin');
    await store.getFile('renders/r/out.mp4', dst);
    expect((await readFile(dst)).equals(bytes)).toBe(true);
  });

  it.each(['flip', 'truncate'] as const)('detects a corrupted object (%s) on read and says which key', async (how) => {
    await store.put(`checkpoints/c-${how}/g.bin`, Buffer.from('weights weights weights'));
    await subject.corrupt(store, `checkpoints/c-${how}/g.bin`, how);
    const error = await store.get(`checkpoints/c-${how}/g.bin`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptObjectError);
    expect((error as Error).message).toContain(`checkpoints/c-${how}/g.bin`);
    const dir = await tempDir();
    await expect(store.getFile(`checkpoints/c-${how}/g.bin`, join(dir, 'g.bin'))).rejects.toBeInstanceOf(CorruptObjectError);
    await expect(readFile(join(dir, 'g.bin'))).rejects.toThrow(/ENOENT/); // nothing half-written left behind
  });

  it('reports malformed JSON as a corrupt object', async () => {
    await store.put('runs/r2/manifest.json', Buffer.from('{"stage": '));
    await expect(getJson(store, 'runs/r2/manifest.json')).rejects.toBeInstanceOf(CorruptObjectError);
  });

  it.each(['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a b', 'a/..', ''])('refuses the hostile key %j', async (key) => {
    await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
  });
});

describe('S3 store against the real server', () => {
  it('writes an object that an independent S3 client (awscli) reads back byte for byte', async () => {
    const { s3 } = testServices();
    const store = await freshS3Store('awscli');
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31 + 7) % 256));
    const written = await store.put('images/raw/check.bin', bytes);
    const dir = await tempDir();
    const out = join(dir, 'read-by-aws.bin');
    await run('aws', ['--endpoint-url', s3.endpoint, '--region', s3.region, 's3', 'cp', `s3://${bucketOf(store)}/images/raw/check.bin`, out], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect((await readFile(out)).equals(bytes)).toBe(true);
    // And the checksum we recorded is visible to other tools as user metadata.
    const { stdout } = await run('aws', ['--endpoint-url', s3.endpoint, '--region', s3.region, 's3api', 'head-object', '--bucket', bucketOf(store), '--key', 'images/raw/check.bin'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(JSON.parse(stdout).Metadata['bloomsight-sha256']).toBe(written.sha256);
  });

  it('refuses wrong credentials with StoreUnavailableError, without echoing the secret', async () => {
    const { s3 } = testServices();
    const store = new S3Store({ ...s3, bucket: 'bloomsight', secretKey: 'wrong-secret-value' });
    const error = await store.ensureBucket().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/credentials rejected/);
    expect((error as Error).message).not.toContain('wrong-secret-value');
  });

  it('names the endpoint when no server listens there', async () => {
    const store = new S3Store({ endpoint: 'http://127.0.0.1:1', bucket: 'bloomsight', accessKey: 'k', secretKey: 's', region: 'us-east-1' });
    const error = await store.ensureBucket().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain('127.0.0.1:1');
  });
});

function bucketOf(store: S3Store): string {
  return store.location.split('/').pop()!;
}

function rawS3Client(): Client {
  const { s3 } = testServices();
  const url = new URL(s3.endpoint);
  return new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, pathStyle: true });
}

async function readRawS3(store: S3Store, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await rawS3Client().getObject(bucketOf(store), key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
