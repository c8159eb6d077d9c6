import type { ComparisonProgress } from '../workflows/compare-variants';
import type { RunProgress } from '../workflows/messages';

/** A text progress bar: `[#########.........] 45%`. */
export function bar(done: number, total: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** The lines `bloomsight status` prints for one run (or one comparison: its variants, each its own run). */
export function formatProgress(p: RunProgress | ComparisonProgress): string[] {
  const d = p.dataset;
  const lines = [`${'variants' in p ? 'comparison' : 'run'} ${p.runKey}: ${p.stage}${p.error ? ` — ${p.error}` : ''}`];
  lines.push(`  dataset  ${bar(d.batchesDone, Math.max(d.batches, d.batchesDone))}  ${d.downloaded} downloaded, ${d.duplicates} duplicates, ${d.failed} failed, ${d.pairs} pairs${p.datasetId ? ` (dataset ${p.datasetId})` : ''}`);
  if ('variants' in p) {
    for (const v of p.variants) lines.push(`  ${v.name.padEnd(24)} ${v.status}${v.steps !== undefined ? `, ${v.steps} steps` : ''}${v.error ? ` — ${v.error}` : ''}   (bloomsight status ${v.workflowId})`);
    if (p.reportKey) lines.push(`  report   ${p.reportKey}`);
    return lines;
  }
  if (p.training) {
    const t = p.training;
    const byTime = t.elapsedSeconds / t.timeGoalSeconds;
    const bySteps = t.step / t.maxSteps;
    const fraction = Math.max(byTime, bySteps);
    lines.push(
      `  training ${bar(fraction * 1000, 1000)}  step ${t.step}${bySteps >= byTime ? `/${t.maxSteps}` : ''}, ${formatDuration(t.elapsedSeconds)} of ${formatDuration(t.timeGoalSeconds)}, ` +
        `${t.imagesPerSecond.toFixed(2)} img/s, ETA ${formatDuration(t.etaSeconds)}`,
    );
    lines.push(`           losses G-GAN ${t.losses.gGan.toFixed(3)}  G-L1 ${t.losses.gL1.toFixed(3)}  D ${t.losses.d.toFixed(3)}${t.checkpointStep !== undefined ? `  (checkpoint at step ${t.checkpointStep})` : ''}`);
  }
  if (p.exportKey) lines.push(`  export   ${p.exportKey}`);
  if (p.render) lines.push(`  render   ${bar(p.render.chunksDone, p.render.chunks)}  ${p.render.outputKey ?? ''}`);
  return lines;
}
