/**
 * Comparing ways of seeing, on the real Temporal server and S3 store: two gpu worker processes train
 * two variants at the same time, the shared stages run once, each variant's export equals a separate
 * run of that variant, the comparison report opens in Chromium, apply and render show every variant
 * side by side; and a comparison stopped mid-way trains only its unfinished variants when started again.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readComparison } from '../activities/comparison-record';
import { applyModel } from '../cli/commands/apply';
import type { CompareInputJson } from '../config/compare-input';
import { readRgb } from '../imaging';
import { temporalBinary } from '../services/binaries';
import { getJson, keys, type Store } from '../storage';
import { decodeFrames, makePanClip, probeVideo } from '../video';
import type { CompareVariantsResult } from '../workflows/compare-variants';
import { comparisonProgressQuery } from '../workflows/compare-variants';
import { learnToSee } from '../workflows/learn-to-see';
import { progressQuery, stopTrainingSignal } from '../workflows/messages';
import { loadPhotos, PHOTOS_DIR, sendBytes, startRouteServer, type Handler, type TestServer } from './helpers/http-fixtures';
import { freshS3Store } from './helpers/services';
import { startTestWorkers, testConfig } from './helpers/temporal';
import { configEnv, startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const ARTIFACTS_DIR = join(ROOT, 'test-artifacts', 'compare');
const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** When each activity of a workflow ran and on which worker, from the server's history. */
async function activityRuns(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const started = new Map<string, { identity: string; at: number }>();
  const runs: Array<{ type: string; identity: string; started: number; ended: number }> = [];
  for (const event of history.events ?? []) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) scheduled.set(id, event.activityTaskScheduledEventAttributes.activityType!.name!);
    const start = event.activityTaskStartedEventAttributes;
    if (start) started.set(String(start.scheduledEventId), { identity: start.identity!, at: tsToMs(event.eventTime) });
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const begin = started.get(String(done.scheduledEventId))!;
      runs.push({ type: scheduled.get(String(done.scheduledEventId))!, identity: begin.identity, started: begin.at, ended: tsToMs(event.eventTime) });
    }
  }
  return runs;
}

/** Every file of an export but metadata.json (which records times): the bytes that are the model. */
async function exportFiles(store: Store, modelId: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const object of await store.list(`${keys.exportDir(modelId)}/`)) {
    const name = object.key.split('/').pop()!;
    if (name !== 'metadata.json') files[name] = (await store.get(object.key)).toString('base64');
  }
  return files;
}

/** Mean absolute difference of two equal-sized RGB buffers, 0..255. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** Columns `from`..`from+width` of an RGB frame. */
function columns(image: { width: number; height: number; data: Uint8Array }, from: number, width: number): Uint8Array {
  const out = new Uint8Array(width * image.height * 3);
  for (let y = 0; y < image.height; y++) out.set(image.data.subarray((y * image.width + from) * 3, (y * image.width + from + width) * 3), y * width * 3);
  return out;
}

async function allFrames(path: string) {
  const frames = [];
  for await (const frame of decodeFrames(path)) frames.push(frame.image);
  return frames;
}

describe('compareVariants on the real Temporal server and S3 store', () => {
  let store: Store;
  let config: ReturnType<typeof testConfig>;
  let env: Awaited<ReturnType<typeof startTestWorkers>>;
  let gpus: WorkerProcess[] = [];
  let server: TestServer;
  let photos: Awaited<ReturnType<typeof loadPhotos>>;
  let scratch: string;
  const listKey = 'inputs/photos.txt';
  const tinyTrain = { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 40, checkpointEverySteps: 20, timeGoalSeconds: 600 };
  const queues = () => ({ io: config.temporal.taskQueues.io, cpu: config.temporal.taskQueues.cpu, gpu: config.temporal.taskQueues.gpu });
  const shared = () => ({ provider: 'url-list' as const, providerOptions: { key: listKey }, batchSize: 4, heartbeatTimeoutSeconds: 10 });
  const bloomsight = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...configEnv(config) }, maxBuffer: 1 << 24 });

  beforeAll(async () => {
    photos = await loadPhotos();
    server = await startRouteServer(Object.fromEntries(photos.map((p) => [`/${p.name}`, ((_req, res) => sendBytes(res, p.bytes, 'image/jpeg')) as Handler])));
    store = await freshS3Store('compare');
    config = testConfig('compare', store);
    config.download.allowHosts = [new URL(server.origin).host];
    await store.put(listKey, Buffer.from(photos.map((p) => server.url(`/${p.name}`)).join('\n')));
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-compare-'));
    const clip = join(scratch, 'clip.mp4');
    await makePanClip([join(PHOTOS_DIR, 'garden.jpg'), join(PHOTOS_DIR, 'raindrops.jpg')], clip, { seconds: 2, fps: 8 });
    await store.putFile('inputs/clip.mp4', clip);
    // Workflows, downloads and image work in this process; training in two gpu worker processes.
    env = await startTestWorkers(config, store, ['pipeline', 'io', 'cpu']);
    gpus = [startWorkerProcess('gpu', config), startWorkerProcess('gpu', config)];
    await Promise.all(gpus.map((gpu) => gpu.ready));
  });
  afterAll(async () => {
    await Promise.all(gpus.map((gpu) => gpu.stop()));
    await env?.stop();
    await server?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  let comparison: CompareVariantsResult | undefined;

  it('`bloomsight compare` trains two variants at once on two gpu workers, the shared stages once, and exports equal separate runs of each variant', async () => {
    const runKey = `cmp-${randomUUID().slice(0, 6)}`;
    const input = { ...shared(), train: tinyTrain };
    const cli = await bloomsight('compare', '--run-key', runKey, '--input', JSON.stringify(input), '--video', 'inputs/clip.mp4', '--wait', 'kmeans:k=7', 'edges');
    expect(cli.stdout).toContain(`started comparison ${runKey}`);
    expect(cli.stdout).toMatch(new RegExp(`kmeans\\s+model ${runKey}--kmeans`));
    expect(cli.stdout).toMatch(new RegExp(`edges\\s+model ${runKey}--edges`));
    // --wait followed it to the end: the comparison and each variant as `bloomsight status` shows them.
    expect(cli.stdout).toContain(`workflow ${runKey}: COMPLETED`);
    expect(cli.stdout).toMatch(new RegExp(`edges\\s+done, 40 steps\\s+\\(bloomsight status ${runKey}--edges\\)`));
    comparison = (await env.client.workflow.getHandle(runKey).result()) as CompareVariantsResult;
    expect(comparison.variants.map((v) => [v.name, v.modelId, v.steps])).toEqual([
      ['kmeans', `${runKey}--kmeans`, 40],
      ['edges', `${runKey}--edges`, 40],
    ]);

    // The shared stages ran once: every photo was fetched once, by one dataset workflow whose batches
    // conformed each photo; the variants' own workflows only derived a dataset, trained and exported.
    expect(photos.map((p) => server.hits(`/${p.name}`))).toEqual(photos.map(() => 1));
    const datasetRuns = await activityRuns(env.client, `${runKey}--dataset`);
    expect(datasetRuns.filter((r) => r.type === 'scrapeImages')).toHaveLength(1);
    expect(datasetRuns.filter((r) => r.type === 'downloadBatch')).toHaveLength(2);
    expect(datasetRuns.filter((r) => r.type === 'conformBatch')).toHaveLength(2);
    for (const variant of comparison.variants) {
      expect((await activityRuns(env.client, `${runKey}--${variant.name}`)).map((r) => r.type)).toEqual(['deriveDataset', 'trainModel', 'exportModel']);
    }
    // kmeans is the shared dataset's own partial information; edges made its 8 pairs from the same conformed photos.
    expect(comparison.variants.map((v) => v.pairsComputed)).toEqual([0, 8]);
    expect(comparison.variants[0]!.datasetId).toBe(comparison.datasetId);

    // Both trainings ran at the same time, each on its own gpu worker process.
    const training = await Promise.all(comparison.variants.map(async (v) => (await activityRuns(env.client, `${runKey}--${v.name}`)).find((r) => r.type === 'trainModel')!));
    const [a, b] = training as [(typeof training)[0], (typeof training)[0]];
    const overlap = Math.min(a.ended, b.ended) - Math.max(a.started, b.started);
    console.log(
      `[compare.test] trainModel kmeans on ${a.identity}: ${new Date(a.started).toISOString()} .. ${new Date(a.ended).toISOString()}; ` +
        `edges on ${b.identity}: ${new Date(b.started).toISOString()} .. ${new Date(b.ended).toISOString()}; overlap ${(overlap / 1000).toFixed(1)} s`,
    );
    expect(new Set(training.map((t) => t.identity.split('@')[0]))).toEqual(new Set(gpus.map((g) => String(g.child.pid))));
    expect(overlap).toBeGreaterThan(0);

    // A separate run of each variant with the same seed (same photos, options and engine) exports the same bytes.
    const solo = await Promise.all(
      comparison.variants.map((v, i) => {
        const soloKey = `solo-${runKey}-${i}`;
        return env.client.workflow.execute(learnToSee, {
          taskQueue: config.temporal.taskQueues.pipeline,
          workflowId: soloKey,
          args: [{ ...shared(), runKey: soloKey, partial: i === 0 ? { method: 'kmeans', k: 7 } : { method: 'edges' }, train: tinyTrain, taskQueues: queues() }],
        });
      }),
    );
    for (const [i, variant] of comparison.variants.entries()) {
      expect(solo[i]!.datasetId).toBe(variant.datasetId);
      const [compared, separate] = await Promise.all([exportFiles(store, variant.modelId), exportFiles(store, solo[i]!.modelId)]);
      expect(Object.keys(compared).sort()).toEqual(['generator.onnx', 'group1-shard1of1.bin', 'model.json']);
      expect(compared, `${variant.name}: export bytes`).toEqual(separate);
    }
    expect(await exportFiles(store, comparison.variants[0]!.modelId)).not.toEqual(await exportFiles(store, comparison.variants[1]!.modelId));
  });

  it('writes a comparison report that opens in Chromium: a row per held-out photo and frame, every variant\'s partial and output, shared loss axes, held-out L1', async () => {
    expect(comparison).toBeDefined();
    const result = comparison!;
    rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    writeFileSync(join(ARTIFACTS_DIR, 'index.html'), await store.get(result.reportKey));
    await store.getFile(result.reportKey.replace(/index\.html$/, 'clip.mp4'), join(ARTIFACTS_DIR, 'clip.mp4'));
    expect(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} is needed (apt-get install chromium; .ci/run does)`).toBe(true);

    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(pathToFileURL(join(ARTIFACTS_DIR, 'index.html')).href, { waitUntil: 'load' });
      await page.waitForFunction(() => document.querySelector('video')!.readyState >= 2 || document.querySelector('video')!.error !== null);
      expect(errors).toEqual([]);

      const table = await page.$$eval('#variant-table tbody tr', (rows) => rows.map((row) => ({ name: row.getAttribute('data-variant'), cells: Array.from(row.querySelectorAll('td'), (td) => td.textContent!.trim()) })));
      expect(table.map((row) => row.name)).toEqual(['kmeans', 'edges']);
      for (const row of table) {
        expect(row.cells[2]).toBe('40'); // steps
        expect(Number.parseFloat(row.cells[6]!)).toBeGreaterThan(0); // held-out L1
      }
      // 8 photos: one held out of every variant's training; 4 frames of the clip.
      for (const [section, count] of [['examples', 1], ['frames', 4]] as const) {
        const rows = await page.$$eval(`#${section} tbody tr`, (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('img'), (img) => (img as HTMLImageElement).naturalWidth)));
        expect(rows, section).toHaveLength(count);
        for (const widths of rows) expect(widths).toEqual([64, 64, 64, 64, 64]); // photo, then partial and output per variant
      }
      const charts = await page.$$eval('#losses svg', (svgs) => svgs.map((svg) => Array.from(svg.querySelectorAll('polyline'), (line) => line.getAttribute('data-series'))));
      expect(charts).toEqual([['kmeans', 'edges'], ['kmeans', 'edges'], ['kmeans', 'edges']]);
      const video = await page.$eval('video', (v) => ({ ready: v.readyState, error: v.error?.code ?? null, width: v.videoWidth, height: v.videoHeight }));
      expect(video).toMatchObject({ error: null, width: 192, height: 64 });
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('renders the clip with both variants side by side: each panel is that variant\'s own render of the frame', async () => {
    const result = comparison!;
    const stacked = join(scratch, 'stacked.mp4');
    await store.getFile(result.render!.mp4Key, stacked);
    const info = await probeVideo(stacked);
    expect([info.width, info.height, info.frameCount, info.hasAudio]).toEqual([192, 64, 16, true]);
    const record = await readComparison(store, result.runKey);
    // Compare panels frame by frame with each variant's own render (one more lossy encode apart).
    const stackedFrames = await allFrames(stacked);
    for (const [i, variant] of record.variants.entries()) {
      const plans = (await store.list('renders/')).map((o) => o.key).filter((k) => k.endsWith('/plan.json') && k.startsWith(`renders/${result.runKey}-`));
      let ownPath: string | undefined;
      for (const planKey of plans) {
        const plan = await getJson<{ modelId: string }>(store, planKey);
        if (plan.modelId === variant.modelId) {
          ownPath = join(scratch, `own-${i}.mp4`);
          await store.getFile(planKey.replace(/plan\.json$/, 'render.mp4'), ownPath);
        }
      }
      expect(ownPath, variant.name).toBeDefined();
      const ownFrames = await allFrames(ownPath!);
      expect(ownFrames).toHaveLength(stackedFrames.length);
      stackedFrames.forEach((frame, f) => {
        if (i === 0) expect(meanAbsDiff(columns(frame, 0, 64), columns(ownFrames[f]!, 0, 64))).toBeLessThan(3); // the original
        expect(meanAbsDiff(columns(frame, 64 * (i + 1), 64), columns(ownFrames[f]!, 64, 64)), `${variant.name} frame ${f}`).toBeLessThan(3);
        // and not the neighbouring frame's: the panels line up in time
        if (f > 0) expect(meanAbsDiff(columns(frame, 0, 64), columns(ownFrames[f - 1]!, 0, 64))).toBeGreaterThan(meanAbsDiff(columns(frame, 0, 64), columns(ownFrames[f]!, 0, 64)));
      });
    }
  });

  it('`bloomsight apply --comparison` and `render --comparison` show pictures and a video to every variant at once', async () => {
    const result = comparison!;
    const out = await mkdtemp(join(tmpdir(), 'bloomsight-compare-apply-'));
    try {
      const applied = await bloomsight('apply', '--comparison', result.runKey, '--out', out, join(PHOTOS_DIR, 'calla.jpg'));
      expect(applied.stdout.trim().split('\n')).toEqual(['columns: original | kmeans | edges', join(out, 'calla.png')]);
      const composite = await readRgb(await sharp(join(out, 'calla.png')).png().toBuffer());
      expect([composite.width, composite.height]).toEqual([192, 64]);
      // Each column is what that variant's model alone makes of the photo.
      for (const [i, variant] of result.variants.entries()) {
        const [alone] = await applyModel(store, variant.modelId, [{ name: 'calla.jpg', bytes: photos.find((p) => p.name === 'calla.jpg')!.bytes }], join(out, variant.name));
        const single = await readRgb(await sharp(alone!).png().toBuffer());
        if (i === 0) expect(columns(composite, 0, 64)).toEqual(columns(single, 0, 64));
        expect(columns(composite, 64 * (i + 1), 64), variant.name).toEqual(columns(single, 64, 64));
      }

      const clip = join(out, 'short.mp4');
      await makePanClip([join(PHOTOS_DIR, 'ladybird.jpg'), join(PHOTOS_DIR, 'calla.jpg')], clip, { seconds: 1, fps: 4 });
      const rendered = await bloomsight('render', '--comparison', result.runKey, '--three', '--out', join(out, 'side-by-side.mp4'), clip);
      expect(rendered.stdout).toContain('columns: original | kmeans partial | kmeans | edges partial | edges');
      const info = await probeVideo(join(out, 'side-by-side.mp4'));
      expect([info.width, info.height, info.frameCount]).toEqual([320, 64, 4]);
      expect(existsSync(join(out, 'side-by-side.gif'))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('started again after a stop mid-way, trains only the unfinished variant and reuses every finished dataset, checkpoint and export (Temporal CLI, plain JSON)', async () => {
    const runKey = `resume-${randomUUID().slice(0, 6)}`;
    const input: CompareInputJson = {
      ...shared(),
      runKey,
      train: { ...tinyTrain, maxSteps: 20, checkpointEverySteps: 10 },
      parallelVariants: 1,
      variants: [{ partial: { method: 'kmeans' } }, { name: 'long', partial: { method: 'edges', blurSigma: 1.5 }, train: { maxSteps: 100_000 } }],
      taskQueues: queues(),
    };
    const start = async () =>
      run(await temporalBinary(), [
        'workflow', 'start', '--address', config.temporal.address, '--namespace', config.temporal.namespace,
        '--type', 'compareVariants', '--task-queue', config.temporal.taskQueues.pipeline, '--workflow-id', runKey,
        '--input', JSON.stringify(input),
      ]);
    const handle = env.client.workflow.getHandle(runKey);
    const long = env.client.workflow.getHandle(`${runKey}--long`);
    const until = async <T>(what: string, probe: () => Promise<T | undefined>) => {
      for (let i = 0; i < 1200; i++) {
        const value = await probe().catch(() => undefined);
        if (value) return value;
        await sleep(250);
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    await start();
    // The first variant finishes; the second has a checkpoint: stop the comparison there.
    await until('kmeans done and long checkpointed', async () => {
      const progress = await handle.query(comparisonProgressQuery);
      const training = (await long.query(progressQuery)).training;
      return progress.variants[0]!.status === 'done' && (training?.checkpointStep ?? 0) >= 10 ? true : undefined;
    });
    await handle.terminate('test: stop the comparison mid-way');
    const kmeans = `${runKey}--kmeans`;
    const finished = {
      train: await store.stat(keys.runRecord(kmeans, 'train')),
      checkpoints: (await store.list(`models/${kmeans}/checkpoints/`)).map((o) => o.key),
      export: await store.stat(`${keys.exportDir(kmeans)}/metadata.json`),
    };
    expect(finished.train && finished.export).toBeTruthy();
    const hits = photos.map((p) => server.hits(`/${p.name}`));

    await start();
    const resumed = await until('long training again', async () => (await long.query(progressQuery)).training?.resumedFromStep);
    expect(resumed).toBeGreaterThanOrEqual(10);
    await long.signal(stopTrainingSignal);
    const result = (await handle.result()) as CompareVariantsResult;

    // The finished variant: same records, no new checkpoint, the same export; no dataset work anywhere.
    expect(await store.stat(keys.runRecord(kmeans, 'train'))).toEqual(finished.train);
    expect((await store.list(`models/${kmeans}/checkpoints/`)).map((o) => o.key)).toEqual(finished.checkpoints);
    expect(await store.stat(`${keys.exportDir(kmeans)}/metadata.json`)).toEqual(finished.export);
    expect(result.variants.map((v) => v.pairsComputed)).toEqual([0, 0]);
    expect(photos.map((p) => server.hits(`/${p.name}`))).toEqual(hits);
    // The unfinished one went on from its checkpoint.
    const longRecord = await getJson<{ resumedFromStep?: number; stoppedBy: string; steps: number }>(store, keys.runRecord(`${runKey}--long`, 'train'));
    expect(longRecord.resumedFromStep).toBe(resumed);
    expect(longRecord.stoppedBy).toBe('requested');
    expect(result.variants.map((v) => [v.name, v.steps])).toEqual([['kmeans', 20], ['long', longRecord.steps]]);
    expect(await store.exists(result.reportKey)).toBe(true);
  });
});
