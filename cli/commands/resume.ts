import { parseArgs } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import { connect, CliError } from '../context';
import { followRun } from './status';

export const RESUME_HELP = `Usage: bloomsight resume <run-key> [--wait]

Starts a failed, terminated or cancelled run again with the input it was first given. Finished
stages are found in the store and skipped; training continues from its last checkpoint.`;

export async function resumeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { wait: { type: 'boolean', default: false } } });
  const runKey = positionals[0];
  if (!runKey) throw new CliError('resume needs a run key', 2);
  const cli = await connect();
  try {
    const previous = cli.client.workflow.getHandle(runKey);
    const description = await previous.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) throw new CliError(`no run named ${runKey}`, 2);
      throw error;
    });
    if (description.status.name === 'RUNNING') throw new CliError(`run ${runKey} is still running`, 2);
    if (description.status.name === 'COMPLETED') console.log(`run ${runKey} already completed; starting it again finds every stage done`);
    const history = await previous.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = started?.input?.payloads?.[0] ? defaultPayloadConverter.fromPayload(started.input.payloads[0]) : {};
    const handle = await cli.client.workflow.start(description.type, {
      taskQueue: description.taskQueue,
      workflowId: runKey,
      args: [input],
    });
    console.log(`resumed run ${runKey} (new run ${handle.firstExecutionRunId})`);
    return values.wait ? await followRun(cli.client, runKey) : 0;
  } finally {
    await cli.close();
  }
}
