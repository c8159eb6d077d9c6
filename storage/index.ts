/**
 * The object store: one interface, two implementations (local disk, S3), chosen by configuration.
 * Library code: knows nothing of Temporal.
 */
import { resolve } from 'node:path';
import type { StoreConfig } from '../config/runtime';
import { FsStore } from './fs-store';
import { S3Store } from './s3-store';
import type { Store } from './store';

export type { ListedObject, PutOptions, Store, StoredObject } from './store';
export { CorruptObjectError, InvalidKeyError, ObjectNotFoundError, StoreUnavailableError } from './errors';
export { FsStore } from './fs-store';
export { S3Store } from './s3-store';
export { getJson, putJson } from './json';
export { keys } from './keys';

export function createStore(config: StoreConfig): Store {
  if (config.kind === 'fs') return new FsStore(resolve(config.root));
  return new S3Store(config);
}

/** Creates the store and proves it is usable (bucket reachable, credentials accepted) before work starts. */
export async function openStore(config: StoreConfig): Promise<Store> {
  const store = createStore(config);
  if (store instanceof S3Store) await store.ensureBucket();
  return store;
}
