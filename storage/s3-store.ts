import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'minio';
import { sha256, sha256File } from './checksum';
import { CorruptObjectError, ObjectNotFoundError, StoreUnavailableError } from './errors';
import { assertValidKey, assertValidPrefix } from './validate-key';
import type { ListedObject, PutOptions, Store, StoredObject } from './store';

export interface S3StoreOptions {
  /** e.g. http://127.0.0.1:9000 or https://s3.example.com */
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

/** User metadata header carrying the sha256 recorded at write time. */
const SHA_META = 'bloomsight-sha256';

/**
 * The S3-compatible store (MinIO in production; SeaweedFS, versitygw or AWS S3 work too).
 * S3 PUTs are atomic per object (multipart uploads appear only on completion), so the
 * checksum travels as user metadata on the same object.
 */
export class S3Store implements Store {
  readonly location: string;
  private readonly client: Client;
  private readonly bucket: string;

  constructor(options: S3StoreOptions) {
    const url = new URL(options.endpoint);
    this.bucket = options.bucket;
    this.location = `s3://${url.host}/${options.bucket}`;
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      useSSL: url.protocol === 'https:',
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      // An explicit region skips GetBucketLocation, whose reply differs between servers.
      region: options.region,
      pathStyle: true,
    });
  }

  /** Fails fast with a clear error when the server is unreachable or refuses the credentials. */
  async ensureBucket(): Promise<void> {
    await this.call('', async () => {
      if (!(await this.client.bucketExists(this.bucket))) {
        // Workers starting together race to create it; both MinIO and versitygw answer the loser with
        // BucketAlreadyOwnedByYou (AWS in us-east-1 answers 200), which means the bucket is there.
        await this.client.makeBucket(this.bucket, '').catch((error: { code?: string }) => {
          if (error.code !== 'BucketAlreadyOwnedByYou') throw error;
        });
      }
    });
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<StoredObject> {
    assertValidKey(key);
    const object: StoredObject = { key, size: body.byteLength, sha256: sha256(body) };
    await this.call(key, () =>
      this.client.putObject(this.bucket, key, Buffer.from(body.buffer, body.byteOffset, body.byteLength), body.byteLength, this.metadata(object, options)),
    );
    return object;
  }

  async putFile(key: string, path: string, options?: PutOptions): Promise<StoredObject> {
    assertValidKey(key);
    const { sha256: sum, size } = await sha256File(path);
    const object: StoredObject = { key, size, sha256: sum };
    await this.call(key, () => this.client.fPutObject(this.bucket, key, path, this.metadata(object, options)));
    return object;
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key);
    const response = (await this.call(key, () => this.client.getObject(this.bucket, key))) as IncomingMessage;
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    this.verify(key, response, bytes.byteLength, sha256(bytes));
    return bytes;
  }

  async getFile(key: string, path: string): Promise<StoredObject> {
    assertValidKey(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      const response = (await this.call(key, () => this.client.getObject(this.bucket, key))) as IncomingMessage;
      const hash = createHash('sha256');
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      await pipeline(response, createWriteStream(tmp));
      const sum = hash.digest('hex');
      this.verify(key, response, size, sum);
      await rename(tmp, path);
      return { key, size, sha256: sum };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    assertValidKey(key);
    try {
      const info = await this.call(key, () => this.client.statObject(this.bucket, key));
      return { key, size: info.size, sha256: String(info.metaData[SHA_META] ?? '') };
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<ListedObject[]> {
    assertValidPrefix(prefix);
    return this.call(prefix, async () => {
      const found: ListedObject[] = [];
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
        if (item.name) found.push({ key: item.name, size: item.size });
      }
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.call(key, () => this.client.removeObject(this.bucket, key));
  }

  private metadata(object: StoredObject, options?: PutOptions): Record<string, string> {
    return {
      'Content-Type': options?.contentType ?? 'application/octet-stream',
      [`X-Amz-Meta-${SHA_META}`]: object.sha256,
    };
  }

  private verify(key: string, response: IncomingMessage, size: number, sum: string): void {
    const expected = response.headers[`x-amz-meta-${SHA_META}`];
    if (typeof expected !== 'string' || expected === '') {
      throw new CorruptObjectError(key, this.location, 'no checksum recorded (written by something other than bloomsight?)');
    }
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length) && length !== size) {
      throw new CorruptObjectError(key, this.location, `expected ${length} bytes, received ${size}`);
    }
    if (expected !== sum) {
      throw new CorruptObjectError(key, this.location, `sha256 mismatch (expected ${expected}, found ${sum})`);
    }
  }

  /** Maps the client's errors onto the store's: absent objects, and an unreachable or refusing server. */
  private async call<T>(key: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code === 'NoSuchKey' || code === 'NotFound') throw new ObjectNotFoundError(key, this.location);
      if (code === 'NoSuchBucket') throw new StoreUnavailableError(this.location, `bucket "${this.bucket}" does not exist`);
      if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'].includes(code)) {
        throw new StoreUnavailableError(this.location, `credentials rejected (${code})`);
      }
      if (['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code)) {
        throw new StoreUnavailableError(this.location, `${code} (is the S3 server running?)`);
      }
      throw error;
    }
  }
}
