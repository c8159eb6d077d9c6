// A hand-written SVG line chart: axes, "nice" ticks, a title, and for long series a min/max band
// behind a line of bucket means, so thousands of noisy loss points stay readable and small.
import { html, type HtmlValue, type SafeHtml } from './html';

export interface Point {
  x: number;
  y: number;
}

/** Consecutive points reduced to one: mean position plus the y range they covered. */
export interface Bucket {
  x: number;
  mean: number;
  min: number;
  max: number;
}

export interface LineChartOptions {
  title: string;
  xLabel?: string;
  colour?: string;
  width?: number;
  height?: number;
  /** Longer series are averaged into this many buckets. */
  maxPoints?: number;
}

const MARGIN = { left: 56, right: 24, top: 34, bottom: 44 };
const AXIS_COLOUR = '#555';
const GRID_COLOUR = '#e4e4e4';
const LEGEND_ROW = 18;

/** Splits points (in x order) into at most maxBuckets runs of nearly equal length. */
export function bucketSeries(points: readonly Point[], maxBuckets: number): Bucket[] {
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const buckets = Math.min(finite.length, Math.max(1, Math.floor(maxBuckets)));
  const out: Bucket[] = [];
  for (let b = 0; b < buckets; b++) {
    const run = finite.slice(Math.floor((b * finite.length) / buckets), Math.floor(((b + 1) * finite.length) / buckets));
    const ys = run.map((p) => p.y);
    out.push({
      x: run.reduce((sum, p) => sum + p.x, 0) / run.length,
      mean: ys.reduce((sum, y) => sum + y, 0) / ys.length,
      min: Math.min(...ys),
      max: Math.max(...ys),
    });
  }
  return out;
}

/** About `count` round tick values (multiples of 1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    [min, max] = [min - pad, max + pad];
  }
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  // The multiplier nearest to rough/magnitude on a log scale (thresholds are geometric means).
  const ratio = rough / magnitude;
  const step = magnitude * (ratio >= Math.sqrt(50) ? 10 : ratio >= Math.sqrt(10) ? 5 : ratio >= Math.sqrt(2) ? 2 : 1);
  const first = Math.floor(min / step);
  const last = Math.ceil(max / step);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

function formatTick(value: number, step: number): string {
  if (step >= 1000) return `${Number((value / 1000).toPrecision(6))}k`;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toFixed(decimals);
}

export function lineChart(points: readonly Point[], options: LineChartOptions): SafeHtml {
  return linesChart([{ label: options.title, colour: options.colour ?? '#2b6cb0', points }], options);
}

/** One line of a chart with several: its name in the legend and its colour. */
export interface Series {
  label: string;
  colour: string;
  points: readonly Point[];
}

/**
 * Several series on shared axes (the ticks cover all of them), each bucketed like lineChart's one,
 * with a legend when there is more than one. With one series it draws exactly what lineChart does.
 */
export function linesChart(series: readonly Series[], options: Omit<LineChartOptions, 'colour'>): SafeHtml {
  const { title, xLabel = 'step', width = 380, maxPoints = 500 } = options;
  const legendRows = series.length > 1 ? Math.ceil(series.length / 3) : 0;
  const height = (options.height ?? 240) + legendRows * LEGEND_ROW;
  const plot = { left: MARGIN.left, right: width - MARGIN.right, top: MARGIN.top, bottom: height - MARGIN.bottom - legendRows * LEGEND_ROW };
  const lines = series.map((s) => ({ ...s, buckets: bucketSeries(s.points, maxPoints) }));
  const all = lines.flatMap((line) => line.buckets);
  const frame = html`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${title}</text>`;

  if (all.length === 0) {
    return svg(width, height, title, [
      frame,
      html`<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="${GRID_COLOUR}"/>`,
      html`<text x="${width / 2}" y="${(plot.top + plot.bottom) / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text>`,
    ]);
  }

  const xs = all.map((b) => b.x);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 5);
  const yTicks = niceTicks(Math.min(...all.map((b) => b.min)), Math.max(...all.map((b) => b.max)), 5);
  const scale = (value: number, ticks: number[], from: number, to: number) =>
    round(from + ((value - ticks[0]!) / (ticks[ticks.length - 1]! - ticks[0]!)) * (to - from));
  const sx = (x: number) => scale(x, xTicks, plot.left, plot.right);
  const sy = (y: number) => scale(y, yTicks, plot.bottom, plot.top);
  const xStep = xTicks[1]! - xTicks[0]!;
  const yStep = yTicks[1]! - yTicks[0]!;

  const grid = yTicks.map(
    (t) => html`<line x1="${plot.left}" x2="${plot.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="${GRID_COLOUR}"/>
<text x="${plot.left - 6}" y="${sy(t)}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="${AXIS_COLOUR}">${formatTick(t, yStep)}</text>`,
  );
  const xAxis = xTicks.map(
    (t) => html`<line x1="${sx(t)}" x2="${sx(t)}" y1="${plot.bottom}" y2="${plot.bottom + 4}" stroke="${AXIS_COLOUR}"/>
<text x="${sx(t)}" y="${plot.bottom + 17}" text-anchor="middle" font-size="11" fill="${AXIS_COLOUR}">${formatTick(t, xStep)}</text>`,
  );
  const axes = html`<path d="M${plot.left},${plot.top} V${plot.bottom} H${plot.right}" fill="none" stroke="${AXIS_COLOUR}"/>
<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 38}" text-anchor="middle" font-size="12" fill="${AXIS_COLOUR}">${xLabel}</text>`;

  const drawn = lines.map(({ buckets, points, colour, label }) => {
    if (buckets.length === 0) return null;
    // The band only means something when buckets hold more than one point.
    const outline = [...buckets.map((b) => `${sx(b.x)},${sy(b.max)}`), ...[...buckets].reverse().map((b) => `${sx(b.x)},${sy(b.min)}`)];
    const band =
      buckets.length < points.length ? html`<polygon class="range" points="${outline.join(' ')}" fill="${colour}" fill-opacity="0.18" stroke="none"/>` : null;
    const line = html`<polyline class="series" data-series="${label}" points="${buckets.map((b) => `${sx(b.x)},${sy(b.mean)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-linejoin="round"/>`;
    return [band, line];
  });
  const legend =
    legendRows > 0
      ? series.map((s, i) => {
          // Rows below the x-axis label, three entries to a row.
          const x = plot.left + (i % 3) * ((plot.right - plot.left) / 3);
          const y = plot.bottom + MARGIN.bottom + Math.floor(i / 3) * LEGEND_ROW + LEGEND_ROW / 2;
          return html`<g class="legend-item"><rect x="${x}" y="${y - 2}" width="14" height="4" fill="${s.colour}"/><text x="${x + 18}" y="${y}" dominant-baseline="middle" font-size="11" fill="#333">${s.label}</text></g>`;
        })
      : null;

  return svg(width, height, title, [frame, grid, xAxis, drawn, axes, legend]);
}

function svg(width: number, height: number, title: string, body: HtmlValue[]): SafeHtml {
  return html`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${title}" font-family="system-ui, sans-serif">
${body}
</svg>`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
