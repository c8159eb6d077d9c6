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
import { freshS3Store, s3Server, s3ServerOf } from './helpers/services';

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
  ...(['versitygw', 'minio'] as const).map((server): Subject => ({
    name: `S3 store (${server})`,
    make: () => freshS3Store('store-suite', server),
    async corrupt(store, key, how) {
      // Rewrite the object with the same recorded checksum but different bytes: what a bad disk or a
      // half-finished copy by another tool would leave behind.
      const s3 = store as S3Store;
      const info = await s3.stat(key);
      const original = await readRawS3(s3, key);
      const damaged = how === 'truncate' ? original.subarray(0, 3) : Buffer.from(original.map((b, i) => (i === 0 ? b ^ 0xff : b)));
      await rawS3Client(s3).putObject(bucketOf(s3), key, damaged, damaged.length, { 'X-Amz-Meta-bloomsight-sha256': info!.sha256 });
    },
  })),
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

  it('lists every allowed key character back unchanged', async () => {
    const key = 'chars/Az09._=@-.x/v=1@2_3-4.5';
    await store.put(key, Buffer.from('k'));
    expect((await store.list('chars/')).map((o) => o.key)).toEqual([key]);
    expect((await store.get(key)).toString()).toBe('k');
  });

  it.each(['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a b', 'a/..', '', 'a+b'])('refuses the hostile key %j', async (key) => {
    await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
  });
});

describe.each(['versitygw', 'minio'] as const)('S3 store against the real server (%s)', (server) => {
  it('writes an object that an independent S3 client (awscli) reads back byte for byte', async () => {
    const s3 = s3Server(server);
    const store = await freshS3Store('awscli', server);
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

  it('creates its bucket once when several workers start at the same moment', async () => {
    const s3 = s3Server(server);
    const bucket = `t-race-${Date.now().toString(36)}`;
    await Promise.all(Array.from({ length: 4 }, () => new S3Store({ ...s3, bucket }).ensureBucket()));
    await new S3Store({ ...s3, bucket }).put('x', Buffer.from('x'));
  });

  // A difference between the servers the project handles by its key layout (storage/keys.ts: no key is
  // ever the folder of another). versitygw keeps objects as files, so it refuses `a` beside `a/b`, as the
  // local-disk store would; MinIO stores both. A layout mistake would pass unnoticed on MinIO, so the
  // pipeline test on MinIO checks the rule on everything a run wrote.
  it(`${server === 'minio' ? 'stores' : 'refuses'} an object beside a folder of the same name`, async () => {
    const store = await freshS3Store('parent-object', server);
    await store.put('a/b', Buffer.from('file'));
    const nested = store.put('a/b/c', Buffer.from('nested')).then(() => 'stored', (e: { code?: string }) => e.code);
    expect(await nested).toBe(server === 'minio' ? 'stored' : 'ObjectParentIsFile');
  });

  // Why store keys exclude '+' (storage/key.ts): versitygw ignores ListObjectsV2's encoding-type=url,
  // and the minio client URL-decodes what it lists.
  it(`lists a key with '+' ${server === 'minio' ? 'unchanged' : "with a space for the '+'"}`, async () => {
    const store = await freshS3Store('plus', server);
    await rawS3Client(store).putObject(bucketOf(store), 'plus/a+b', Buffer.from('p'));
    expect((await store.list('plus/')).map((o) => o.key)).toEqual([server === 'minio' ? 'plus/a+b' : 'plus/a b']);
  });

  it('refuses wrong credentials with StoreUnavailableError, without echoing the secret', async () => {
    const store = new S3Store({ ...s3Server(server), bucket: 'bloomsight', secretKey: 'wrong-secret-value' });
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

function rawS3Client(store: S3Store): Client {
  const s3 = s3ServerOf(store)!;
  const url = new URL(s3.endpoint);
  return new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, pathStyle: true });
}

async function readRawS3(store: S3Store, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await rawS3Client(store).getObject(bucketOf(store), key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
