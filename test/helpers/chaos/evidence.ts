/**
 * Evidence about a run read from the outside, shared by the chaos run and the fault tests: the steps a
 * kill cost training (from the proxy's record of checkpoint traffic), and how often each activity ran
 * (from the workflow histories).
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { S3Request } from './s3-proxy';

export interface LostSteps {
  /** Newest complete checkpoint of the interrupted attempt (0 = none yet). */
  lastCheckpoint: number;
  /** Most steps the interrupted attempt can have reached. */
  reachedAtMost: number;
  /** Checkpoint the next attempt resumed from. */
  resumedFrom: number;
  /** Upper bound of the steps computed again. */
  redone: number;
}

/** The checkpoint step, attempt and part a key names, if it is a checkpoint key of `modelId`. */
function checkpointOf(key: string, modelId: string): { step: number; attempt: string; part: string } | undefined {
  const match = new RegExp(`^models/${modelId}/checkpoints/(\\d+)-([^/]+)/(.+)$`).exec(key);
  return match ? { step: Number(match[1]), attempt: match[2]!, part: match[3]! } : undefined;
}

/**
 * For each kill (by time): the steps training computed again because of it, bounded from the S3
 * traffic. Every training attempt after the first begins by reading the newest complete checkpoint
 * (its generator.bin GET marks the attempt's start and the step it resumed from). Checkpoints are due
 * every `interval` steps, so an attempt reached at most its newest complete checkpoint plus one interval,
 * or exactly the checkpoint it was writing when it died with that one unfinished, or its starting
 * point plus one interval if it wrote none. Each interruption is charged to the last kill before the
 * next attempt began, preferring kills that can stop training (of the gpu worker, the S3 server or
 * Temporal; `stopsTraining: false` marks the others); a kill charged with none did not interrupt it.
 */
export function stepsRedoneAfterKills(
  log: readonly S3Request[],
  run: { bucket: string; modelId: string; interval: number },
  kills: ReadonlyArray<{ time: number; stopsTraining?: boolean }>,
): { perKill: Array<LostSteps | undefined>; unexplained: LostSteps[] } {
  const mine = log.filter((r) => r.bucket === run.bucket);
  const trainedAt = mine.find((r) => r.method === 'PUT' && r.status === 200 && r.key.endsWith(`/train.json`) && r.key.startsWith('runs/'))?.start ?? Infinity;
  const puts = mine.filter((r) => r.method === 'PUT').flatMap((r) => {
    const c = checkpointOf(r.key, run.modelId);
    return c ? [{ ...c, start: r.start, stored: r.status === 200 }] : [];
  });
  // Attempt starts: checkpoint reads before training was recorded, one per attempt (a skipped damaged
  // folder makes an attempt read twice in a row, with no write between: the last read counts).
  const starts: Array<{ time: number; step: number }> = [];
  for (const r of mine) {
    const c = r.method === 'GET' && r.status === 200 && r.start < trainedAt ? checkpointOf(r.key, run.modelId) : undefined;
    if (!c || c.part !== 'generator.bin') continue;
    const previous = starts.at(-1);
    if (previous && !puts.some((p) => p.start > previous.time && p.start < r.start)) starts.pop();
    starts.push({ time: r.start, step: c.step });
  }
  const segments = [{ time: -Infinity, step: 0 }, ...starts];
  const charged = new Map<number, LostSteps>();
  const unexplained: LostSteps[] = [];
  for (let j = 0; j + 1 < segments.length; j++) {
    const from = segments[j]!;
    const next = segments[j + 1]!;
    const written = puts.filter((p) => p.start >= from.time && p.start < next.time);
    const newest = written.length ? Math.max(...written.map((p) => p.step)) : undefined;
    const complete = newest !== undefined && written.some((p) => p.step === newest && p.part === 'manifest.json' && p.stored);
    const reachedAtMost = newest === undefined ? from.step + run.interval : newest + (complete ? run.interval : 0);
    const lastCheckpoint = newest === undefined ? from.step : complete ? newest : newest - run.interval;
    const lost = { lastCheckpoint, reachedAtMost, resumedFrom: next.step, redone: Math.max(0, reachedAtMost - next.step) };
    const candidates = kills.map((k, i) => ({ k, i })).filter(({ k }) => k.time >= from.time && k.time < next.time);
    const culprit = candidates.filter(({ k }) => k.stopsTraining !== false).at(-1) ?? candidates.at(-1);
    if (culprit) charged.set(culprit.i, lost);
    else unexplained.push(lost); // an attempt ended with no kill: a heartbeat timeout under load, say
  }
  return { perKill: kills.map((_, i) => charged.get(i)), unexplained };
}

export interface ActivityRun {
  workflowId: string;
  activityType: string;
  /** sha256 of the activity's input payloads: the same work asked for again has the same digest. */
  input: string;
  /** Attempt that completed (or last failed); 1 = never retried. */
  attempt: number;
  /** Times this activity, with this input, was scheduled (more than 1 = finished work asked for again). */
  scheduled: number;
  completed: boolean;
}

/** Every activity of the given workflows' histories, identified by type and input. */
export async function activityRuns(client: Client, workflowIds: readonly string[]): Promise<ActivityRun[]> {
  const runs: ActivityRun[] = [];
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const byEvent = new Map<string, ActivityRun>();
    const byWork = new Map<string, ActivityRun>();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const hash = createHash('sha256');
        for (const payload of scheduled.input?.payloads ?? []) hash.update(payload.data ?? new Uint8Array());
        const activityType = scheduled.activityType?.name ?? '';
        const input = hash.digest('hex').slice(0, 16);
        const work = `${activityType} ${input}`;
        const run = byWork.get(work) ?? { workflowId, activityType, input, attempt: 0, scheduled: 0, completed: false };
        run.scheduled += 1;
        byWork.set(work, run);
        byEvent.set(String(event.eventId), run);
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) {
        const run = byEvent.get(String(started.scheduledEventId));
        if (run) run.attempt = started.attempt ?? 0;
      }
      if (event.activityTaskCompletedEventAttributes) {
        const run = byEvent.get(String(event.activityTaskCompletedEventAttributes.scheduledEventId));
        if (run) run.completed = true;
      }
    }
    runs.push(...byWork.values());
  }
  return runs;
}
