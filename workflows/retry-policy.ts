/**
 * Which failures no retry can fix, as the error classes themselves: the one place that decides it.
 * Activities throw library errors as they are (Temporal takes the error's `name` as its type); every
 * retry policy of every workflow takes its non-retryable types from here, so a deterministic failure
 * fails the run at once, naming the problem, instead of being retried for hours.
 *
 * Safe in the workflow sandbox: each module imported here holds error classes only and imports
 * nothing at run time. Not listed, because a retry can help: the store being away
 * (StoreUnavailableError), a missing or damaged object (it may be rewritten, or a read was cut
 * short), a provider that is down (ProviderUnavailableError), ffmpeg killed by a signal
 * (FfmpegError), an aborted attempt (TrainingAbortedError).
 */
import type { RetryPolicy } from '@temporalio/common';
import { ExportError, IncomparableRendersError } from '../activities/errors';
import { ConfigError } from '../config/errors';
import { ImageShapeError } from '../imaging/errors';
import {
  CheckpointCorruptError,
  DatasetError,
  ExportCorruptError,
  ExportNotFoundError,
  IncompatibleCheckpointError,
  InferenceInputError,
  ModelTooLargeError,
  OptimizerStateMismatchError,
  TrainingDivergedError,
  WeightMismatchError,
} from '../model/errors';
import { MissingBinaryError } from '../platform/errors';
import { InvalidSearchDateError } from '../sources/errors';
import { ProviderAuthError, ProviderConfigError, ProviderRequestError, ProviderResponseError } from '../sources/providers/errors';
import { InvalidKeyError } from '../storage/errors';
import { ChunkRangeError, EmptyVideoError, NotAVideoError } from '../video/errors';

/** Error classes whose failures are deterministic: the same input fails the same way on every attempt. */
export const PERMANENT_ERRORS = [
  // Bad configuration or input.
  ConfigError,
  InvalidKeyError, // a store key that could escape the store root
  InvalidSearchDateError,
  ProviderAuthError, // the search provider refused our key: fix the configuration
  ProviderRequestError, // the provider rejected the request itself (4xx)
  ProviderResponseError, // the provider answered with something unreadable
  ProviderConfigError, // unknown provider, missing secret, unreadable folder
  // Data the model cannot use.
  DatasetError, // no usable images, or a dataset the model cannot train on
  ModelTooLargeError, // the configuration cannot fit in memory
  TrainingDivergedError, // the same steps diverge the same way again
  IncompatibleCheckpointError, // the checkpoint was trained with other options
  WeightMismatchError, // saved weights belong to another network
  OptimizerStateMismatchError,
  CheckpointCorruptError, // a named checkpoint is damaged (resuming skips damaged ones by itself)
  ExportError, // no complete checkpoint to export
  ExportNotFoundError,
  ExportCorruptError,
  InferenceInputError,
  ImageShapeError, // a caller's bug, not bad luck
  // Video.
  NotAVideoError,
  EmptyVideoError,
  ChunkRangeError,
  IncomparableRendersError, // renders of other lengths, rates or sizes cannot be put side by side
  MissingBinaryError, // ffmpeg is not installed on the worker
] as const;

/** The error type names Temporal matches (an error's type is its `name`, which equals its class name). */
export const PERMANENT_ERROR_TYPES: readonly string[] = PERMANENT_ERRORS.map((error) => error.name);

/** A retry policy that never retries a permanent error. */
export function retryPolicy(policy: Omit<RetryPolicy, 'nonRetryableErrorTypes'>): RetryPolicy {
  return { ...policy, nonRetryableErrorTypes: [...PERMANENT_ERROR_TYPES] };
}
