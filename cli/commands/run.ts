import { describeIssues } from '../../config/load';
import { parseArgs } from 'node:util';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { RunInputSchema, type RunInputJson } from '../../config/run-input';
import { connect, CliError, readRunInputFlags, RUN_INPUT_OPTIONS } from '../context';
import { followRun } from './status';

export const RUN_HELP = `Usage: bloomsight run [--input JSON | --input-file FILE] [--run-key KEY] [--query TEXT] [--provider NAME] [--max-items N] [--wait]

Starts a pipeline run (workflow type learnToSee) on the configured Temporal. The input is the same
JSON the Temporal CLI takes; flags override its fields. The workflow id is the run key.
  --wait     follow progress until the run ends (exit 0 done, 1 failed)`;

/** Reads the run input from --input / --input-file and flags, and validates it before anything starts. */
export async function readRunInput(args: string[]): Promise<{ input: RunInputJson; wait: boolean }> {
  const { values } = parseArgs({ args, options: RUN_INPUT_OPTIONS });
  const input = await readRunInputFlags(values, 'run input');
  const parsed = RunInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new CliError(`invalid run input: ${describeIssues(parsed.error)}`, 2);
  }
  return { input: input as RunInputJson, wait: values.wait ?? false };
}

export async function runCommand(args: string[]): Promise<number> {
  const { input, wait } = await readRunInput(args);
  const cli = await connect();
  try {
    // Queue names come from this machine's configuration, so workers configured the same way pick the run up.
    const { io, cpu, gpu } = cli.config.temporal.taskQueues;
    const handle = await cli.client.workflow
      .start('learnToSee', {
        taskQueue: cli.config.temporal.taskQueues.pipeline,
        workflowId: input.runKey!,
        args: [{ ...input, taskQueues: { io, cpu, gpu, ...input.taskQueues } }],
      })
      .catch((error: unknown) => {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`run ${input.runKey} is already running; see \`bloomsight status ${input.runKey}\``, 2);
        throw error;
      });
    console.log(`started run ${input.runKey} (workflow ${handle.workflowId}, run ${handle.firstExecutionRunId})`);
    return wait ? await followRun(cli.client, input.runKey!) : 0;
  } finally {
    await cli.close();
  }
}
