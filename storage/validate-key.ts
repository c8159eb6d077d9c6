import { InvalidKeyError } from './errors';

/**
 * No '+': versitygw ignores ListObjectsV2's `encoding-type=url` and returns keys raw, while the minio
 * client URL-decodes them, so `a+b` came back from a listing as `a b` there (MinIO encodes and lists
 * it right). Tested in test/store.test.ts ("lists every allowed key character back unchanged").
 */
const SEGMENT = /^[A-Za-z0-9._=@-]+$/;

/**
 * Keys are relative paths of safe segments. Rejecting '..', empty segments and odd characters
 * keeps the local-disk store inside its root and keeps keys identical on every S3 server.
 */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 900) throw new InvalidKeyError(key, 'length must be 1..900');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `segment "${segment}" is not allowed`);
    if (!SEGMENT.test(segment)) throw new InvalidKeyError(key, `segment "${segment}" has characters outside [A-Za-z0-9._=@-]`);
  }
}

/** A prefix is a key or a key followed by '/', or empty for everything. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}
