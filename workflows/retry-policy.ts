/**
 * Error types that no retry can fix: bad input and unrecoverable data. Activities throw these
 * library errors as they are (Temporal takes the error's name as its type); the workflows' retry
 * policies name them so Temporal stops at once instead of retrying for hours.
 */
export const PERMANENT_ERROR_TYPES = [
  'InvalidKeyError', // a store key that could escape the store root
  'InvalidRunInput', // input that fails the run's schema
  'ConfigError',
  'ProviderAuthError', // the search provider refused our key: fix the configuration
  'ProviderRequestError',
  'ProviderResponseError',
  'ProviderConfigError', // unknown provider, missing secret, unreadable folder
  'InvalidSearchDateError',
  'DatasetError', // no usable images, or a dataset the model cannot train on
  'ModelTooLargeError', // the configuration cannot fit in memory
  'ExportError', // a model export that is missing or incompatible
] as const;
