import { createServer, type Server } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetManifestSchema } from '../activities/dataset-records';
import { splitPair } from '../imaging';
import { getJson, keys, type Store } from '../storage';
import { buildDataset, type BuildDatasetInput } from '../workflows/build-dataset';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';

const PHOTOS = join(__dirname, 'fixtures', 'photos');

/** Serves the fixture photos plus a few broken URLs, counting requests per path. */
async function photoServer() {
  const names = (await readdir(PHOTOS)).filter((n) => n.endsWith('.jpg')).sort();
  const bodies = new Map(await Promise.all(names.map(async (n) => [`/${n}`, await readFile(join(PHOTOS, n))] as const)));
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const body = bodies.get(req.url!);
    if (req.url === '/broken.jpg') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end('<html>not an image</html>');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  return { server, base, names, hits, close: () => new Promise((r) => server.close(r)) };
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
    config.download.allowHosts = [new URL(photos.base).host];
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
    const urls = [...photos.names.map((n) => `${photos.base}/${n}`), `${photos.base}/broken.jpg`, `${photos.base}/missing.jpg`];
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
    const hitsAfterFirst = [...photos.hits.values()].reduce((a, b) => a + b, 0);

    const second = await run();
    expect(second.datasetId).toBe(first.datasetId);
    expect([...photos.hits.values()].reduce((a, b) => a + b, 0)).toBe(hitsAfterFirst); // zero new downloads
  });
});
