import { describeIssues } from '../../config/load';
import { parseArgs } from 'node:util';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { RuntimeConfig } from '../../config/runtime';
import { RunInputSchema } from '../../config/run-input';
import { connect, CliError, type CliContext } from '../context';

export const SCHEDULE_HELP = `Usage:
  bloomsight schedule create <id> --line LINE (--every DURATION | --cron EXPR) [--input JSON] [--catchup-window DURATION]
  bloomsight schedule list
  bloomsight schedule delete <id>
  bloomsight schedule trigger <id>

A schedule periodically starts a retraining run of a model line: it scrapes again, builds a new
dataset version (the line's previous pairs plus only the new images), fine-tunes from the line's
latest export and exports a new model version. A run still going when the next is due is skipped
(so is \`trigger\` while one runs). A run missed while the Temporal server was down starts when it is
back, unless it is later than --catchup-window (default 1h). DURATION is e.g. 7d, 12h, 30m.
Each run's key is the schedule id plus its start time.`;

export async function scheduleCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const cli = await connect();
  try {
    switch (sub) {
      case 'create':
        return await createSchedule(cli, rest);
      case 'list':
        for await (const s of cli.client.schedule.list()) {
          console.log(`${s.scheduleId}  next ${s.info.nextActionTimes[0]?.toISOString() ?? '-'}  ${s.state.paused ? 'paused' : 'active'}`);
        }
        return 0;
      case 'delete':
      case 'trigger': {
        const id = rest[0];
        if (!id) throw new CliError(`schedule ${sub} needs an id`, 2);
        const handle = cli.client.schedule.getHandle(id);
        try {
          // trigger() without a policy means ALLOW_ALL; a manual trigger must respect "skip while running" too.
          await (sub === 'delete' ? handle.delete() : handle.trigger(ScheduleOverlapPolicy.SKIP));
        } catch (error) {
          if (error instanceof ScheduleNotFoundError) throw new CliError(`no schedule named ${id}`, 2);
          throw error;
        }
        console.log(`${sub === 'delete' ? 'deleted' : 'triggered'} schedule ${id}`);
        return 0;
      }
      default:
        throw new CliError(`unknown schedule command "${sub ?? ''}"\n${SCHEDULE_HELP}`, 2);
    }
  } finally {
    await cli.close();
  }
}

async function createSchedule(cli: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { line: { type: 'string' }, every: { type: 'string' }, cron: { type: 'string' }, input: { type: 'string' }, 'catchup-window': { type: 'string' } },
  });
  const id = positionals[0];
  if (!id) throw new CliError('schedule create needs an id', 2);
  if (!values.line) throw new CliError('schedule create needs --line', 2);
  if (!values.every === !values.cron) throw new CliError('give exactly one of --every and --cron', 2);
  let input: Record<string, unknown>;
  try {
    input = values.input ? JSON.parse(values.input) : {};
  } catch (error) {
    throw new CliError(`--input is not valid JSON: ${(error as Error).message}`, 2);
  }
  const options = retrainingSchedule({
    scheduleId: id,
    line: values.line,
    every: values.every,
    cron: values.cron,
    catchupWindow: values['catchup-window'],
    input,
    taskQueues: cli.config.temporal.taskQueues,
  });
  try {
    await cli.client.schedule.create(options);
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) throw new CliError(`schedule ${id} already exists`, 2);
    throw error;
  }
  console.log(`created schedule ${id} for line ${values.line}`);
  return 0;
}

/**
 * The schedule of a model line's periodic retraining, as `bloomsight schedule create` makes it (and the
 * tests and scripts/record-histories.ts, so they exercise the very same policies). Throws CliError for
 * an invalid run input, naming the fields.
 */
export function retrainingSchedule(options: {
  scheduleId: string;
  line: string;
  every?: string;
  cron?: string;
  /** How late a missed run may still start (e.g. after the server was down); default 1 hour. */
  catchupWindow?: string;
  input: Record<string, unknown>;
  taskQueues: RuntimeConfig['temporal']['taskQueues'];
}): ScheduleOptions {
  const { io, cpu, gpu, pipeline } = options.taskQueues;
  const runInput = { fineTuneFrom: 'latest', ...options.input, line: options.line, taskQueues: { io, cpu, gpu } };
  // Validate now with a placeholder key: each scheduled run derives its key from its workflow id.
  const check = RunInputSchema.safeParse({ ...runInput, runKey: 'schedule-check' });
  if (!check.success) throw new CliError(`invalid run input: ${describeIssues(check.error)}`, 2);
  return {
    scheduleId: options.scheduleId,
    spec: options.every ? { intervals: [{ every: options.every as `${number}d` }] } : { cronExpressions: [options.cron!] },
    action: { type: 'startWorkflow', workflowType: 'learnToSee', taskQueue: pipeline, workflowId: options.scheduleId, args: [runInput] },
    policies: {
      // A run still going when the next is due is skipped: two trainings of one line would race for its latest model.
      overlap: ScheduleOverlapPolicy.SKIP,
      // Always set: the SDK's documented default is ambiguous. A run missed by more than this (server down) is skipped.
      catchupWindow: (options.catchupWindow ?? '1 hour') as '1 hour',
      pauseOnFailure: false,
    },
  };
}
