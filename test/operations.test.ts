/**
 * Running bloomsight for real, seen from outside: a worker process configured with a Prometheus
 * address serves the SDK's metrics and bloomsight's own after a whole run, and the Temporal Web UI
 * (opened in headless Chromium) shows that run, its child workflows and its progress query.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../activities/metrics';
import { freePort } from '../services/process';
import { workflowUiUrl } from '../services/temporal-server';
import type { Store } from '../storage';
import { makePanClip } from '../video';
import { learnToSee, type LearnToSeeResult } from '../workflows/learn-to-see';
import { loadPhotos, PHOTOS_DIR, sendBytes, startRouteServer, type Handler, type TestServer } from './helpers/http-fixtures';
import { scrapeMetrics, sample, type MetricFamily } from './helpers/prometheus';
import { freshS3Store, testServices } from './helpers/services';
import { testConfig } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const run = promisify(execFile);
const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const chromiumProblem = existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing: install Debian's chromium (.ci/run does)`;
const ARTIFACTS_DIR = join(__dirname, '..', 'test-artifacts', 'temporal-ui');

describe('a whole run on a worker process with metrics, then seen in Prometheus and the Temporal Web UI', () => {
  let store: Store;
  let server: TestServer;
  let worker: WorkerProcess;
  let client: Client;
  let connection: Connection;
  let metricsUrl: string;
  let runKey: string;
  let result: LearnToSeeResult;
  let scratch: string;

  beforeAll(async () => {
    const photos = await loadPhotos();
    const routes: Record<string, Handler> = Object.fromEntries(photos.map((p) => [`/${p.name}`, ((_req, res) => sendBytes(res, p.bytes, 'image/jpeg')) as Handler]));
    routes['/broken.jpg'] = (_req, res) => sendBytes(res, Buffer.from('<html>not an image</html>'), 'image/jpeg');
    server = await startRouteServer(routes);
    store = await freshS3Store('operations');
    const config = testConfig('operations', store);
    config.download.allowHosts = [new URL(server.origin).host];
    const urls = [...photos.map((p) => server.url(`/${p.name}`)), server.url('/broken.jpg'), server.url('/missing.jpg')];
    await store.put('inputs/urls.txt', Buffer.from(urls.join('\n')));
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-operations-'));
    await makePanClip([join(PHOTOS_DIR, 'garden.jpg'), join(PHOTOS_DIR, 'raindrops.jpg')], join(scratch, 'clip.mp4'), { seconds: 1, fps: 8 });
    await store.putFile('inputs/clip.mp4', join(scratch, 'clip.mp4'));

    const metricsAddress = `127.0.0.1:${await freePort()}`;
    metricsUrl = `http://${metricsAddress}/metrics`;
    worker = startWorkerProcess('all', config, { BLOOMSIGHT_METRICS__PROMETHEUS: metricsAddress });
    await worker.ready;
    connection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection, namespace: config.temporal.namespace });
    runKey = `ops-${randomUUID().slice(0, 8)}`;
    const { io, cpu, gpu } = config.temporal.taskQueues;
    result = await client.workflow.execute(learnToSee, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: runKey,
      args: [
        {
          runKey,
          provider: 'url-list',
          providerOptions: { key: 'inputs/urls.txt' },
          batchSize: 5,
          train: { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 6, checkpointEverySteps: 3 },
          video: 'inputs/clip.mp4',
          taskQueues: { io, cpu, gpu },
        },
      ],
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    await server?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe('Prometheus metrics', () => {
    let families: Map<string, MetricFamily>;
    beforeAll(async () => {
      families = await scrapeMetrics(metricsUrl);
    });

    it("serves the SDK's own: task latencies, slots and outcomes", () => {
      expect(worker.output()).toContain(`Prometheus metrics at ${metricsUrl}`);
      const names = [...families.keys()];
      expect(names).toEqual(expect.arrayContaining(['temporal_workflow_task_execution_latency', 'temporal_activity_execution_latency', 'temporal_worker_task_slots_available', 'temporal_workflow_completed_total']));
      expect(families.get('temporal_activity_execution_latency')!.type).toBe('HISTOGRAM');
      const completed = families.get('temporal_workflow_completed_total')!.metrics.reduce((sum, m) => sum + Number(m.value), 0);
      expect(completed).toBeGreaterThanOrEqual(3); // learnToSee, buildDataset, renderVideo
    });

    it("serves bloomsight's: images by outcome and failure reason, training, checkpoints and rendering", () => {
      expect(sample(families, `${METRIC.imagesDownloaded}_total`)).toBe(8);
      const failed = families.get(`${METRIC.imagesFailed}_total`)!.metrics;
      expect(failed.map((m) => m.labels?.reason).sort()).toEqual(['http-status', 'not-an-image']);
      expect(sample(families, METRIC.trainingStep)).toBe(result.steps);
      expect(sample(families, METRIC.trainingImagesPerSecond)).toBeGreaterThan(0);
      for (const loss of ['g_gan', 'g_l1', 'd']) expect(sample(families, METRIC.trainingLoss, { loss })).toBeGreaterThan(0);
      expect(sample(families, METRIC.checkpointAge)).toBeGreaterThanOrEqual(0);
      expect(sample(families, `${METRIC.renderFrames}_total`)).toBe(8);
      expect(sample(families, METRIC.renderFramesPerSecond)).toBeGreaterThan(0);
      // The activity's tags come with them: which queue and activity reported.
      expect(families.get(METRIC.trainingStep)!.metrics[0]!.labels).toMatchObject({ activityType: 'trainModel', taskQueue: expect.stringMatching(/-gpu$/) });
    });
  });

  describe('the Grafana dashboard (deploy/grafana/dashboards/bloomsight.json)', () => {
    // Counters the SDK creates at the first failure: a clean run cannot show them.
    const ON_FAILURE_ONLY = new Set(['temporal_activity_execution_failed_total']);
    // Labels Prometheus adds (deploy/prometheus/prometheus.yml) or histogram buckets carry.
    const ADDED_LABELS = new Set(['worker', 'le']);

    it('asks only for metrics, and groups only by labels, that a worker serves', async () => {
      const families = await scrapeMetrics(metricsUrl);
      const dashboard = JSON.parse(await readFile(join(__dirname, '..', 'deploy', 'grafana', 'dashboards', 'bloomsight.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
      const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
      expect(exprs.length).toBeGreaterThanOrEqual(12);
      const used = new Set<string>();
      for (const expr of exprs) {
        const metrics = [...expr.matchAll(/\b(?:temporal|bloomsight)_[a-z_]+/g)].map(([name]) => name.replace(/_bucket$/, ''));
        const labels = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap(([, list]) => list!.split(',').map((l) => l.trim()));
        for (const name of metrics) {
          used.add(name);
          if (ON_FAILURE_ONLY.has(name)) continue;
          const family = families.get(name);
          expect(family, `${name} in ${expr}`).toBeDefined();
          const served = new Set(family!.metrics.flatMap((m) => Object.keys(m.labels ?? {})));
          if (family!.type !== 'HISTOGRAM') for (const label of labels) if (!ADDED_LABELS.has(label)) expect([...served], `label ${label} of ${name}`).toContain(label);
        }
      }
      // Every bloomsight metric has a panel.
      expect([...families.keys()].filter((n) => n.startsWith('bloomsight_')).filter((n) => !used.has(n))).toEqual([]);
    });
  });

  describe('the Temporal Web UI in headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    let runPage: string;
    beforeAll(async () => {
      if (chromiumProblem) return;
      const ui = testServices().temporal.uiUrl;
      expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const { runId } = await client.workflow.getHandle(runKey).describe();
      runPage = workflowUiUrl(ui!, 'default', runKey, runId).replace(/\/history$/, '');
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it.skipIf(!!chromiumProblem && !process.env.CI)('has Chromium', () => {
      expect(chromiumProblem).toBeUndefined();
    });

    it.skipIf(!!chromiumProblem)('lists the finished run and both child workflows', async () => {
      const query = `WorkflowId STARTS_WITH "${runKey}"`;
      await page.goto(`${testServices().temporal.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const rows = page.locator('tr', { hasText: runKey });
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(3);
      const text = (await rows.allInnerTexts()).join('\n');
      expect(text).toMatch(new RegExp(`COMPLETED\\s+${runKey}\\s+\\S+\\s+learnToSee`));
      expect(text).toMatch(new RegExp(`${runKey}--dataset\\s+\\S+\\s+buildDataset`));
      expect(text).toMatch(new RegExp(`${runKey}--render\\s+\\S+\\s+renderVideo`));
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'workflows.png') });
    });

    it.skipIf(!!chromiumProblem)("shows the run's children under Relationships", async () => {
      await page.goto(`${runPage}/relationships`);
      const main = page.locator('main');
      await expect.poll(() => main.innerText(), { timeout: 30_000 }).toContain(`${runKey}--render`);
      const text = await main.innerText();
      expect(text).toMatch(/Child Count\s+2/);
      expect(text).toMatch(new RegExp(`buildDataset\\s+${runKey}--dataset`));
      expect(text).toMatch(new RegExp(`renderVideo\\s+${runKey}--render`));
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'relationships.png') });
    });

    it.skipIf(!!chromiumProblem)("runs the progress query and shows its result", async () => {
      await page.goto(`${runPage}/query`);
      await expect.poll(() => page.locator('main').innerText(), { timeout: 30_000 }).toContain('Run Query');
      // The query types come from the workers (the worker process still runs): progress is offered.
      await expect.poll(() => page.getByTestId('query-select').inputValue(), { timeout: 30_000 }).toBe('progress');
      await page.getByRole('button', { name: 'Run Query' }).click();
      await expect.poll(() => page.locator('main').innerText(), { timeout: 30_000 }).toContain('"stage": "done"');
      const text = await page.locator('main').innerText();
      expect(text).toContain(`"runKey": "${runKey}"`);
      expect(text).toContain(`"exportKey": "${result.exportKey}"`);
      expect(text).toMatch(/"pairs": 8/);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'progress-query.png') });
    });
  });
});

describe('`bloomsight services up`', () => {
  it("prints the Temporal Web UI's URL, which serves the UI, and `services down` stops it", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloomsight-services-up-'));
    const bloomsight = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'cli', 'main.ts'), 'services', ...args, '--dir', dir], { cwd: join(__dirname, '..') });
    try {
      const up = await bloomsight('up');
      const ui = up.stdout.match(/^# Temporal Web UI: (http:\/\/127\.0\.0\.1:\d+)$/m)?.[1];
      expect(ui, up.stdout).toBeDefined();
      const page = await fetch(ui!);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      expect((await bloomsight('status')).stdout).toContain(`Web UI ${ui}`);
    } finally {
      await bloomsight('down');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
