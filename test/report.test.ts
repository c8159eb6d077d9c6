// The static run report: HTML/SVG helpers in Node, then the real file opened from disk in headless
// Chromium. Needs /usr/bin/chromium (.ci/run installs it) and no servers. Writes the report and a
// full-page screenshot to test-artifacts/report/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformRgb, partialInformation, writePng } from '../imaging';
import { createPrng } from '../imaging/prng';
import { bucketSeries, buildReport, escapeHtml, niceTicks, redactSecrets, REDACTED, ReportDataSchema, type ReportData } from '../report';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHOTOS_DIR = join(__dirname, 'fixtures', 'photos');
const ARTIFACTS_DIR = join(__dirname, '..', 'test-artifacts', 'report');
const INJECTED_QUERY = 'red tulip <script>window.__injected = true</script> & "friends"';
const SECRET_VALUE = 'hunter2-do-not-show';
const LOSS_STEPS = 3000;

describe('report helpers', () => {
  it('escapes text for content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('redacts secret-looking keys at any depth and credentials in URLs', () => {
    const redacted = redactSecrets({
      query: 'tulip',
      store: { secretAccessKey: 'a', accessKeyId: 'b', endpoint: 'http://user:pw@minio:9000' },
      sources: [{ apiKey: 'c', api_key: 'd', token: 'e' }],
      password: { nested: 'f' },
    });
    expect(redacted).toEqual({
      query: 'tulip',
      store: { secretAccessKey: REDACTED, accessKeyId: REDACTED, endpoint: `http://${REDACTED}@minio:9000` },
      sources: [{ apiKey: REDACTED, api_key: REDACTED, token: REDACTED }],
      password: REDACTED,
    });
  });

  it('buckets a long series into at most the asked number of points, keeping its extremes', () => {
    const points = Array.from({ length: 3000 }, (_, i) => ({ x: i, y: i === 1234 ? 99 : Math.sin(i) }));
    const buckets = bucketSeries(points, 500);
    expect(buckets).toHaveLength(500);
    expect(Math.max(...buckets.map((b) => b.max))).toBe(99);
    expect(buckets[0]!.x).toBeCloseTo(2.5);
    expect(bucketSeries(points.slice(0, 7), 500)).toHaveLength(7);
  });

  it('picks round ticks that cover the data', () => {
    expect(niceTicks(0, 3000, 5)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    expect(niceTicks(0.083, 0.41, 5)).toEqual([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]);
    expect(niceTicks(1, 1)).toEqual([0.9, 0.95, 1, 1.05, 1.1]);
  });

  it('renders a run with no history, examples or video as empty placeholders', () => {
    const page = buildReport({
      title: 'empty <run>',
      runKey: 'runs/empty',
      createdAt: '2026-11-03T00:00:00Z',
      parameters: { '<img src=x onerror=alert(1)>': 1 },
      dataset: { found: 0, downloaded: 0, duplicates: 0, failed: 0, pairs: 0, failuresByReason: {}, datasetId: 'ds-none' },
      training: { steps: 0, seconds: 0, imagesPerSecond: 0, backend: 'cpu' },
      lossHistory: [],
      examples: [],
    });
    expect(page.match(/>no data</g)).toHaveLength(3);
    expect(page).not.toContain('<polyline');
    expect(page).toContain('No held-out examples.');
    expect(page).not.toContain('id="video"');
    expect(page).toContain('<title>empty &lt;run&gt;</title>');
    expect(page).not.toContain('<img src=x');
  });

  it('refuses a video path that is absolute or has a scheme', () => {
    const base = { title: 't', runKey: 'r', createdAt: 'now', parameters: {}, lossHistory: [], examples: [] };
    const dataset = { found: 0, downloaded: 0, duplicates: 0, failed: 0, pairs: 0, failuresByReason: {}, datasetId: 'd' };
    const training = { steps: 0, seconds: 0, imagesPerSecond: 0, backend: 'cpu' };
    for (const mp4Path of ['javascript:alert(1)', '/etc/clip.mp4', 'https://x/clip.mp4', '//x/clip.mp4']) {
      expect(ReportDataSchema.safeParse({ ...base, dataset, training, video: { mp4Path } }).success, mp4Path).toBe(false);
    }
    expect(ReportDataSchema.safeParse({ ...base, dataset, training, video: { mp4Path: 'video/clip 1.mp4' } }).success).toBe(true);
  });
});

const chromiumProblem = existsSync(CHROMIUM_PATH)
  ? undefined
  : `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`;

if (chromiumProblem && process.env.CI) {
  it('has Chromium to open the report', () => {
    throw new Error(chromiumProblem);
  });
} else if (chromiumProblem) {
  console.warn(`[report.test] skipping the Chromium tests: ${chromiumProblem}`);
  it.skip(`opens the report in Chromium (skipped: ${chromiumProblem})`, () => {});
} else {
  describe('report opened from disk in headless Chromium', () => {
    let data: ReportData;
    let browser: Browser;
    let page: Page;
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];

    beforeAll(async () => {
      rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      data = await realisticReportData();
      writeFileSync(join(ARTIFACTS_DIR, 'index.html'), buildReport(data));

      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(pathToFileURL(join(ARTIFACTS_DIR, 'index.html')).href, { waitUntil: 'load' });
      // HAVE_CURRENT_DATA, so the screenshot shows the clip's first frame rather than a black box.
      if (data.video?.mp4Path) await page.waitForFunction(() => document.querySelector('video')!.readyState >= 2 || document.querySelector('video')!.error !== null);
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('loads without console errors or page errors', () => {
      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it('shows one row of partial | photo | output per example, every image decoded', async () => {
      const rows = await page.$$eval('table.examples tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td img').length));
      expect(rows).toEqual(data.examples.map(() => 3));
      const widths = await page.$$eval('img', (images) => images.map((img) => ({ alt: img.alt, width: (img as HTMLImageElement).naturalWidth })));
      expect(widths.length).toBeGreaterThanOrEqual(data.examples.length * 3);
      for (const image of widths) expect(image.width, image.alt).toBeGreaterThan(0);
    });

    it('draws the three loss curves as SVG polylines with many points', async () => {
      const charts = await page.$$eval('#losses svg', (svgs) =>
        svgs.map((svg) => ({
          title: svg.getAttribute('aria-label'),
          points: svg.querySelector('polyline')?.getAttribute('points')?.trim().split(/\s+/).length ?? 0,
          ticks: svg.querySelectorAll('text').length,
        })),
      );
      expect(charts.map((chart) => chart.title)).toEqual(['Generator GAN loss', 'Generator L1 loss', 'Discriminator loss']);
      for (const chart of charts) {
        expect(chart.points).toBeGreaterThan(10);
        expect(chart.points).toBeLessThanOrEqual(500);
        expect(chart.ticks).toBeGreaterThan(6);
      }
    });

    it('shows the query as text, runs none of it, and shows no secret', async () => {
      const queryCell = page.locator('table.params tr', { has: page.locator('code', { hasText: /^source\.query$/ }) }).locator('td');
      expect(await queryCell.textContent()).toBe(INJECTED_QUERY);
      expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
      const pageHtml = await page.content();
      expect(pageHtml).not.toContain(SECRET_VALUE);
      expect(readFileSync(join(ARTIFACTS_DIR, 'index.html'), 'utf8')).not.toContain(SECRET_VALUE);
      expect(await page.locator('table.params').textContent()).toContain(REDACTED);
    });

    it('shows the dataset counts and failures by reason', async () => {
      const failures = await page.$$eval('#failures tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
      expect(failures).toEqual([
        ['http-error', '7'],
        ['not-an-image', '3'],
        ['too-small', '2'],
      ]);
      expect(await page.locator('#summary').textContent()).toContain('1,204');
    });

    it.skipIf(!hasFfmpeg())('embeds the clip by relative path and it plays', async () => {
      const video = await page.$eval('video', (v) => ({ src: v.getAttribute('src'), ready: v.readyState, error: v.error?.code ?? null, width: v.videoWidth }));
      expect(video).toMatchObject({ src: 'clip.mp4', error: null, width: 128 });
      expect(video.ready).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#clip-fallback').isHidden()).toBe(true);
    });

    it('falls back to the GIF when the clip is missing', async () => {
      const fallbackPath = join(ARTIFACTS_DIR, 'missing-clip.html');
      writeFileSync(fallbackPath, buildReport({ ...data, video: { ...data.video, mp4Path: 'no-such-clip.mp4' } }));
      const fallbackPage = await browser.newPage();
      await fallbackPage.goto(pathToFileURL(fallbackPath).href, { waitUntil: 'load' });
      await fallbackPage.locator('#clip-fallback').waitFor({ state: 'visible' });
      expect(await fallbackPage.locator('video').isHidden()).toBe(true);
      await fallbackPage.close();
    });

    it('saves a full-page screenshot as the test artefact', async () => {
      const screenshotPath = join(ARTIFACTS_DIR, 'report.png');
      await page.screenshot({ path: screenshotPath, fullPage: true });
      const { width, height } = await sharp(screenshotPath).metadata();
      expect(width).toBe(1280);
      expect(height).toBeGreaterThan(1500);
    });
  });
}

function hasFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

/** A report as the pipeline would make it: fixture photos at 128 px, k-means partials, blurred "outputs". */
async function realisticReportData(): Promise<ReportData> {
  const names = readdirSync(PHOTOS_DIR).filter((name) => name.endsWith('.jpg')).sort();
  const examples: ReportData['examples'] = [];
  for (const name of names) {
    const photo = await conformRgb(readFileSync(join(PHOTOS_DIR, name)), { size: 128 });
    const partial = await partialInformation(photo, { method: 'kmeans', k: 7 });
    const photoPng = await writePng(photo);
    examples.push({
      name: name.replace(/\.jpg$/, ''),
      partial: await writePng(partial),
      photo: photoPng,
      output: await sharp(photoPng).blur(2.5).modulate({ saturation: 0.8 }).png().toBuffer(),
    });
  }
  return {
    title: 'bloomsight run: red tulips',
    runKey: 'runs/2026-11-03T14-05-00Z-red-tulip',
    createdAt: '2026-11-03T14:05:00Z',
    parameters: {
      source: { provider: 'openverse', query: INJECTED_QUERY, limit: 1500 },
      partial: { method: 'kmeans', k: 7, paint: 'palette', blurSigma: 0, seed: 42 },
      training: { maxSteps: LOSS_STEPS, batchSize: 1, lambdaL1: 100, timeGoalSeconds: 3600 },
      render: { fps: 24, size: [256, 256] },
      store: { endpoint: 'http://localhost:9000', bucket: 'bloomsight', secretAccessKey: SECRET_VALUE },
    },
    dataset: {
      found: 1204,
      downloaded: 1150,
      duplicates: 42,
      failed: 12,
      pairs: 1108,
      failuresByReason: { 'too-small': 2, 'http-error': 7, 'not-an-image': 3 },
      datasetId: 'ds-7f3a9c1e2b4d5a60',
    },
    training: { steps: LOSS_STEPS, seconds: 1834.2, imagesPerSecond: 1.6, backend: 'tensorflow', finalLosses: { gGan: 1.62, gL1: 0.091, d: 0.48 } },
    lossHistory: syntheticLossHistory(LOSS_STEPS),
    examples,
    video: await exampleVideo(examples.map((example) => example.photo)),
    notes: ['Training stopped at the step limit.', 'Partial information: k-means, 7 colours <b>not bold</b>.'],
  };
}

/** pix2pix-like curves: L1 decays, the generator's GAN loss creeps up, the discriminator settles; all noisy. */
function syntheticLossHistory(steps: number): ReportData['lossHistory'] {
  const random = createPrng(7);
  const noise = (scale: number) => (random() - 0.5) * 2 * scale;
  return Array.from({ length: steps }, (_, i) => {
    const t = i / steps;
    return {
      step: i + 1,
      gGan: 0.75 + 0.9 * (1 - Math.exp(-3 * t)) + noise(0.25),
      gL1: 0.08 + 0.32 * Math.exp(-4 * t) + noise(0.02),
      d: 0.45 + 0.24 * Math.exp(-3 * t) + noise(0.08),
    };
  });
}

/** An animated GIF of the frames, and (when ffmpeg is installed) clip.mp4 next to the report. */
async function exampleVideo(frames: Uint8Array[]): Promise<NonNullable<ReportData['video']>> {
  const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: 400, loop: 0 }).toBuffer();
  if (!hasFfmpeg()) return { gif };
  const framesDir = mkdtempSync(join(tmpdir(), 'report-frames-'));
  try {
    frames.forEach((frame, i) => writeFileSync(join(framesDir, `frame-${String(i).padStart(3, '0')}.png`), frame));
    const ffmpeg = spawnSync(
      'ffmpeg',
      ['-y', '-loglevel', 'error', '-framerate', '4', '-i', join(framesDir, 'frame-%03d.png'), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(ARTIFACTS_DIR, 'clip.mp4')],
      { encoding: 'utf8' },
    );
    if (ffmpeg.status !== 0) throw new Error(`ffmpeg could not encode the test clip: ${ffmpeg.stderr}`);
  } finally {
    rmSync(framesDir, { recursive: true, force: true });
  }
  return { mp4Path: 'clip.mp4', gif };
}
