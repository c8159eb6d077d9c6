/**
 * Periodic retraining's schedule policies on a real Temporal server, with the schedule exactly as
 * `bloomsight schedule create` makes it (cli/commands/schedule.ts retrainingSchedule). Nothing polls the
 * pipeline queue here, so a started run stays open: "a run still going" as the schedule sees it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, Connection, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainingSchedule } from '../cli/commands/schedule';
import type { RuntimeConfig } from '../config/runtime';
import { startTemporalDevServer, type TemporalDevServer } from '../services/temporal-server';
import { FsStore } from '../storage';
import { PHOTOS_DIR } from './helpers/http-fixtures';
import { testConfig } from './helpers/temporal';
import { configEnv } from './helpers/worker-process';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const INPUT = { provider: 'local-folder', providerOptions: { path: PHOTOS_DIR }, train: { imageSize: 64, ngf: 8, ndf: 8, maxSteps: 4 } };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Terminates the runs a schedule started that are still open. */
async function terminateRuns(client: Client, description: ScheduleDescription): Promise<void> {
  for (const running of description.info.runningActions) {
    await client.workflow.getHandle(running.workflow.workflowId, running.workflow.firstExecutionRunId).terminate('test cleanup').catch(() => {});
  }
}

describe('a schedule triggered twice while its run is still going', () => {
  let config: RuntimeConfig;
  let scratch: string;
  let client: Client;
  let connection: Connection;
  const bloomsight = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...configEnv(config) } });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-schedules-'));
    config = testConfig('schedule overlap', new FsStore(scratch));
    connection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection, namespace: config.temporal.namespace });
  });
  afterAll(async () => {
    await connection?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('starts one run and skips the second trigger (overlap policy Skip)', async () => {
    const id = `overlap-${Date.now().toString(36)}`;
    await bloomsight('schedule', 'create', id, '--line', id, '--every', '7d', '--input', JSON.stringify(INPUT));
    const handle = client.schedule.getHandle(id);
    try {
      expect((await handle.describe()).policies.overlap).toBe('SKIP');
      await bloomsight('schedule', 'trigger', id);
      const first = await until('the first run', async () => (await handle.describe()).info.runningActions[0]);
      expect((await client.workflow.getHandle(first.workflow.workflowId).describe()).status.name).toBe('RUNNING');

      await bloomsight('schedule', 'trigger', id);
      const after = await until('the second trigger to be handled', async () => {
        const d = await handle.describe();
        return d.info.numActionsSkippedOverlap > 0 ? d : undefined;
      });
      expect(after.info.numActionsSkippedOverlap).toBe(1);
      expect(after.info.numActionsTaken).toBe(1);
      expect(after.info.runningActions.map((a) => a.workflow.workflowId)).toEqual([first.workflow.workflowId]);
      expect(after.info.recentActions).toHaveLength(1);
    } finally {
      await terminateRuns(client, await handle.describe());
      await handle.delete();
    }
  });
});

describe('schedules across a Temporal outage: the catch-up window', () => {
  let dir: string;
  let temporal: TemporalDevServer;
  let connection: Connection;
  let client: Client;
  const taskQueues = { pipeline: 'catchup-nobody-polls', io: 'catchup-io', cpu: 'catchup-cpu', gpu: 'catchup-gpu' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bloomsight-catchup-'));
    temporal = await startTemporalDevServer({ dir, ui: false });
  });
  afterAll(async () => {
    await connection?.close().catch(() => {});
    await temporal?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a run missed by less than the window when the server is back, and skips runs missed by more', async () => {
    const connect = async () => {
      connection = await Connection.connect({ address: temporal.address });
      client = new Client({ connection, namespace: temporal.namespace });
    };
    await connect();
    // Every 4 s; one schedule tolerates 10 s of lateness (the server's minimum), the other an hour (the CLI's default).
    const short = retrainingSchedule({ scheduleId: 'catchup-short', line: 'short', every: '4s', catchupWindow: '10s', input: INPUT, taskQueues });
    const long = retrainingSchedule({ scheduleId: 'catchup-long', line: 'long', every: '4s', input: INPUT, taskQueues });
    expect(long.policies?.catchupWindow).toBe('1 hour');
    await client.schedule.create(short);
    await client.schedule.create(long);
    const handles = () => [client.schedule.getHandle('catchup-short'), client.schedule.getHandle('catchup-long')] as [ScheduleHandle, ScheduleHandle];

    // Right after an action (both fire at the same instants), close the open runs and stop the server:
    // the next action is 4 s away, so nothing starts in between.
    const before = await until('an action of both schedules', async () => {
      const ds = await Promise.all(handles().map((h) => h.describe()));
      return ds.every((d) => d.info.numActionsTaken >= 1) ? ds : undefined;
    });
    const handled = (d: ScheduleDescription) => d.info.numActionsTaken + d.info.numActionsSkippedOverlap;
    await until('the next due time', async () => (handled(await handles()[1].describe()) > handled(before[1]!) ? true : undefined), 10_000);
    for (const h of handles()) await terminateRuns(client, await h.describe());
    await connection.close();
    await temporal.stop();
    const downAt = Date.now();

    await sleep(24_000);
    temporal = await startTemporalDevServer({ dir, port: Number(temporal.address.split(':')[1]), ui: false });
    const upAt = Date.now();
    await connect();
    const [shortAfter, longAfter] = await until('both schedules to take their first action after the outage', async () => {
      const ds = await Promise.all(handles().map((h) => h.describe()));
      return ds.every((d) => d.info.recentActions.some((a) => a.takenAt.getTime() >= upAt - 1000)) ? ds : undefined;
    });

    // The short window: the runs due more than 10 s before the server came back were skipped as missed;
    // the one it took was due less than 10 s before.
    const [shortTaken] = shortAfter!.info.recentActions.filter((a) => a.takenAt.getTime() >= upAt - 1000);
    expect(shortAfter!.info.numActionsMissedCatchupWindow).toBeGreaterThanOrEqual(2);
    expect(shortTaken!.takenAt.getTime() - shortTaken!.scheduledAt.getTime()).toBeLessThanOrEqual(10_000 + 2_000);
    // The hour-long window: nothing was missed; the first run due during the outage started late, and
    // the rest were skipped because that run is still going.
    const [longTaken] = longAfter!.info.recentActions.filter((a) => a.takenAt.getTime() >= upAt - 1000);
    expect(longAfter!.info.numActionsMissedCatchupWindow).toBe(0);
    expect(longTaken!.scheduledAt.getTime()).toBeLessThan(downAt + 5_000);
    expect(longTaken!.takenAt.getTime() - longTaken!.scheduledAt.getTime()).toBeGreaterThan(15_000);
    expect(longAfter!.info.numActionsSkippedOverlap).toBeGreaterThanOrEqual(3);

    for (const h of handles()) {
      await terminateRuns(client, await h.describe());
      await h.delete();
    }
  }, 150_000);
});
