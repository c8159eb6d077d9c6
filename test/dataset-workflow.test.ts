import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetManifestSchema } from '../activities/dataset-records';
import { splitPair } from '../imaging';
import { startTemporalDevServer, type TemporalDevServer } from '../services/temporal-server';
import { getJson, keys, type Store } from '../storage';
import { buildDataset, type BuildDatasetInput } from '../workflows/build-dataset';
import { loadPhotos, sendBytes, startRouteServer, type Handler } from './helpers/http-fixtures';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';

/** The fixture photos plus a broken and a missing URL, counting requests per path. */
async function photoServer() {
  const photos = await loadPhotos();
  const userAgents = new Set<string>();
  const routes: Record<string, Handler> = Object.fromEntries(
    photos.map((p) => [`/${p.name}`, (req, res) => (userAgents.add(String(req.headers['user-agent'])), sendBytes(res, p.bytes, 'image/jpeg'))] as const),
  );
  routes['/broken.jpg'] = (_req, res) => sendBytes(res, Buffer.from('<html>not an image</html>'), 'image/jpeg');
  const server = await startRouteServer(routes);
  const urls = [...photos.map((p) => server.url(`/${p.name}`)), server.url('/broken.jpg'), server.url('/missing.jpg')];
  const totalHits = () => [...photos.map((p) => `/${p.name}`), '/broken.jpg', '/missing.jpg'].reduce((sum, path) => sum + server.hits(path), 0);
  return { server, urls, totalHits, userAgents, close: () => server.close() };
}

describe('buildDataset on the real Temporal server and S3 store', () => {
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  let photos: Awaited<ReturnType<typeof photoServer>>;
  beforeAll(async () => {
    store = await freshS3Store('dataset');
    photos = await photoServer();
    config = testConfig('dataset workflow', store);
    config.download.allowHosts = [new URL(photos.server.origin).host];
    config.download.userAgent = 'bloomsight-test/1.0 (tests@example.org)';
    env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
  });
  afterAll(async () => {
    await env?.stop();
    await photos?.close();
  });

  const input = (runKey: string, urlListKey: string): BuildDatasetInput => ({
    runKey,
    query: 'flowers',
    provider: 'url-list',
    providerOptions: { key: urlListKey },
    maxItems: 100,
    imageSize: 64,
    fit: 'centre',
    partial: { method: 'kmeans', k: 7, paint: 'palette', blurSigma: 0, seed: 0x5eed },
    batchSize: 3,
    parallelBatches: 2,
    taskQueues: config.temporal.taskQueues,
  });

  it('turns a URL list into a dataset manifest of A|B pairs, records failures, and redoes nothing when run again', async () => {
    const urls = photos.urls;
    const listKey = `inputs/${randomUUID()}.txt`;
    await store.put(listKey, Buffer.from(urls.join('\n')));
    const runKey = `ds-${randomUUID().slice(0, 8)}`;
    const run = () =>
      env.client.workflow.execute(buildDataset, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: `${runKey}-${randomUUID()}`, args: [input(runKey, listKey)] });

    const first = await run();
    expect(first).toMatchObject({ found: 10, pairs: 8, downloaded: 8, failed: 2 });
    const manifest = await getJson(store, keys.datasetManifest(first.datasetId), DatasetManifestSchema);
    expect(manifest.pairs).toHaveLength(8);
    const pair = await splitPair(await store.get(manifest.pairs[0]!.key));
    expect([pair.a.width, pair.a.height, pair.b.width, pair.b.height]).toEqual([64, 64, 64, 64]);
    const hitsAfterFirst = photos.totalHits();
    expect([...photos.userAgents]).toEqual(['bloomsight-test/1.0 (tests@example.org)']); // the configured one, on every download

    const second = await run();
    expect(second.datasetId).toBe(first.datasetId);
    expect(photos.totalHits()).toBe(hitsAfterFirst); // zero new downloads
  });
});

describe('buildDataset on a server that suggests continue-as-new after 40 history events', () => {
  let dir: string;
  let temporal: TemporalDevServer;
  let store: Store;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let config: ReturnType<typeof testConfig>;
  let photos: Awaited<ReturnType<typeof photoServer>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bloomsight-continue-as-new-'));
    // The production default is 4096 events; a small threshold makes a 10-batch dataset continue as new several times.
    temporal = await startTemporalDevServer({ dir, ui: false, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 } });
    store = await freshS3Store('dataset-can');
    photos = await photoServer();
    config = testConfig('dataset continue as new', store);
    config.temporal.address = temporal.address;
    config.download.allowHosts = [new URL(photos.server.origin).host];
    env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
  });
  afterAll(async () => {
    await env?.stop();
    await photos?.close();
    await temporal?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('continues as new carrying its cursor, fetches every URL once and builds the same dataset', async () => {
    const listKey = `inputs/${randomUUID()}.txt`;
    await store.put(listKey, Buffer.from(photos.urls.join('\n')));
    const runKey = `can-${randomUUID().slice(0, 8)}`;
    const workflowId = `${runKey}-dataset`;
    const input: BuildDatasetInput = {
      runKey,
      query: 'flowers',
      provider: 'url-list',
      providerOptions: { key: listKey },
      maxItems: 100,
      imageSize: 64,
      fit: 'centre',
      partial: { method: 'kmeans', k: 7, paint: 'palette', blurSigma: 0, seed: 0x5eed },
      batchSize: 1,
      parallelBatches: 2,
      taskQueues: config.temporal.taskQueues,
    };
    const result = await env.client.workflow.execute(buildDataset, { taskQueue: config.temporal.taskQueues.pipeline, workflowId, args: [input] });
    expect(result).toMatchObject({ found: 10, batches: 10, pairs: 8, downloaded: 8, failed: 2 });

    const runs = [];
    for await (const execution of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(execution);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW')).toHaveLength(runs.length - 1);
    // Each new run started where the previous stopped: no URL was fetched twice, and only the first run scraped.
    for (const url of photos.urls) expect(photos.server.hits(new URL(url).pathname), url).toBe(1);
    const scrapes = await Promise.all(
      runs.map(async (r) => (await env.client.workflow.getHandle(workflowId, r.runId).fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scrapeImages').length),
    );
    expect(scrapes.reduce((a, b) => a + b, 0)).toBe(1);
    const manifest = await getJson(store, keys.datasetManifest(result.datasetId), DatasetManifestSchema);
    expect(manifest.pairs).toHaveLength(8);
  });
});
