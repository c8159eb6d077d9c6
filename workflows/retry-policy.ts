/**
 * Error types that no retry can fix: bad input and unrecoverable data. Activities throw these
 * library errors as they are; the workflow's retry policies name them so Temporal stops at once.
 */
export const PERMANENT_ERROR_TYPES = [
  'InvalidKeyError', // a store key that could escape the store root
  'InvalidRunInput', // input that fails the run's schema
  'ConfigError',
] as const;
