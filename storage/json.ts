import type { z } from 'zod';
import { CorruptObjectError } from './errors';
import type { Store, StoredObject } from './store';

export function putJson(store: Store, key: string, value: unknown): Promise<StoredObject> {
  return store.put(key, Buffer.from(JSON.stringify(value, null, 2)), { contentType: 'application/json' });
}

/** Reads JSON and, given a schema, validates it: a malformed document is reported as corrupt. */
export async function getJson<T = unknown>(store: Store, key: string, schema?: z.ZodType<T>): Promise<T> {
  const bytes = await store.get(key);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CorruptObjectError(key, store.location, `not valid JSON (${(error as Error).message})`);
  }
  if (!schema) return value as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CorruptObjectError(key, store.location, `unexpected content: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
