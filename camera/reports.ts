// Run reports, as `bloomsight serve` shows them: the store's reports/<runKey>/ folders, each report
// given a link to the live camera page of its model. The report files themselves stay as written,
// so a report opened from disk (or copied elsewhere) works as before, without a link to a server.
import { keys, type Store } from '../storage';
import { isSafeName } from './exports';

const REPORT_INDEX = /^reports\/([^/]+)\/index\.html$/;
/** Written by report/build-report.ts into the report's <head>. */
const MODEL_META = /<meta name="bloomsight-model" content="([^"]*)">/;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Run keys that have a report, sorted. */
export async function listReports(store: Store): Promise<string[]> {
  const runKeys: string[] = [];
  for (const { key } of await store.list(keys.reportsPrefix)) {
    const runKey = REPORT_INDEX.exec(key)?.[1];
    if (runKey && isSafeName(runKey)) runKeys.push(runKey);
  }
  return runKeys.sort();
}

export function reportListing(runKeys: readonly string[]): string {
  const items = runKeys.map((runKey) => `<li><a href="/reports/${encodeURIComponent(runKey)}/">${escapeHtml(runKey)}</a></li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bloomsight · run reports</title>
<style>:root { font-family: system-ui, sans-serif; } body { max-width: 720px; margin: 2rem auto; padding: 0 1rem; }</style></head>
<body><h1>Run reports</h1>
${runKeys.length ? `<ul>\n${items}\n</ul>` : '<p>No run has written a report to this store yet.</p>'}
<p><a href="/">Live camera</a></p>
</body></html>
`;
}

/**
 * The model a report shows: the one its <meta name="bloomsight-model"> names, else (reports written
 * before that tag) the run key, which learnToSee also uses as the model id. Undefined unless that
 * model has an export in the store.
 */
export async function reportModel(store: Store, runKey: string, html: string): Promise<string | undefined> {
  const modelId = MODEL_META.exec(html)?.[1] ?? runKey;
  if (!isSafeName(modelId)) return undefined;
  return (await store.exists(`${keys.exportDir(modelId)}/metadata.json`)) ? modelId : undefined;
}

/** The report's HTML with a link to the live page of `modelId` after its header. */
export function withLiveLink(html: string, modelId: string): string {
  const link = `<p id="live-camera" style="margin:12px 0;padding:10px 14px;background:#fff;border:1px solid #e2e2e2;border-radius:8px">` +
    `<a href="/live/${encodeURIComponent(modelId)}/">Open the live camera</a>: model <code>${escapeHtml(modelId)}</code> paints what your camera sees, in this browser.</p>`;
  const at = html.indexOf('</header>');
  return at < 0 ? html.replace(/<body[^>]*>/, (body) => `${body}\n${link}`) : `${html.slice(0, at + '</header>'.length)}\n${link}${html.slice(at + '</header>'.length)}`;
}
