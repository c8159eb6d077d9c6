// The comparison report: several variants trained on the same photos, side by side, in one
// self-contained HTML file like the run report (inline CSS and SVG, images as data: URIs, only the
// clip referenced by a relative path). Library code only: the comparison workflow gathers the data.
import { z } from 'zod';
import { redactSecrets, ReportDataSchema } from './build-report';
import { html, imageDataUri, trusted, type SafeHtml } from './html';
import { formatCount, formatDuration, parametersSection, stat, STYLE, videoSection } from './sections';
import { linesChart, type Point } from './svg-chart';

const count = z.number().int().min(0);
const imageBytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected encoded image bytes (a Buffer)');
const losses = z.object({ gGan: z.number(), gL1: z.number(), d: z.number() });

/** One row of pictures: the photo, then each variant's partial information and output, in variant order. */
const RowSchema = z.object({
  name: z.string(),
  photo: imageBytes,
  variants: z.array(z.object({ partial: imageBytes, output: imageBytes })),
});

export const ComparisonReportDataSchema = z
  .object({
    title: z.string().min(1),
    runKey: z.string().min(1),
    createdAt: z.string().min(1),
    /** The comparison input; secrets are redacted by key name anyway. */
    parameters: z.record(z.string(), z.unknown()),
    /** The shared dataset (one search, one download, one conform for every variant). */
    dataset: ReportDataSchema.shape.dataset,
    variants: z
      .array(
        z.object({
          name: z.string().min(1),
          modelId: z.string(),
          datasetId: z.string(),
          partial: z.record(z.string(), z.unknown()),
          trainOverrides: z.record(z.string(), z.unknown()),
          steps: count,
          trainingSeconds: z.number().min(0),
          imagesPerSecond: z.number().min(0),
          backend: z.string(),
          finalLosses: losses.optional(),
          /** Mean |output - photo| over the held-out photos, pixel values in [-1, 1] (the training L1's units); absent without held-out photos. */
          heldOutL1: z.number().min(0).optional(),
          lossHistory: z.array(losses.extend({ step: z.number() })),
        }),
      )
      .min(1),
    /** Whether the examples are held-out photos (false: the dataset was too small to keep any out). */
    heldOut: z.boolean(),
    examples: z.array(RowSchema),
    /** Frames of the video, each made into partial information by every variant and interpreted. */
    frames: z.array(RowSchema).default([]),
    video: ReportDataSchema.shape.video,
    notes: z.array(z.string()).optional(),
  })
  .superRefine((data, ctx) => {
    for (const [section, rows] of [['examples', data.examples], ['frames', data.frames]] as const) {
      rows.forEach((row, i) => {
        if (row.variants.length !== data.variants.length) {
          ctx.addIssue({ code: 'custom', path: [section, i, 'variants'], message: `has ${row.variants.length} columns for ${data.variants.length} variants` });
        }
      });
    }
  });

export type ComparisonReportData = z.input<typeof ComparisonReportDataSchema>;
type Comparison = z.output<typeof ComparisonReportDataSchema>;
type Variant = Comparison['variants'][number];

/** Line colours of the variants (Tableau 10), repeating after ten. */
export const VARIANT_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const colourOf = (i: number) => VARIANT_COLOURS[i % VARIANT_COLOURS.length]!;

/** Renders the comparison report. Throws a ZodError when `data` does not match ComparisonReportDataSchema. */
export function buildComparisonReport(data: ComparisonReportData): string {
  const report = ComparisonReportDataSchema.parse(data);
  const parameters = redactSecrets(report.parameters) as Record<string, unknown>;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${report.title}</title>
${report.variants.map((v) => html`<meta name="bloomsight-model" content="${v.modelId}" data-variant="${v.name}">
`)}<style>${STYLE}${COMPARISON_STYLE}</style>
</head>
<body>
<header>
<h1>${report.title}</h1>
<p class="meta">Comparison <code>${report.runKey}</code> · ${report.variants.length} variants · ${report.createdAt}</p>
</header>
${variantsSection(report)}
${datasetSection(report)}
${report.notes?.length ? html`<section id="notes"><h2>Notes</h2><ul>${report.notes.map((note) => html`<li>${note}</li>`)}</ul></section>` : null}
${lossSection(report)}
${rowsSection('examples', report.heldOut ? 'Held-out photos' : 'Training photos', report.examples, report.variants, report.heldOut ? 'No held-out photos.' : 'No photos.')}
${report.frames.length ? rowsSection('frames', 'Video frames', report.frames, report.variants, '') : null}
${videoSection(report.video)}
${parametersSection(parameters, 'Comparison')}
<footer>Generated by bloomsight.</footer>
</body>
</html>
`.value;
}

/** What a variant changes, in words: `kmeans · k 5 · blurSigma 1.5`. */
function describePartial(partial: Record<string, unknown>): string {
  return [String(partial.method), ...Object.entries(partial).filter(([key]) => key !== 'method').map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)].join(' · ');
}

function swatch(i: number): SafeHtml {
  return html`<span class="swatch" style="background:${colourOf(i)}"></span>`;
}

function variantsSection({ variants, heldOut }: Comparison): SafeHtml {
  const scored = variants.filter((v) => v.heldOutL1 !== undefined);
  const best = scored.length > 1 ? Math.min(...scored.map((v) => v.heldOutL1!)) : undefined;
  return html`<section id="variants">
<h2>Variants</h2>
<div class="wide"><table class="data" id="variant-table">
<thead><tr><th>Variant</th><th>Partial information</th><th>Training options</th><th class="num">Steps</th><th class="num">Training time</th><th class="num">Images/s</th><th class="num">Final L1 (training)</th><th class="num">Held-out L1</th></tr></thead>
<tbody>
${variants.map((v, i) => {
  const overrides = Object.entries(v.trainOverrides);
  const isBest = best !== undefined && v.heldOutL1 === best;
  return html`<tr data-variant="${v.name}"${isBest ? trusted(' class="best"') : null}><th scope="row">${swatch(i)}<strong>${v.name}</strong><br><code>${v.modelId}</code></th><td>${describePartial(v.partial)}</td><td>${overrides.length ? overrides.map(([key, value]) => html`<code>${key}</code> ${JSON.stringify(value)} `) : '—'}</td><td class="num">${formatCount(v.steps)}</td><td class="num">${formatDuration(v.trainingSeconds)}</td><td class="num">${v.imagesPerSecond.toFixed(1)}</td><td class="num">${v.finalLosses ? v.finalLosses.gL1.toFixed(4) : '—'}</td><td class="num held-out-l1">${v.heldOutL1 !== undefined ? v.heldOutL1.toFixed(4) : '—'}${isBest ? html` <span class="badge">lowest</span>` : null}</td></tr>
`;
})}</tbody>
</table></div>
<p class="muted">Held-out L1: mean absolute difference between each variant's output and the photo over the ${heldOut ? 'held-out photos (never trained on; the same photos for every variant)' : 'photos below (the dataset was too small to hold any out, so they were trained on)'}, pixel values scaled to [-1, 1] like the training L1. Lower is closer to the photo; it does not measure how striking a picture is.</p>
</section>`;
}

function datasetSection({ dataset }: Comparison): SafeHtml {
  return html`<section id="dataset" class="cards"><div class="card">
<h2>Shared dataset</h2>
<dl class="stats">
${stat('Images found', formatCount(dataset.found))}
${stat('Downloaded', formatCount(dataset.downloaded))}
${stat('Duplicates', formatCount(dataset.duplicates))}
${stat('Failed', formatCount(dataset.failed))}
${stat('Photos', formatCount(dataset.pairs))}
${stat('Dataset id', html`<code>${dataset.datasetId}</code>`)}
</dl>
<p class="muted">Searched, downloaded and conformed once; each variant's partial information is made from these photos.</p>
</div></section>`;
}

function lossSection({ variants }: Comparison): SafeHtml {
  const chart = (title: string, pick: (record: Variant['lossHistory'][number]) => number) =>
    linesChart(
      variants.map((v, i) => ({ label: v.name, colour: colourOf(i), points: v.lossHistory.map((record): Point => ({ x: record.step, y: pick(record) })) })),
      { title },
    );
  return html`<section id="losses">
<h2>Loss curves</h2>
<div class="charts">
${chart('Generator GAN loss', (r) => r.gGan)}
${chart('Generator L1 loss', (r) => r.gL1)}
${chart('Discriminator loss', (r) => r.d)}
</div>
<p class="muted">Every variant on shared axes; long histories are averaged into at most 500 buckets per line, the shaded band showing each bucket's minimum to maximum.</p>
</section>`;
}

function rowsSection(id: string, heading: string, rows: Comparison['examples'], variants: Variant[], empty: string): SafeHtml {
  const image = (bytes: Uint8Array, alt: string) => html`<img src="${imageDataUri(bytes)}" alt="${alt}">`;
  return html`<section id="${id}">
<h2>${heading}</h2>
${
  rows.length
    ? html`<div class="wide"><table class="examples compare">
<thead>
<tr><th rowspan="2"></th><th rowspan="2">Photo</th>${variants.map((v, i) => html`<th colspan="2" class="variant">${swatch(i)}${v.name}</th>`)}</tr>
<tr>${variants.map(() => html`<th class="sub">partial</th><th class="sub">output</th>`)}</tr>
</thead>
<tbody>
${rows.map(
  (row) => html`<tr><th scope="row">${row.name}</th><td>${image(row.photo, `photo ${row.name}`)}</td>${row.variants.map(
    (cell, i) => html`<td>${image(cell.partial, `${variants[i]!.name}: partial information of ${row.name}`)}</td><td>${image(cell.output, `${variants[i]!.name}: output for ${row.name}`)}</td>`,
  )}</tr>
`,
)}</tbody>
</table></div>`
    : html`<p class="muted">${empty}</p>`
}
</section>`;
}

const COMPARISON_STYLE = trusted(`
.wide { overflow-x: auto; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
#variant-table tr.best td.held-out-l1 { font-weight: 700; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #2f855a; color: #fff; font-weight: 600; }
table.compare img { width: min(160px, 14vw); }
table.compare th.variant { border-bottom: 2px solid #ddd; white-space: nowrap; }
table.compare th.sub { font-weight: normal; color: #666; font-size: 12px; }
`);
