/** Thrown by Store.get/getFile when no complete object exists under the key. */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string, readonly location: string) {
    super(`object not found: ${key} (in ${location})`);
  }
}

/**
 * Thrown by Store.get/getFile when the bytes read do not match the checksum recorded at write
 * time (truncated upload, bit rot, a hand-edited file) or the checksum record is missing.
 */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObjectError';
  constructor(readonly key: string, readonly location: string, readonly detail: string) {
    super(`corrupt object ${key} in ${location}: ${detail}`);
  }
}

/** Thrown for a key that could escape the store root or that S3 would mangle. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
  constructor(readonly key: string, reason: string) {
    super(`invalid store key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** Thrown when the store cannot be reached or refuses our credentials; names the endpoint. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(readonly location: string, detail: string) {
    super(`store ${location} is unavailable: ${detail}`);
  }
}
