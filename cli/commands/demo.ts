import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { parseConfig } from '../../config/load';
import type { RunInputJson } from '../../config/run-input';
import { startTemporalDevServer, workflowUiUrl } from '../../services/temporal-server';
import { openStore, keys, type Store } from '../../storage';
import { makePanClip } from '../../video';
import { createWorkers, WORKER_ROLES } from '../../workers/create-workers';
import { learnToSee } from '../../workflows/learn-to-see';
import { progressQuery } from '../../workflows/messages';
import { formatProgress } from '../progress';
import { readImageSources } from '../../apply/apply-images';
import { applyModel } from './apply';
import { WorkerLogger } from '../../workers/logger';

/** The photos that ship with bloomsight (free-licence wallpapers from Debian packages). */
export const BUNDLED_PHOTOS = resolve(__dirname, '..', '..', 'test', 'fixtures', 'photos');

export const DEMO_HELP = `Usage: bloomsight demo [--out DIR] [--minutes M] [--size 64|128|256] [--online]

The embedded default, with nothing to install or configure: starts a Temporal dev server and every
worker in this process, uses the local-disk store, and runs the whole pipeline on the bundled photos
(scrape → download → conform → k-means → train → export → render → report). Leaves in DIR
(default ./bloomsight-demo): model/ (the export), images/ (photo | interpretation side by side),
clip.mp4 and clip.gif, report/index.html, and the store and Temporal database it ran on.
Running it again resumes: finished stages are found in the store and skipped.
  --minutes  training time goal (default 3)
  --size     image size (default 128, the CPU preset)
  --online   scrape 100 flower photos from Openverse instead of using the bundled ones`;

export async function runDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, minutes: { type: 'string' }, size: { type: 'string' }, online: { type: 'boolean', default: false } } });
  const started = Date.now();
  const out = resolve(values.out ?? 'bloomsight-demo');
  const minutes = Number(values.minutes ?? 3);
  const size = Number(values.size ?? 128);
  await mkdir(out, { recursive: true });
  const say = (line: string) => console.log(`[demo] ${line}`);
  say(`output folder ${out}`);

  // Workers log state changes at INFO; the demo prints its own progress instead.
  Runtime.install({ logger: new WorkerLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const temporal = await startTemporalDevServer({ dir: join(out, 'temporal') });
  say(`Temporal dev server at ${temporal.address} (database ${relative(process.cwd(), join(out, 'temporal', 'temporal.db'))})`);
  say(`Temporal Web UI: ${temporal.uiUrl} (runs, child workflows, histories, the progress query)`);
  // The bundled photos are the one folder this demo's workers may read; the run names it.
  const config = parseConfig({ temporal: { address: temporal.address }, store: { kind: 'fs', root: join(out, 'store') }, folders: { bundled: BUNDLED_PHOTOS } });
  const store = await openStore(config.store);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workers = await createWorkers({ roles: WORKER_ROLES, config, store, connection });
  const running = workers.map((w) => w.run());
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection });
  try {
    const clipKey = await demoClip(store, out);
    const { io, cpu, gpu } = config.temporal.taskQueues;
    // Offline by default: nothing leaves the machine unless asked.
    const source: Pick<RunInputJson, 'query' | 'provider' | 'providerOptions' | 'maxItems'> = values.online
      ? { query: 'flower', provider: 'openverse', providerOptions: {}, maxItems: 100 }
      : { query: 'flowers (bundled photos)', provider: 'local-folder', providerOptions: { folder: 'bundled' }, maxItems: 1000 };
    const input: RunInputJson = {
      runKey: values.online ? 'demo-online' : 'demo',
      ...source,
      fit: 'attention',
      partial: { method: 'kmeans', k: 7 },
      batchSize: values.online ? 25 : 4,
      train: { preset: 'cpu', imageSize: size, timeGoalSeconds: minutes * 60, checkpointEverySeconds: 30 },
      video: clipKey,
      taskQueues: { io, cpu, gpu },
    };
    say(`pipeline run "${input.runKey}" on ${config.temporal.taskQueues.pipeline}: ${values.online ? '100 Openverse photos' : 'bundled photos'}, k-means k=7, ${size}x${size}, ${minutes} min of training`);
    const handle = await client.workflow.start(learnToSee, { taskQueue: config.temporal.taskQueues.pipeline, workflowId: `demo-${Date.now()}`, args: [input] });
    if (temporal.uiUrl) say(`watch it: ${workflowUiUrl(temporal.uiUrl, temporal.namespace, handle.workflowId, handle.firstExecutionRunId)}`);
    const ticker = setInterval(async () => {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      if (progress) for (const line of formatProgress(progress)) say(line);
    }, 15_000);
    const result = await handle.result().finally(() => clearInterval(ticker));
    say(`trained ${result.steps} steps on ${result.pairs} pairs; export ${result.exportKey}`);

    await copyResults(store, out, result.modelId, result.reportKey, result.render);
    const images = await applyModel(store, result.modelId, await readImageSources([BUNDLED_PHOTOS]), join(out, 'images'));
    say(`images:  ${images.length} side-by-side pictures in ${relative(process.cwd(), join(out, 'images'))}/`);
    say(`model:   ${relative(process.cwd(), join(out, 'model'))}/`);
    say(`clip:    ${relative(process.cwd(), join(out, 'clip.mp4'))} (and clip.gif)`);
    say(`report:  ${relative(process.cwd(), join(out, 'report', 'index.html'))}`);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await clientConnection.close();
    await connection.close();
    await temporal.stop();
  }
  say(`finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // The dev server (and its UI) stopped with the demo; its database keeps every run.
  say(`browse the run again: temporal server start-dev --db-filename ${relative(process.cwd(), join(out, 'temporal', 'temporal.db'))}  (Web UI http://localhost:8233)`);
  return 0;
}

/** A short clip panning across the bundled photos: the "ordinary world" the demo shows the network. */
async function demoClip(store: Store, out: string): Promise<string> {
  const key = 'inputs/demo-clip.mp4';
  if (await store.exists(key)) return key;
  const photos = ['garden.jpg', 'greenmeadow.jpg', 'raindrops.jpg'].map((name) => join(BUNDLED_PHOTOS, name));
  const path = join(out, 'inputs', 'demo-clip.mp4');
  await mkdir(join(out, 'inputs'), { recursive: true });
  await makePanClip(photos, path, { seconds: 4, fps: 12 });
  await store.putFile(key, path, { contentType: 'video/mp4' });
  return key;
}

/** Copies the results a person wants out of the store into plain files. */
async function copyResults(store: Store, out: string, modelId: string, reportKey: string, render?: { mp4Key: string; gifKey: string }): Promise<void> {
  await mkdir(join(out, 'model'), { recursive: true });
  for (const object of await store.list(`${keys.exportDir(modelId)}/`)) {
    await store.getFile(object.key, join(out, 'model', object.key.split('/').pop()!));
  }
  const reportDir = reportKey.replace(/\/index\.html$/, '');
  for (const object of await store.list(`${reportDir}/`)) {
    await store.getFile(object.key, join(out, 'report', object.key.slice(reportDir.length + 1)));
  }
  if (render) {
    await store.getFile(render.mp4Key, join(out, 'clip.mp4'));
    await store.getFile(render.gifKey, join(out, 'clip.gif'));
  }
}
