/**
 * The non-retryable error types come from the error classes themselves, in one place
 * (workflows/retry-policy.ts): each listed class's instances carry its name as their type, every
 * error class of the libraries is classified one way or the other, and on the real server a
 * deterministic model error fails the run on its first attempt instead of twenty.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as activityErrors from '../activities/errors';
import * as configErrors from '../config/errors';
import * as imagingErrors from '../imaging/errors';
import * as modelErrors from '../model/errors';
import * as serviceErrors from '../services/errors';
import * as sourceErrors from '../sources/errors';
import * as providerErrors from '../sources/providers/errors';
import * as storageErrors from '../storage/errors';
import type { Store } from '../storage';
import * as videoErrors from '../video/errors';
import { learnToSee } from '../workflows/learn-to-see';
import { PERMANENT_ERROR_TYPES, PERMANENT_ERRORS, retryPolicy } from '../workflows/retry-policy';
import { PHOTOS_DIR } from './helpers/http-fixtures';
import { modelTestBackend } from './helpers/model';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';

type ErrorClass = new (...args: never[]) => Error;

/** Every error class the libraries export, by module. */
const MODULES = { activityErrors, configErrors, imagingErrors, modelErrors, serviceErrors, sourceErrors, providerErrors, storageErrors, videoErrors };
const ALL_ERRORS = Object.values(MODULES).flatMap((module) =>
  Object.values(module).filter((value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof Error && value.name !== 'ProviderError'),
);

/** Errors a retry can fix, each for a stated reason; everything else must be in PERMANENT_ERRORS. */
const RETRYABLE_ON_PURPOSE: Record<string, string> = {
  ObjectNotFoundError: 'another activity may still write it',
  CorruptObjectError: 'a read cut short by a dying server looks the same as damage; the next read decides',
  StoreUnavailableError: 'the store comes back',
  ProviderUnavailableError: 'the provider comes back',
  FfmpegError: 'ffmpeg killed by a signal or out of memory',
  TrainingAbortedError: 'the attempt was cancelled or timed out; the next one resumes',
  ImageDecodeError: 'handled per image (recorded as a failure), never thrown out of an activity',
  ServiceStartError: 'a service that was slow to start',
  WorkerShutdownError: 'a drained gpu worker checkpointed the step it reached; the next worker continues from it',
};

/** Constructor arguments that make a valid instance of each class. */
function instantiate(errorClass: ErrorClass): Error {
  const make = errorClass as unknown as new (...args: unknown[]) => Error;
  switch (errorClass.name) {
    case 'ModelTooLargeError': {
      const options = { imageSize: 256, ngf: 64, ndf: 64, batchSize: 1 };
      const estimate = { totalBytes: 1, parameterBytes: 1, activationBytes: 1, dataBytes: 1, overheadBytes: 1 };
      return new make(options, estimate, 1, undefined);
    }
    case 'TrainingDivergedError':
      return new make(3, { gGan: Number.NaN, gL1: 0, g: 0, d: 0, dReal: 0, dFake: 0 });
    case 'ChunkRangeError':
      return new make('a.mp4', 0, 1);
    case 'FfmpegError':
      return new make('ffmpeg', 1, null, '');
    default:
      return new make('provider-or-file', 'detail', 'more');
  }
}

describe('the non-retryable error types', () => {
  it('are the names each listed class gives its instances (the type Temporal matches)', () => {
    expect(PERMANENT_ERRORS.length).toBeGreaterThan(15);
    for (const errorClass of PERMANENT_ERRORS) {
      expect(instantiate(errorClass as unknown as ErrorClass).name, errorClass.name).toBe(errorClass.name);
    }
    expect(PERMANENT_ERROR_TYPES).toEqual(PERMANENT_ERRORS.map((e) => e.name));
    expect(new Set(PERMANENT_ERROR_TYPES).size).toBe(PERMANENT_ERROR_TYPES.length);
    expect(retryPolicy({ maximumAttempts: 3 }).nonRetryableErrorTypes).toEqual([...PERMANENT_ERROR_TYPES]);
  });

  it('cover every library error class that is not retryable on purpose (a new class must be classified)', () => {
    const unclassified = ALL_ERRORS.map((e) => e.name).filter((name) => !PERMANENT_ERROR_TYPES.includes(name) && !(name in RETRYABLE_ON_PURPOSE));
    expect(unclassified).toEqual([]);
    const both = Object.keys(RETRYABLE_ON_PURPOSE).filter((name) => PERMANENT_ERROR_TYPES.includes(name));
    expect(both).toEqual([]);
    // The deterministic model failures named by the issue are among them.
    expect(PERMANENT_ERROR_TYPES).toEqual(expect.arrayContaining(['TrainingDivergedError', 'IncompatibleCheckpointError', 'WeightMismatchError']));
  });

  it("agree with the provider errors' own retryable flags", () => {
    for (const errorClass of Object.values(providerErrors)) {
      if (typeof errorClass !== 'function' || errorClass.name === 'ProviderError') continue;
      const instance = instantiate(errorClass as unknown as ErrorClass) as providerErrors.ProviderError;
      expect(PERMANENT_ERROR_TYPES.includes(instance.name), instance.name).toBe(!instance.retryable);
    }
  });
});

const { skipReason } = await modelTestBackend();

describe.skipIf(skipReason !== undefined)('a deterministic model error on the real server', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  beforeAll(async () => {
    store = await freshS3Store('retry-policy');
    config = testConfig('retry policy', store);
    env = await startTestWorkers(config, store);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('fails the run on the first attempt: fine-tuning from a generator of another size (WeightMismatchError)', async () => {
    const { io, cpu, gpu } = config.temporal.taskQueues;
    const input = (runKey: string, train: Record<string, unknown>, fineTuneFrom?: string) => ({
      runKey,
      provider: 'local-folder' as const,
      providerOptions: { path: PHOTOS_DIR },
      maxItems: 4,
      train: { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 3, ...train },
      fineTuneFrom,
      taskQueues: { io, cpu, gpu },
    });
    const base = `base-${randomUUID().slice(0, 8)}`;
    await env.client.workflow.execute(learnToSee, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: base, args: [input(base, {})] });

    const runKey = `mismatch-${randomUUID().slice(0, 8)}`;
    const run = env.client.workflow.execute(learnToSee, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: runKey, args: [input(runKey, { ngf: 16 }, base)] });
    const error = await Promise.race([run.catch((e: unknown) => e), sleep(60_000).then(() => new Error('still retrying after 60 s'))]);
    if (!(error instanceof WorkflowFailedError)) await env.client.workflow.getHandle(runKey).terminate('test over').catch(() => {});
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const activity = (error as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect((activity as ActivityFailure).activityType).toBe('trainModel');
    expect((activity as ActivityFailure).retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    expect(((activity as ActivityFailure).cause as ApplicationFailure).type).toBe('WeightMismatchError');
    // One attempt: the retry policy's first back-off alone is 5 s.
    const history = await env.client.workflow.getHandle(runKey).fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
    expect(Math.max(...attempts)).toBe(1);
  });
});
