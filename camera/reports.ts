// Run reports, as `bloomsight serve` shows them: the store's reports/<runKey>/ folders, each report
// given a link to the live camera page of its model. The report files themselves stay as written,
// so a report opened from disk (or copied elsewhere) works as before, without a link to a server.
import { escapeHtml, unescapeHtml } from '../report/html';
import { keys, type Store } from '../storage';
import { isSafeName } from './exports';

const REPORT_INDEX = /^reports\/([^/]+)\/index\.html$/;
/**
 * Written into a report's <head> by report/build-report.ts (its model) and report/comparison-report.ts
 * (one per variant, with the variant's name).
 */
const MODEL_META = /<meta name="bloomsight-model" content="([^"]*)"(?: data-variant="([^"]*)")?>/g;

/** A model a report shows, and the variant it is in a comparison. */
export interface ReportModel {
  modelId: string;
  variant?: string;
}

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
 * The models a report shows: those its <meta name="bloomsight-model"> tags name, else (reports written
 * before that tag) the run key, which learnToSee also uses as the model id. Only models with an
 * export in the store.
 */
export async function reportModels(store: Store, runKey: string, html: string): Promise<ReportModel[]> {
  const named = [...html.matchAll(MODEL_META)].map(([, modelId, variant]) => ({ modelId: unescapeHtml(modelId!), variant: variant === undefined ? undefined : unescapeHtml(variant) }));
  const candidates = named.length ? named : [{ modelId: runKey }];
  const exported: ReportModel[] = [];
  for (const model of candidates) {
    if (isSafeName(model.modelId) && (await store.exists(`${keys.exportDir(model.modelId)}/metadata.json`))) exported.push(model);
  }
  return exported;
}

/** The report's HTML with links to the live pages of its models after its header. */
export function withLiveLinks(html: string, models: readonly ReportModel[]): string {
  const href = (modelId: string) => `/live/${encodeURIComponent(modelId)}/`;
  const text =
    models.length === 1 && models[0]!.variant === undefined
      ? `<a href="${href(models[0]!.modelId)}">Open the live camera</a>: model <code>${escapeHtml(models[0]!.modelId)}</code> paints what your camera sees, in this browser.`
      : `Open the live camera with a variant's model, in this browser: ` +
        models.map((m) => `<a href="${href(m.modelId)}">${escapeHtml(m.variant ?? m.modelId)}</a> (<code>${escapeHtml(m.modelId)}</code>)`).join(' · ');
  const link = `<p id="live-camera" style="margin:12px 0;padding:10px 14px;background:#fff;border:1px solid #e2e2e2;border-radius:8px">${text}</p>`;
  const at = html.indexOf('</header>');
  return at < 0 ? html.replace(/<body[^>]*>/, (body) => `${body}\n${link}`) : `${html.slice(0, at + '</header>'.length)}\n${link}${html.slice(at + '</header>'.length)}`;
}
