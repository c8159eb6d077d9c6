/**
 * The trust boundary on the real Temporal server and S3 store: whoever starts a run chooses among
 * what the operator configured (providers, folders) and cannot steer the workers' secrets, files
 * or network. Local capture servers stand in for hosts a hostile input would name; each test checks
 * they received nothing.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadRecordSchema } from '../activities/dataset-records';
import type { RunInputJson } from '../config/run-input';
import { getJson, keys, type Store } from '../storage';
import { buildDataset, type BuildDatasetInput } from '../workflows/build-dataset';
import { learnToSee } from '../workflows/learn-to-see';
import { loadPhotos, PHOTOS_DIR, sendBytes, sendJson, startRouteServer, startServer, type TestServer } from './helpers/http-fixtures';
import { freshS3Store, testServices } from './helpers/services';
import { startTestWorkers, testConfig, workflowBundle } from './helpers/temporal';

/** The innermost failure of a workflow error (workflow → child → activity → application failure). */
function innermost(error: unknown): Error & { type?: string; nonRetryable?: boolean } {
  let current = error as Error & { cause?: unknown };
  while (current.cause) current = current.cause as Error & { cause?: unknown };
  return current as Error & { type?: string; nonRetryable?: boolean };
}

/** The retry states along the failure chain (an activity refused after one attempt says NON_RETRYABLE_FAILURE). */
function retryStates(error: unknown): unknown[] {
  const states: unknown[] = [];
  for (let current = error as { cause?: unknown; retryState?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (current.retryState !== undefined) states.push(current.retryState);
  }
  return states;
}

describe('the trust boundary, on the real Temporal server and S3 store', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  let capture: TestServer;
  let openverse: TestServer;
  let images: TestServer;
  let stall: TestServer;

  beforeAll(async () => {
    const photos = await loadPhotos();
    store = await freshS3Store('trust');
    // Anything a hostile run input might point a worker at: it must never be asked anything.
    capture = await startServer((_req, res) => sendJson(res, 200, { result_count: 0, page_count: 0, page_size: 20, page: 1, results: [] }));
    images = await startRouteServer({
      ...Object.fromEntries(photos.map((p) => [`/${p.name}`, (_req: unknown, res: import('node:http').ServerResponse) => sendBytes(res, p.bytes, 'image/jpeg')])),
      '/to-store': (_req, res) => void res.writeHead(302, { location: `${testServices().s3.endpoint}/${store.location.split('/').pop()}/` }).end(),
    });
    // A self-hosted Openverse on this machine: trusted for searches, whose results point back at itself,
    // at the store, and at the allowed image host.
    openverse = await startRouteServer({
      '/v1/images/': (_req, res) => {
        const results = [
          { id: 'self', url: `${openverse.origin}/private/1.jpg` },
          { id: 'store', url: `${testServices().s3.endpoint}/${store.location.split('/').pop()}/runs/x.json` },
          { id: 'store-by-redirect', url: images.url('/to-store') },
          { id: 'allowed', url: images.url(`/${photos[0]!.name}`) },
        ];
        sendJson(res, 200, { result_count: results.length, page_count: 1, page_size: 20, page: 1, results });
      },
    });
    // Sends headers and a few bytes, then nothing.
    stall = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': '100000' });
      res.write(Buffer.alloc(16));
    });
    config = testConfig('trust boundary', store);
    config.providers.openverseBaseUrl = `${openverse.origin}/v1/`;
    // The image host, and (an operator's mistake) the store: the store must stay unreachable all the same.
    config.download.allowHosts = [new URL(images.origin).host, new URL(testServices().s3.endpoint).host, new URL(stall.origin).host];
    config.download.idleTimeoutSeconds = 0.3;
    config.download.urlBudgetSeconds = 1.5;
    env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
  });
  afterAll(async () => {
    await env?.stop();
    for (const server of [capture, images, openverse, stall]) await server?.close();
  });

  const startRun = (input: object) =>
    env.client.workflow.execute(learnToSee, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: `trust-${randomUUID()}`,
      args: [{ taskQueues: { io: config.temporal.taskQueues.io, cpu: config.temporal.taskQueues.cpu, gpu: config.temporal.taskQueues.gpu }, ...input } as RunInputJson],
    });

  const dataset = (input: Partial<BuildDatasetInput> & { runKey?: string }) =>
    env.client.workflow.execute(buildDataset, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: `trust-ds-${randomUUID()}`,
      args: [
        {
          runKey: `trust-${randomUUID().slice(0, 8)}`,
          query: 'flowers',
          provider: 'url-list',
          providerOptions: {},
          maxItems: 20,
          imageSize: 64,
          fit: 'centre',
          partial: { method: 'kmeans', k: 4, paint: 'palette', blurSigma: 0, seed: 1 },
          batchSize: 20,
          parallelBatches: 1,
          taskQueues: config.temporal.taskQueues,
          ...input,
        },
      ],
    });

  it('a run input naming a search endpoint fails at once, non-retryable, naming the field; the endpoint hears nothing', async () => {
    for (const provider of ['openverse', 'wikimedia', 'google'] as const) {
      const error = await startRun({ provider, providerOptions: { baseUrl: capture.url('/v1/') }, maxItems: 5 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = innermost(error);
      expect(cause).toMatchObject({ type: 'InvalidRunInput', nonRetryable: true });
      expect(cause.message).toContain(`providerOptions.baseUrl: a run cannot choose the search endpoint`);
      expect(cause.message).toContain(`providers.${provider}BaseUrl`);
    }
    expect(capture.requests).toEqual([]);
  });

  it('a run started with the old input shape (bypassing the run-input check) is refused by the io worker, naming the field, after one attempt', async () => {
    const error = await dataset({ provider: 'openverse', providerOptions: { baseUrl: capture.url('/v1/') } }).catch((e: unknown) => e);
    const cause = innermost(error);
    expect(cause).toMatchObject({ type: 'ProviderConfigError', nonRetryable: false });
    expect(cause.message).toMatch(/providerOptions\.baseUrl: a run cannot choose the search endpoint.*providers\.openverseBaseUrl/);
    expect(retryStates(error)).toContain(RetryState.NON_RETRYABLE_FAILURE);
    expect(capture.requests).toEqual([]);
  });

  it('local folders: only configured ones, by name or a path inside one; the reason is given', async () => {
    const outside = await startRun({ provider: 'local-folder', providerOptions: { path: '/etc' }, maxItems: 5 }).catch((e: unknown) => e);
    expect(innermost(outside)).toMatchObject({ type: 'ProviderConfigError' });
    expect(innermost(outside).message).toContain('providerOptions.path: /etc is outside every folder the operator configured (photos)');
    expect(retryStates(outside)).toContain(RetryState.NON_RETRYABLE_FAILURE);

    const unknown = await startRun({ provider: 'local-folder', providerOptions: { folder: 'home' }, maxItems: 5 }).catch((e: unknown) => e);
    expect(innermost(unknown).message).toContain('providerOptions.folder: no folder named "home" is configured (configured: photos)');

    // `..` never reaches a worker: the run input itself is refused.
    const climbing = await startRun({ provider: 'local-folder', providerOptions: { folder: 'photos', path: '../../..' }, maxItems: 5 }).catch((e: unknown) => e);
    expect(innermost(climbing)).toMatchObject({ type: 'InvalidRunInput', nonRetryable: true });
    expect(innermost(climbing).message).toContain("providerOptions.path: may not contain '..'");

    // The configured folder works by name (and, for runs of the old shape, by its absolute path).
    const byName = await dataset({ provider: 'local-folder', providerOptions: { folder: 'photos' }, maxItems: 2 });
    const byPath = await dataset({ provider: 'local-folder', providerOptions: { path: PHOTOS_DIR }, maxItems: 2 });
    expect([byName.downloaded, byPath.downloaded]).toEqual([2, 2]);
  });

  it('a host trusted for searches is not thereby allowed for images, and the store is never reached from an image URL or a redirect', async () => {
    const runKey = `trust-${randomUUID().slice(0, 8)}`;
    const result = await dataset({ runKey, provider: 'openverse', query: 'flowers', providerOptions: {} });
    expect(result).toMatchObject({ found: 4, downloaded: 1, failed: 3 });
    const { outcomes } = await getJson(store, keys.batchRecord(runKey, 0, 'download'), DownloadRecordSchema);
    const failures = Object.fromEntries(outcomes.flatMap((o) => (o.outcome === 'failed' ? [[o.url.includes('/private/') ? 'self' : o.url.includes('to-store') ? 'redirect' : 'store', o]] : [])));
    expect(failures.self).toMatchObject({ reason: 'blocked-address', retryable: false });
    expect(failures.store).toMatchObject({ reason: 'blocked-address' });
    expect(failures.store.detail).toContain('a service of this deployment');
    expect(failures.redirect).toMatchObject({ reason: 'blocked-address' });
    expect(failures.redirect.detail).toContain('a service of this deployment');
    expect(openverse.hits('/private/1.jpg')).toBe(0);
    expect(openverse.requests.every((path) => path.startsWith('/v1/images/'))).toBe(true);
  });

  it('a server that sends headers and stalls holds a download slot for the idle timeout, and a URL no longer than its budget', async () => {
    const started = Date.now();
    const photo = (await loadPhotos())[1]!.name;
    const result = await dataset({ providerOptions: { urls: [stall.url('/slow.jpg'), images.url(`/${photo}`)] } });
    const seconds = (Date.now() - started) / 1000;
    expect(result).toMatchObject({ found: 2, downloaded: 1, failed: 1 });
    expect(stall.hits('/slow.jpg')).toBe(2); // 0.3 s, a backoff of 0.5-1 s, then what is left of the 1.5 s budget
    expect(seconds).toBeLessThan(8); // 245 s before the budget; the rest is Temporal scheduling
  });

  it('limits what a run input may ask for: its size, inline URLs, maxItems', async () => {
    const run = (input: object) => startRun({ provider: 'url-list', ...input }).then(
      () => ({ type: 'none', message: 'the run was accepted' }) as ReturnType<typeof innermost>,
      (e: unknown) => innermost(e),
    );
    const tooMany = await run({ providerOptions: { urls: Array.from({ length: 1001 }, (_, i) => images.url(`/${i}.jpg`)) }, maxItems: 200_000 });
    expect(tooMany).toMatchObject({ type: 'InvalidRunInput', nonRetryable: true });
    expect(tooMany.message).toMatch(/maxItems: .*100000/);
    expect(tooMany.message).toMatch(/providerOptions\.urls: .*1000 items/);

    const tooLarge = await run({ providerOptions: { urls: Array.from({ length: 900 }, (_, i) => images.url(`/${'x'.repeat(200)}/${i}.jpg`)) } });
    expect(tooLarge).toMatchObject({ type: 'InvalidRunInput', nonRetryable: true });
    expect(tooLarge.message).toMatch(/\(input\): the run input has \d{6} characters of JSON; at most 131072/);
    expect(images.requests.some((path) => /^\/(\d+|x+\/\d+)\.jpg$/.test(path))).toBe(false); // nothing was fetched
  });
});

describe('runs started before the trust boundary', () => {
  // Recorded with learnToSee as it was before the trust boundary (see the fixtures' README): each run
  // had started its dataset child with the old input shape (an endpoint in providerOptions, a bare
  // path). They must replay unchanged on the new code; the io worker then refuses what they ask for.
  const dir = join(__dirname, 'fixtures', 'histories', 'before-trust-boundary');
  it.each(['learn-to-see-openverse-baseurl', 'learn-to-see-local-folder-path'])('%s replays without a nondeterminism error', async (name) => {
    const history = temporal.api.history.v1.History.decode(await readFile(join(dir, `${name}.history.bin`)));
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, name)).resolves.toBeUndefined();
  });
});
