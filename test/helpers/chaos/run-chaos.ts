/**
 * One chaos experiment: the whole pipeline (dataset from a faulty image web, training stopped by a
 * step count with frequent checkpoints, export, a chunked render, the report) run twice on separate
 * processes, first untouched (the reference), then under a seeded schedule of SIGKILLs at random and at
 * the worst moments. Then the invariants are checked against the bucket, the proxy's record of every
 * S3 request, the image web's record of every hit and the reference run (see invariants.ts).
 * bench/chaos.ts runs the large version and prints it; test/chaos.test.ts a small one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { syntheticPhotos } from '../../../bench/lib/synthetic-photos';
import type { RunInputJson } from '../../../config/run-input';
import type { Store } from '../../../storage';
import { makePanClip } from '../../../video';
import { learnToSee, type LearnToSeeResult } from '../../../workflows/learn-to-see';
import { Cluster, type ProcessKind } from './cluster';
import type { Behaviour } from './image-web';
import { ImageWeb } from './image-web';
import { checkInvariants, type Check, type RunEvidence } from './invariants';
import type { ChaosSettings, KillRecord, RunOutcome } from './types';

export type { ChaosSettings, KillRecord, RunOutcome };
import { describeMoment, planKills, stageOf, type KillEvent, type PlanOptions, type Stage } from './schedule';
import type { HeldRequest } from './s3-proxy';

const PHOTOS_DIR = resolve(__dirname, '..', '..', 'fixtures', 'photos');




export interface ChaosReport {
  settings: ChaosSettings;
  plan: KillEvent[];
  kills: KillRecord[];
  reference: RunOutcome;
  chaos: RunOutcome;
  checks: Check[];
  figures: Awaited<ReturnType<typeof checkInvariants>>['figures'];
  dir: string;
}

export async function runChaos(dir: string, settings: ChaosSettings, log: (line: string) => void): Promise<ChaosReport> {
  await mkdir(dir, { recursive: true });
  const cluster = new Cluster(dir, log);
  const photos = await syntheticPhotos(settings.photos, 256);
  const web = new ImageWeb(photos);
  await web.listen();
  let client: Client | undefined;
  try {
    const t0 = Date.now();
    await cluster.start();
    log(`services up in ${((Date.now() - t0) / 1000).toFixed(1)} s: temporal ${cluster.temporal.address}, S3 ${cluster.s3.endpoint} behind proxy ${cluster.proxy.endpoint}`);
    client = new Client({ connection: await Connection.connect({ address: cluster.temporal.address }) });
    const items = webItems(settings);
    const clip = join(dir, 'clip.mp4');
    await makePanClip([join(PHOTOS_DIR, 'garden.jpg'), join(PHOTOS_DIR, 'raindrops.jpg'), join(PHOTOS_DIR, 'calla.jpg')], clip, { seconds: settings.clip.seconds, fps: settings.clip.fps });

    const prepare = async (label: string) => {
      const store = cluster.directStore(label);
      await store.ensureBucket();
      const urls = web.publish(label, items);
      await store.put('inputs/urls.txt', Buffer.from(urls.join('\n')));
      await store.putFile('inputs/clip.mp4', clip);
      return { store, urls };
    };

    // 1. The reference: the same run, never interrupted.
    const ref = await prepare('ref');
    await cluster.startWorkers(cluster.config('ref', 'ref', [web.host]));
    const reference = await runPipeline(client, cluster, 'ref', settings, log);
    await cluster.stopWorkers();
    log(`reference run: ${reference.wallSeconds.toFixed(1)} s, ${reference.result.pairs} pairs, ${reference.result.steps} steps; stages end at ${JSON.stringify(reference.stages)}`);

    // 2. The same run under the kill schedule.
    const plan = planKills({ seed: settings.seed, randomKillsPerKind: settings.randomKillsPerKind, steps: settings.steps, checkpointEvery: settings.checkpointEvery, fixed: settings.fixed, maxDownMs: settings.maxDownMs });
    log(`seed ${settings.seed}: ${plan.length} kills planned`);
    plan.forEach((event, i) => log(`  plan ${String(i + 1).padStart(2)}. ${event.target.padEnd(8)} ${describeMoment(event.moment)}, down ${event.downMs} ms`));
    const chaosInputs = await prepare('chaos');
    await cluster.startWorkers(cluster.config('chaos', 'chaos', [web.host]));
    const chaosStart = Date.now();
    const running = runPipeline(client, cluster, 'chaos', settings, log);
    let finished = false;
    void running.then(
      () => (finished = true),
      () => (finished = true),
    );
    const kills = await executePlan(plan, { cluster, web, settings, urls: chaosInputs.urls, isFinished: () => finished, start: chaosStart, log });
    const chaos = await running;
    await cluster.stopWorkers();
    log(`chaos run: ${chaos.wallSeconds.toFixed(1)} s with ${kills.filter((k) => !k.missed).length} kills (${kills.filter((k) => k.missed).length} missed); stages end at ${JSON.stringify(chaos.stages)}`);

    // 3. The checks.
    const evidence = (outcome: RunOutcome, store: Store, urls: string[]): RunEvidence => ({ ...outcome, store, urls });
    const { checks, figures } = await checkInvariants({
      reference: evidence(reference, ref.store, ref.urls),
      chaos: evidence(chaos, chaosInputs.store, chaosInputs.urls),
      proxyLog: cluster.proxy.log,
      client,
      hits: web.hits,
      web,
      kills,
      settings,
      scratch: join(dir, 'checks'),
    });
    const report: ChaosReport = { settings, plan, kills, reference, chaos, checks, figures, dir };
    await writeFile(join(dir, 'report.json'), JSON.stringify(report, null, 2));
    return report;
  } finally {
    await client?.connection.close().catch(() => {});
    await cluster.stop().catch((error: unknown) => log(`cluster stop: ${(error as Error).message}`));
    await web.close();
  }
}

/** The search result: photos served well, slowly or after one failure, plus the faulty items, in a seeded order. */
function webItems(settings: ChaosSettings): Array<{ behaviour: Behaviour; photo: number }> {
  const items: Array<{ behaviour: Behaviour; photo: number }> = [];
  for (let i = 0; i < settings.photos; i++) items.push({ behaviour: i % 5 === 1 ? 'slow' : i % 5 === 3 ? 'flaky' : 'ok', photo: i });
  let n = 0;
  for (const [behaviour, count] of Object.entries(settings.faults) as Array<[Exclude<Behaviour, 'ok'>, number]>) {
    for (let i = 0; i < count; i++) items.push({ behaviour, photo: n++ % settings.photos });
  }
  // Deterministic shuffle (seeded by the settings' seed) so faults land in different batches.
  let state = settings.seed >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function runInput(label: string, settings: ChaosSettings): RunInputJson {
  return {
    runKey: label,
    provider: 'url-list',
    providerOptions: { key: 'inputs/urls.txt' },
    maxItems: 100_000,
    batchSize: settings.batchSize,
    parallelBatches: settings.parallelBatches,
    partial: { method: 'kmeans', k: 7 },
    train: {
      imageSize: settings.imageSize,
      ngf: settings.ngf,
      ndf: settings.ndf,
      seed: 7,
      maxSteps: settings.steps,
      timeGoalSeconds: 1e9,
      checkpointEverySteps: settings.checkpointEvery,
      checkpointEverySeconds: 1e9,
    },
    video: 'inputs/clip.mp4',
    heartbeatTimeoutSeconds: settings.heartbeatTimeoutSeconds,
    taskQueues: { io: `${label}-io`, cpu: `${label}-cpu`, gpu: `${label}-gpu` },
  };
}

/** Starts learnToSee and waits for its result, riding out a Temporal server that is away. */
async function runPipeline(client: Client, cluster: Cluster, label: string, settings: ChaosSettings, log: (line: string) => void): Promise<RunOutcome> {
  const started = Date.now();
  await client.workflow.start(learnToSee, { taskQueue: label, workflowId: label, args: [runInput(label, settings)] });
  for (;;) {
    try {
      const result = await client.workflow.getHandle<typeof learnToSee>(label).result();
      const storedAt = (key: RegExp) => {
        const put = cluster.proxy.log.find((r) => r.bucket === label && r.method === 'PUT' && r.status === 200 && key.test(r.key));
        return put ? Math.round((put.start - started) / 100) / 10 : Number.NaN;
      };
      const stages = {
        dataset: storedAt(/^datasets\/[^/]+\/manifest\.json$/),
        train: storedAt(new RegExp(`^runs/${label}/train\\.json$`)),
        export: storedAt(new RegExp(`^models/${label}/export/metadata\\.json$`)),
        render: storedAt(new RegExp(`^renders/${label}/preview\\.gif$`)),
        report: storedAt(new RegExp(`^reports/${label}/index\\.html$`)),
      };
      return { result, wallSeconds: (Date.now() - started) / 1000, stages, bucket: label, runKey: label };
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw error;
      if (Date.now() - started > 30 * 60_000) throw error;
      log(`waiting for ${label}: ${(error as Error).message.split('\n')[0]} (Temporal away?)`);
      await sleep(1000);
      void cluster;
    }
  }
}

interface PlanContext {
  cluster: Cluster;
  web: ImageWeb;
  settings: ChaosSettings;
  urls: string[];
  isFinished(): boolean;
  start: number;
  log(line: string): void;
}

/** The run's progress as the proxy sees the chaos bucket. */
function progressOf(ctx: PlanContext) {
  const log = ctx.cluster.proxy.log;
  const stored = (test: (key: string) => boolean) => log.some((r) => r.bucket === 'chaos' && r.method === 'PUT' && r.status === 200 && test(r.key));
  const started: Record<Stage, () => boolean> = {
    dataset: () => ctx.web.hits.some((h) => h.path.startsWith('/chaos/')),
    train: () => stored((k) => /^datasets\/[^/]+\/manifest\.json$/.test(k)),
    render: () => stored((k) => k === 'renders/chaos/plan.json'),
    report: () => stored((k) => k === 'renders/chaos/preview.gif'),
  };
  const passed: Record<Stage, () => boolean> = {
    dataset: started.train,
    train: () => stored((k) => k === 'runs/chaos/train.json'),
    render: () => started.report() || ctx.isFinished(),
    report: () => ctx.isFinished(),
  };
  const checkpointStored = (atLeast: number) =>
    log.some((r) => r.bucket === 'chaos' && r.method === 'PUT' && r.status === 200 && Number(/checkpoints\/(\d+)-[^/]+\/manifest\.json$/.exec(r.key)?.[1] ?? -1) >= atLeast);
  const stage = (): KillRecord['stage'] =>
    passed.report() ? 'after' : started.report() ? 'report' : started.render() ? 'render' : passed.train() ? 'export' : started.train() ? 'train' : 'dataset';
  return { started, passed, checkpointStored, stage };
}

/** Polls until `ready` (true) or `give up` (false). */
async function until(ready: () => boolean, giveUp: () => boolean, pollMs = 10): Promise<boolean> {
  for (;;) {
    if (ready()) return true;
    if (giveUp()) return false;
    await sleep(pollMs);
  }
}

async function executePlan(plan: KillEvent[], ctx: PlanContext): Promise<KillRecord[]> {
  const progress = progressOf(ctx);
  const records: KillRecord[] = [];
  for (const [i, event] of plan.entries()) {
    if (ctx.isFinished()) {
      records.push(missed(i, event, 'the run had finished'));
      continue;
    }
    const record = await executeEvent(i, event, ctx, progress);
    records.push(record);
    ctx.log(
      record.missed
        ? `  kill ${i + 1}: ${event.target} ${describeMoment(event.moment)}: missed (${record.missed})`
        : `  kill ${i + 1}: ${event.target} (pid ${record.pid}) at ${(record.atMs / 1000).toFixed(1)} s, ${record.stage}, ${record.moment}${record.held ? ` [${record.held}]` : ''}; up again after ${record.downMs} + ${record.restartMs} ms`,
    );
  }
  return records;
}

function missed(index: number, event: KillEvent, why: string): KillRecord {
  return { index, target: event.target, moment: describeMoment(event.moment), stage: stageOf(event.moment), atMs: 0, downMs: event.downMs, missed: why, time: 0 };
}

async function executeEvent(index: number, event: KillEvent, ctx: PlanContext, progress: ReturnType<typeof progressOf>): Promise<KillRecord> {
  const { cluster, web } = ctx;
  const proxy = cluster.proxy;
  const moment = event.moment;
  const stage = stageOf(moment);
  const gone = () => progress.passed[stage]() || ctx.isFinished();
  // What holds the run at the moment, and how to let it go once the process is dead.
  let held: { label: string; release(): void; drop(): void } | undefined;
  const fromProxy = (h: HeldRequest) => ({ label: `${h.request.method} ${h.request.key}`, release: h.release, drop: h.drop });

  const waitHeld = async <T>(hold: Promise<T>, disarm: () => void): Promise<T | undefined> => {
    let value: T | undefined;
    void hold.then((v) => (value = v));
    const ok = await until(() => value !== undefined, gone);
    if (!ok) disarm();
    return value;
  };

  switch (moment.kind) {
    case 'random': {
      if (!(await until(progress.started[stage], gone))) return missed(index, event, `the ${stage} stage was over before it began to count`);
      if (moment.afterStep !== undefined && !(await until(() => progress.checkpointStored(moment.afterStep!), gone))) {
        return missed(index, event, `training ended before step ${moment.afterStep}`);
      }
      await sleep(moment.delayMs);
      break;
    }
    case 'checkpoint-write':
    case 's3-upload':
    case 'render-join':
    case 'report-write':
    case 'record-stored': {
      const afterStep = 'afterStep' in moment ? moment.afterStep : undefined;
      if (afterStep !== undefined && !(await until(() => progress.checkpointStored(afterStep), gone))) {
        return missed(index, event, `training ended before step ${afterStep}`);
      }
      const spec =
        moment.kind === 'checkpoint-write'
          ? { method: 'PUT', key: /^models\/chaos\/checkpoints\/[^/]+\/manifest\.json$/, at: 'before-forward' as const }
          : moment.kind === 's3-upload'
            ? moment.of === 'render'
              ? { method: 'PUT', key: /^renders\/chaos\/chunks\/\d+\.mp4$/, at: 'mid-body' as const }
              : { method: 'PUT', key: /^models\/chaos\/checkpoints\/[^/]+\/(generator|optimizer-generator)\.bin$/, at: 'mid-body' as const }
            : moment.kind === 'render-join'
              ? { method: 'PUT', key: /^renders\/chaos\/render\.mp4$/, at: 'mid-body' as const }
              : moment.kind === 'report-write'
                ? { method: 'PUT', key: /^reports\/chaos\/index\.html$/, at: 'before-forward' as const }
              : {
                  method: 'PUT',
                  key: moment.record === 'download' ? /^runs\/chaos\/batches\/\d+\/download\.json$/ : moment.record === 'train' ? /^runs\/chaos\/train\.json$/ : /^renders\/chaos\/chunk-records\/\d+\.json$/,
                  at: 'before-response' as const,
                };
      const request = await waitHeld(proxy.hold({ ...spec, bucket: 'chaos' }), () => proxy.disarm());
      if (!request) return missed(index, event, `the ${stage} stage ended first`);
      held = fromProxy(request);
      break;
    }
    case 'download-batch': {
      // An image not fetched yet, not the first of its batch, so other images of the batch finish around it.
      const hit = new Set(web.hits.map((h) => h.path));
      const candidates = ctx.urls
        .map((url, i) => ({ path: new URL(url).pathname, i }))
        .filter(({ path, i }) => !hit.has(path) && /-(ok|slow)\.jpg$/.test(path) && i % ctx.settings.batchSize !== 0);
      const target = candidates[Math.min(candidates.length - 1, 1)];
      if (!target) return missed(index, event, 'no image left to hold');
      const response = await waitHeld(web.holdNext(target.path), () => web.disarm());
      if (!response) return missed(index, event, 'the dataset stage ended first');
      // Let the batch's other images go on for a moment.
      const batch = Math.floor(target.i / ctx.settings.batchSize);
      const sameBatch = ctx.urls.slice(batch * ctx.settings.batchSize, (batch + 1) * ctx.settings.batchSize).map((u) => new URL(u).pathname);
      await until(() => web.hits.some((h) => h.path !== target.path && sameBatch.includes(h.path)), () => false);
      await sleep(100);
      held = { label: `image ${target.path}`, release: response.release, drop: response.release };
      break;
    }
  }

  const record: KillRecord = { index, target: event.target, moment: describeMoment(moment), stage: progress.stage(), atMs: Date.now() - ctx.start, downMs: event.downMs, held: held?.label, time: Date.now() };
  record.pid = await cluster.kill(event.target);
  // A held exchange continues once its process is dead: the dead side's connection drops, the living side goes on.
  if (held) {
    if (event.target === 'temporal') held.release();
    else held.drop();
  }
  await sleep(event.downMs);
  const restartStart = Date.now();
  await cluster.restart(event.target);
  record.restartMs = Date.now() - restartStart;
  return record;
}
