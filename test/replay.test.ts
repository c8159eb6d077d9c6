/**
 * Safe deploys: every history recorded by scripts/record-histories.ts (test/fixtures/histories/<date>-<commit>/, and any other history file there)
 * replays on today's workflow code with the SDK's replayer, so a change that would break open runs
 * fails here, not in the middle of a two-hour training. docs/deploying.md says how to change safely.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { bundleWorkflowCode, makeTelemetryFilterString, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_IDS } from '../scripts/record-histories';
import { workflowBundle } from './helpers/temporal';

const HISTORIES = join(__dirname, 'fixtures', 'histories');
const CHANGES = join(__dirname, 'fixtures', 'workflow-changes');
const files = readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json') && basename(f) !== WORKFLOW_IDS)
  .sort()
  .map((f) => join(HISTORIES, f));
const load = (file: string): History => historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
const name = (file: string) => relative(HISTORIES, file);
/**
 * The workflow id a history ran under (child workflow ids derive from it, so replay needs it): from
 * workflow-ids.json beside it (scripts/record-histories.ts writes one), else the file's name.
 */
function workflowIdOf(file: string): string {
  const index = join(dirname(file), WORKFLOW_IDS);
  const ids = existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as Record<string, string>) : {};
  return ids[basename(file)] ?? basename(file, '.json');
}
const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
// The failed replays below are expected: keep Core's warnings about them out of the test output.
Runtime.install({ logger: quietLogger as never, telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });

/** The types of event a history holds, and its workflow type. */
function summary(history: History) {
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  return {
    workflowType: started?.workflowType?.name,
    scheduledBy: started?.searchAttributes?.indexedFields?.TemporalScheduledById ? 'schedule' : undefined,
    continuedAsNew: events.some((e) => e.workflowExecutionContinuedAsNewEventAttributes),
    children: events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? []),
  };
}

async function replayAll(bundle: WorkflowBundleWithSourceMap): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  // runReplayHistories reports by workflow id, which the runs of one chain share: one history at a time.
  for (const file of files) {
    const error = await Worker.runReplayHistory({ workflowBundle: bundle }, load(file), workflowIdOf(file)).then(() => undefined, (e: Error) => e);
    results.set(name(file), error);
  }
  return results;
}

describe('recorded workflow histories', () => {
  it('cover each workflow: learnToSee with a render, buildDataset continuing as new, renderVideo, a scheduled retraining, a comparison and its children', () => {
    const all = files.map((file) => summary(load(file)));
    expect(all.some((h) => h.workflowType === 'learnToSee' && h.children.includes('buildDataset') && h.children.includes('renderVideo') && !h.scheduledBy)).toBe(true);
    expect(all.some((h) => h.workflowType === 'buildDataset' && h.continuedAsNew)).toBe(true);
    expect(all.some((h) => h.workflowType === 'renderVideo')).toBe(true);
    expect(all.some((h) => h.workflowType === 'learnToSee' && h.scheduledBy === 'schedule')).toBe(true);
    expect(all.some((h) => h.workflowType === 'compareVariants' && h.children.includes('trainVariant') && h.children.includes('renderComparison'))).toBe(true);
    expect(all.some((h) => h.workflowType === 'trainVariant')).toBe(true);
    expect(all.some((h) => h.workflowType === 'renderComparison')).toBe(true);
  });

  it.each(files.map(name))('%s replays on the current workflow code', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load(join(HISTORIES, file)), workflowIdOf(join(HISTORIES, file)));
  });
});

describe('a change to workflow code', () => {
  let unguarded: WorkflowBundleWithSourceMap;
  let guarded: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    [unguarded, guarded] = await Promise.all(['unguarded.ts', 'patched.ts'].map((f) => bundleWorkflowCode({ workflowsPath: join(CHANGES, f), logger: quietLogger as never })));
  });

  it('fails replay of the open runs it would break when made without patched()', async () => {
    const results = await replayAll(unguarded);
    const failed = [...results].filter(([, error]) => error).map(([file]) => file);
    const learnToSeeHistories = files.filter((f) => summary(load(f)).workflowType === 'learnToSee').map(name);
    expect(failed.sort()).toEqual(learnToSeeHistories.sort());
    for (const file of failed) expect(results.get(file)).toBeInstanceOf(DeterminismViolationError);
    expect(results.get(failed[0]!)!.message).toMatch(/[Nn]ondeterminism/);
  });

  it('replays every recorded history when the same change is guarded by patched()', async () => {
    const results = await replayAll(guarded);
    expect([...results.values()].filter(Boolean)).toEqual([]);
    expect(results.size).toBe(files.length);
  });
});
