/**
 * The object store every activity shares: the only hand-off between stages and machines.
 *
 * Keys are relative, '/'-separated paths (see keys.ts for the layout). Every object carries
 * the sha256 of its bytes, recorded at write time and verified at read time, so a truncated
 * or corrupted object is reported instead of silently fed to the next stage.
 */
export interface StoredObject {
  key: string;
  size: number;
  sha256: string;
}

export interface Store {
  /** Human-readable location without secrets, e.g. `fs:/data/bloomsight` or `s3://127.0.0.1:9000/bloomsight`. */
  readonly location: string;
  /** Writes bytes atomically: readers see the old object or the whole new one, never a part. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<StoredObject>;
  /** Uploads a local file (streamed; for videos and large exports). */
  putFile(key: string, path: string, options?: PutOptions): Promise<StoredObject>;
  /** Reads and verifies. Throws ObjectNotFoundError or CorruptObjectError. */
  get(key: string): Promise<Buffer>;
  /** Downloads to a local file, verifying the checksum before the file appears at `path`. */
  getFile(key: string, path: string): Promise<StoredObject>;
  /** Size and checksum without reading the body; undefined when absent (or never completed). */
  stat(key: string): Promise<StoredObject | undefined>;
  exists(key: string): Promise<boolean>;
  /** Every complete object whose key starts with `prefix`, sorted by key (checksums are not listed). */
  list(prefix: string): Promise<ListedObject[]>;
  /** Removes the object; absent keys are not an error. */
  delete(key: string): Promise<void>;
}

export interface ListedObject {
  key: string;
  size: number;
}

export interface PutOptions {
  contentType?: string;
}
