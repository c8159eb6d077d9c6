import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { gpuSupport } from '../services/cuda';
import type { Store } from '../storage';
import { storeProbe } from '../workflows/probe';
import { freshS3Store, testServices } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';
import { runWorkerToExit } from './helpers/worker-process';

describe('the first workflow on the real Temporal server and the real S3 store', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  beforeAll(async () => {
    store = await freshS3Store('foundation');
    config = testConfig('foundation probe', store);
    env = await startTestWorkers(config, store, ['pipeline', 'io']);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('runs an io-queue activity that writes an object to S3 and reads it back', async () => {
    const key = `probes/${randomUUID()}.txt`;
    const result = await env.client.workflow.execute(storeProbe, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: `probe-${randomUUID()}`,
      args: [{ key, text: 'hello from the io queue', taskQueues: config.temporal.taskQueues }],
    });
    expect(result.location).toBe(store.location);
    expect((await store.get(key)).toString()).toBe('hello from the io queue');
  });

  it('fails the workflow with a non-retryable error for a hostile key, after one attempt', async () => {
    const error = await env.client.workflow
      .execute(storeProbe, {
        taskQueue: config.temporal.taskQueues.pipeline,
        workflowId: `probe-${randomUUID()}`,
        args: [{ key: '../outside', taskQueues: config.temporal.taskQueues }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause?.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidKeyError');
    expect((cause as ApplicationFailure).message).toContain('../outside');
    expect((error as WorkflowFailedError).cause).toMatchObject({ retryState: RetryState.NON_RETRYABLE_FAILURE });
  });
});

describe('a worker process refuses to start on bad configuration', () => {
  it('exits 3 and names the endpoint when the S3 store is unreachable', async () => {
    const { temporal } = testServices();
    const { code, output } = await runWorkerToExit('io', {
      BLOOMSIGHT_TEMPORAL__ADDRESS: temporal.address,
      BLOOMSIGHT_STORE__KIND: 's3',
      BLOOMSIGHT_STORE__ENDPOINT: 'http://127.0.0.1:9',
      BLOOMSIGHT_STORE__ACCESS_KEY: 'key',
      BLOOMSIGHT_STORE__SECRET_KEY: 'very-secret-value',
    });
    expect(code).toBe(3);
    expect(output).toContain('s3://127.0.0.1:9/bloomsight is unavailable');
    expect(output).not.toContain('very-secret-value');
  });

  it('exits 3 when the S3 server refuses the credentials', async () => {
    const { temporal, s3 } = testServices();
    const { code, output } = await runWorkerToExit('io', {
      BLOOMSIGHT_TEMPORAL__ADDRESS: temporal.address,
      BLOOMSIGHT_STORE__KIND: 's3',
      BLOOMSIGHT_STORE__ENDPOINT: s3.endpoint,
      BLOOMSIGHT_STORE__ACCESS_KEY: s3.accessKey,
      BLOOMSIGHT_STORE__SECRET_KEY: 'not-the-secret',
    });
    expect(code).toBe(3);
    expect(output).toMatch(/credentials rejected/);
    expect(output).not.toContain('not-the-secret');
  });

  it.each([
    [{ BLOOMSIGHT_STORE__KIND: 's3', BLOOMSIGHT_STORE__ENDPOINT: 'ftp://x', BLOOMSIGHT_STORE__ACCESS_KEY: 'a', BLOOMSIGHT_STORE__SECRET_KEY: 'b' }, 'store.endpoint'],
    [{ BLOOMSIGHT_STORE__KIND: 'floppy' }, 'store.kind'],
    [{ BLOOMSIGHT_WORKERS__GPU__CONCURRENCY: '0' }, 'workers.gpu.concurrency'],
    [{ BLOOMSIGHT_TEMPORAL__ADDRESS: 'no-port-here' }, 'temporal.address'],
  ])('exits 2 naming the field for %j', async (env, field) => {
    const { code, output } = await runWorkerToExit('cpu', env);
    expect(code).toBe(2);
    expect(output).toContain(field);
  });

  it('exits 3 at start when the gpu worker requires a TensorFlow backend it cannot load', async () => {
    const { temporal } = testServices();
    const { code, output } = await runWorkerToExit('gpu', {
      BLOOMSIGHT_TEMPORAL__ADDRESS: temporal.address,
      BLOOMSIGHT_STORE__ROOT: '/tmp/bloomsight-gpu-backend-test',
      BLOOMSIGHT_WORKERS__GPU__BACKEND: 'tensorflow-gpu',
      BLOOMSIGHT_WORKERS__GPU__REQUIRE_BACKEND: 'true',
    });
    expect(code).toBe(3);
    expect(output).toContain("backend 'tensorflow-gpu' is required but unavailable");
    // What is missing, named (services/cuda.ts): no machine that runs these tests has an NVIDIA driver.
    expect(output).toMatch(/libtensorflow [\d.]+ found no GPU device/);
    expect(output).toContain('no NVIDIA driver');
    expect(output).toContain('libcudnn.so.9');
    if (gpuSupport().tensorflowBuild === 'tensorflow-cpu') expect(output).toContain('CPU-only build');
  });

  it("exits 3 at start when the gpu worker requires ONNX Runtime's CUDA provider and it does not load", async () => {
    const { temporal } = testServices();
    const { code, output } = await runWorkerToExit('gpu', {
      BLOOMSIGHT_TEMPORAL__ADDRESS: temporal.address,
      BLOOMSIGHT_STORE__ROOT: '/tmp/bloomsight-gpu-inference-test',
      BLOOMSIGHT_WORKERS__GPU__INFERENCE: 'cuda',
    });
    expect(code).toBe(3);
    expect(output).toContain("ONNX Runtime's CUDA execution provider did not load");
    expect(output).toMatch(/libonnxruntime_providers|Failed to load shared library/);
    expect(output).toContain('workers.gpu.inference=cpu');
  });

  it('exits 3 naming the address when Temporal is unreachable', async () => {
    const { code, output } = await runWorkerToExit('io', { BLOOMSIGHT_TEMPORAL__ADDRESS: '127.0.0.1:9', BLOOMSIGHT_STORE__ROOT: '/tmp/bloomsight-unreachable-test' });
    expect(code).toBe(3);
    expect(output).toContain('127.0.0.1:9');
  });
});
