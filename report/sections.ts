// The pieces both reports are made of (the run report and the comparison report): the page style,
// statistics, the video player with its GIF fallback, and the parameter table.
import { html, imageDataUri, trusted, type SafeHtml } from './html';

export function stat(label: string, value: string | SafeHtml): SafeHtml {
  return html`<dt>${label}</dt><dd>${value}</dd>`;
}

export function videoSection(video: { mp4Path?: string; gif?: Uint8Array } | undefined): SafeHtml | null {
  if (!video?.mp4Path && !video?.gif) return null;
  const gif = video.gif
    ? html`<img id="clip-fallback" src="${imageDataUri(video.gif)}" alt="animated preview of the rendered video"${video.mp4Path ? trusted(' hidden') : null}>`
    : null;
  // onerror swaps in the GIF when the clip was not copied along with the report or cannot be decoded.
  const player = video.mp4Path
    ? html`<video id="clip" src="${video.mp4Path}" controls loop muted playsinline preload="auto"${gif ? trusted(` onerror="this.hidden=true;document.getElementById('clip-fallback').hidden=false"`) : null}></video>
<p class="muted"><a href="${video.mp4Path}">Open the clip</a> (kept next to this report).</p>`
    : null;
  return html`<section id="video">
<h2>Video</h2>
${player}
${gif}
</section>`;
}

export function parametersSection(parameters: Record<string, unknown>, what = 'Run'): SafeHtml {
  const rows = flatten(parameters);
  return html`<section id="parameters">
<h2>${what} parameters</h2>
<table class="data params"><tbody>
${rows.map(([key, value]) => html`<tr><th scope="row"><code>${key}</code></th><td>${displayValue(value)}</td></tr>`)}
</tbody></table>
<details><summary>${what} input as JSON</summary><pre>${toJson(parameters)}</pre></details>
</section>`;
}

/** Nested objects become dotted paths; arrays of plain values stay one row. */
function flatten(value: unknown, path = '', rows: Array<[string, unknown]> = []): Array<[string, unknown]> {
  const isObject = value !== null && typeof value === 'object';
  const isPlainArray = Array.isArray(value) && value.every((item) => item === null || typeof item !== 'object');
  if (!isObject || isPlainArray || (path && Object.keys(value).length === 0)) {
    rows.push([path, value]);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${path}[${i}]`, rows));
  } else {
    for (const [key, inner] of Object.entries(value)) flatten(inner, path ? `${path}.${key}` : key, rows);
  }
  return rows;
}

function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '—';
  return toJson(value, 0);
}

function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner), indent) ?? String(value);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const STYLE = trusted(`
[hidden] { display: none !important; }
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; background: #f6f6f4; }
body { max-width: 1240px; margin: 0 auto; padding: 24px 32px 48px; line-height: 1.45; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
.card h2 { margin-top: 0; font-size: 18px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; overflow-wrap: anywhere; }
.meta, .muted, footer { color: #666; }
footer { margin-top: 40px; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; margin-top: 24px; }
.card { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; padding: 16px 20px; }
dl.stats { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 0; }
dl.stats dt { color: #666; }
dl.stats dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; }
table.data th, table.data td { border-bottom: 1px solid #eee; padding: 4px 16px 4px 0; text-align: left; vertical-align: top; font-weight: normal; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.params td { overflow-wrap: anywhere; }
table.examples th { font-weight: 600; font-size: 14px; padding: 4px 8px; text-align: center; }
table.examples tbody th { text-align: right; color: #555; font-weight: normal; max-width: 160px; overflow-wrap: anywhere; }
table.examples td { padding: 4px; }
table.examples img { display: block; width: min(256px, 26vw); height: auto; aspect-ratio: 1; object-fit: contain; background: #e8e8e8; border-radius: 4px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
.charts svg { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; width: 100%; height: auto; }
video, #clip-fallback { display: block; width: min(512px, 100%); height: auto; background: #000; border-radius: 6px; }
pre { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 12px; overflow: auto; }
`);
