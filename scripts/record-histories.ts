/**
 * Records a history of each workflow as it runs today into test/fixtures/histories/<date>-<commit>/, for
 * test/replay.test.ts to replay against every later version of the workflow code (docs/deploying.md):
 *
 *   learn-to-see.json              learnToSee of a model line, with a render (children: buildDataset, renderVideo)
 *   build-dataset.run-N.json       buildDataset, continuing as new (the server suggests it after 40 events here)
 *   render-video.json              renderVideo on its own, several chunks
 *   scheduled-retraining.json      learnToSee started by the retraining schedule `bloomsight schedule create` makes
 *   compare-variants.json          compareVariants of two ways of seeing, with a render; and its children:
 *   train-variant.<name>.json, render-comparison.json
 *   workflow-ids.json              each file's workflow id (replay needs it; a history does not name it)
 *
 *   npx tsx scripts/record-histories.ts [--out DIR]
 *
 * It starts its own Temporal dev server and runs every worker in this process on a local-disk store
 * (the histories do not depend on the store), with the default queue names and the bundled photos as
 * the configured folder `photos` (runs name it, so no machine's paths end up in the histories).
 * Takes about a minute.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { retrainingSchedule } from '../cli/commands/schedule';
import { parseConfig } from '../config/load';
import { startTemporalDevServer } from '../services/temporal-server';
import { FsStore } from '../storage';
import { makePanClip } from '../video';
import { createWorkers, WORKER_ROLES } from '../workers/create-workers';
import { buildDataset, compareVariants, learnToSee, renderVideo } from '../workflows';

const ROOT = resolve(__dirname, '..');
const PHOTOS = join(ROOT, 'test', 'fixtures', 'photos');
const FROM_PHOTOS = { provider: 'local-folder', providerOptions: { folder: 'photos' } } as const;
/** Beside the histories: file name -> workflow id. */
export const WORKFLOW_IDS = 'workflow-ids.json';
const TINY_TRAINING = { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 8, checkpointEverySteps: 4 };

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const out = resolve(values.out ?? join(ROOT, 'test', 'fixtures', 'histories', `${new Date().toISOString().slice(0, 10)}-${commit}`));
  const scratch = await mkdtemp(join(tmpdir(), 'bloomsight-histories-'));
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const temporal = await startTemporalDevServer({ dir: join(scratch, 'temporal'), ui: false, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 } });
  const config = parseConfig({ temporal: { address: temporal.address }, store: { kind: 'fs', root: join(scratch, 'store') }, folders: { photos: PHOTOS } });
  const store = new FsStore(config.store.kind === 'fs' ? config.store.root : '');
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const workers = await createWorkers({ roles: WORKER_ROLES, config, store, connection: workerConnection });
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const { pipeline, io, cpu, gpu } = config.temporal.taskQueues;
  const taskQueues = { io, cpu, gpu };
  await mkdir(out, { recursive: true });
  // A history does not name its workflow id, which replay needs (child ids derive from it).
  const workflowIds: Record<string, string> = {};
  const save = async (name: string, handle: WorkflowHandle, runId?: string) => {
    const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    await writeFile(join(out, `${name}.json`), `${historyToJSON(history)}\n`);
    workflowIds[`${name}.json`] = handle.workflowId;
    console.log(`[histories] ${relative(ROOT, join(out, `${name}.json`))}: ${history.events?.length} events`);
  };
  try {
    const clip = join(scratch, 'clip.mp4');
    await makePanClip([join(PHOTOS, 'garden.jpg'), join(PHOTOS, 'raindrops.jpg')], clip, { seconds: 2, fps: 6 });
    await store.putFile('inputs/clip.mp4', clip);

    const line = 'history-line';
    const first = await client.workflow.start(learnToSee, {
      taskQueue: pipeline,
      workflowId: 'history-learn-to-see',
      args: [{ runKey: 'history-learn-to-see', line, ...FROM_PHOTOS, batchSize: 3, train: TINY_TRAINING, video: 'inputs/clip.mp4', taskQueues }],
    });
    const trained = await first.result();
    await save('learn-to-see', first);

    const dataset = await client.workflow.start(buildDataset, {
      taskQueue: pipeline,
      workflowId: 'history-build-dataset',
      args: [{ runKey: 'history-build-dataset', query: 'flowers', ...FROM_PHOTOS, maxItems: 100, imageSize: 64, fit: 'centre', partial: { method: 'kmeans', k: 7, paint: 'palette', blurSigma: 0, seed: 24301 }, batchSize: 1, parallelBatches: 2, taskQueues }],
    });
    await dataset.result();
    const runs: string[] = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${dataset.workflowId}'` })) runs.push(execution.runId);
    runs.reverse(); // the list is newest first
    if (runs.length < 2) throw new Error(`buildDataset did not continue as new (${runs.length} run)`);
    for (const [i, runId] of runs.entries()) await save(`build-dataset.run-${i + 1}`, dataset, runId);

    const render = await client.workflow.start(renderVideo, {
      taskQueue: pipeline,
      workflowId: 'history-render-video',
      args: [{ modelId: trained.modelId, video: 'inputs/clip.mp4', renderId: 'history-render-video', chunkFrames: 4, parallelChunks: 2, taskQueues }],
    });
    await render.result();
    await save('render-video', render);

    const schedule = await client.schedule.create(
      retrainingSchedule({ scheduleId: 'history-retraining', line, every: '7d', input: { ...FROM_PHOTOS, batchSize: 3, train: TINY_TRAINING }, taskQueues: config.temporal.taskQueues }),
    );
    try {
      await schedule.trigger(ScheduleOverlapPolicy.SKIP);
      let started: { workflowId: string; firstExecutionRunId: string } | undefined;
      while (!started) {
        started = (await schedule.describe()).info.recentActions[0]?.action.workflow;
        if (!started) await new Promise((r) => setTimeout(r, 200));
      }
      const retraining = client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
      await retraining.result();
      await save('scheduled-retraining', retraining, started.firstExecutionRunId);
    } finally {
      await schedule.delete();
    }
    const comparison = await client.workflow.start(compareVariants, {
      taskQueue: pipeline,
      workflowId: 'history-compare',
      args: [{ runKey: 'history-compare', ...FROM_PHOTOS, batchSize: 4, train: TINY_TRAINING, variants: [{ partial: { method: 'kmeans', k: 7 } }, { partial: { method: 'edges' } }], video: 'inputs/clip.mp4', taskQueues }],
    });
    await comparison.result();
    await save('compare-variants', comparison);
    for (const event of (await comparison.fetchHistory()).events ?? []) {
      const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
      if (child?.workflowType?.name === 'trainVariant') await save(`train-variant.${child.workflowId!.split('--').pop()}`, client.workflow.getHandle(child.workflowId!));
      if (child?.workflowType?.name === 'renderComparison') await save('render-comparison', client.workflow.getHandle(child.workflowId!));
    }

    await writeFile(join(out, WORKFLOW_IDS), `${JSON.stringify(workflowIds, null, 2)}\n`);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await connection.close();
    await workerConnection.close();
    await temporal.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`[histories] ${(error as Error).stack ?? error}`);
    process.exit(1);
  });
}
