/**
 * What Temporal adds per image to the dataset stages. The same activity functions run twice over
 * the same 1000 images served from a local HTTP server, each into a fresh local-disk store:
 *   plain    — called in a plain loop (batches, same concurrency), no Temporal;
 *   temporal — the buildDataset workflow on a real Temporal dev server with in-process workers.
 * Prints both wall times, images/s and the overhead ratio. Target: under 5 % for 1000 images.
 *   npx tsx bench/orchestration.ts [images=1000] [batchSize=50] [parallelBatches=4]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { parseConfig } from '../config/load';
import { startTemporalDevServer } from '../services/temporal-server';
import { FsStore } from '../storage';
import { createWorkers } from '../workers/create-workers';
import { buildDataset } from '../workflows/build-dataset';
import { benchDatasetSpec, runPlainDataset } from './lib/plain-dataset';
import { servePhotos, syntheticPhotos } from './lib/synthetic-photos';
import { printMachine } from './lib/machine';

const [count = 1000, batchSize = 50, parallelBatches = 4] = process.argv.slice(2).map(Number);

async function main() {
  printMachine();
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-bench-orch-'));
  const t0 = Date.now();
  const photos = await syntheticPhotos(count);
  const server = await servePhotos(photos);
  console.log(`${count} synthetic photos made and served in ${((Date.now() - t0) / 1000).toFixed(1)} s; batch ${batchSize}, ${parallelBatches} batches in flight`);

  const configFor = (root: string, address = '127.0.0.1:7233') =>
    parseConfig({
      temporal: { address },
      store: { kind: 'fs', root },
      download: { allowHosts: [server.host] },
      workers: { io: { concurrency: 8 }, cpu: { concurrency: parallelBatches } },
    });
  const input = (runKey: string) => benchDatasetSpec(runKey, count, batchSize, parallelBatches);
  const prepareStore = async (name: string) => {
    const store = new FsStore(join(dir, name));
    await store.put('inputs/urls.txt', Buffer.from(server.urls.join('\n')));
    return store;
  };

  // Plain: the activity functions themselves, outside Temporal.
  const plainStore = await prepareStore('plain');
  const plainStart = Date.now();
  const plainManifest = await runPlainDataset(plainStore, configFor(plainStore.root), input('plain'));
  const plainSeconds = (Date.now() - plainStart) / 1000;

  // Temporal: the workflow on a real dev server.
  Runtime.install({ telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } }, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  const temporal = await startTemporalDevServer({ dir: join(dir, 'temporal') });
  const temporalStore = await prepareStore('temporal');
  const config = configFor(temporalStore.root, temporal.address);
  config.temporal.taskQueues = { pipeline: 'bench', io: 'bench-io', cpu: 'bench-cpu', gpu: 'bench-gpu' };
  const connection = await NativeConnection.connect({ address: temporal.address });
  const workers = await createWorkers({ roles: ['pipeline', 'io', 'cpu'], config, store: temporalStore, connection });
  const running = workers.map((w) => w.run());
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  const temporalStart = Date.now();
  const workflowId = `bench-${Date.now()}`;
  const result = await client.workflow.execute(buildDataset, { taskQueue: 'bench', workflowId, args: [input('temporal')] });
  const temporalSeconds = (Date.now() - temporalStart) / 1000;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();

  for (const w of workers) w.shutdown();
  await Promise.allSettled(running);
  await client.connection.close();
  await connection.close();
  await temporal.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });

  const row = (name: string, seconds: number, pairs: number) =>
    `${name.padEnd(10)} ${seconds.toFixed(2).padStart(8)} s ${(pairs / seconds).toFixed(1).padStart(8)} img/s ${((seconds / pairs) * 1000).toFixed(2).padStart(8)} ms/img  ${pairs} pairs`;
  console.log('\nscrape → download → conform → k-means pairs, local HTTP server → local-disk store');
  console.log(row('plain', plainSeconds, plainManifest.pairs));
  console.log(row('temporal', temporalSeconds, result.pairs));
  console.log(`overhead   ${(((temporalSeconds - plainSeconds) / plainSeconds) * 100).toFixed(1)} % (temporal / plain = ${(temporalSeconds / plainSeconds).toFixed(3)}); ` +
    `${(((temporalSeconds - plainSeconds) / count) * 1000).toFixed(2)} ms per image`);
  console.log(`history    ${history.events?.length} events in the buildDataset workflow (Temporal warns at 10,240 and stops at 51,200)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
