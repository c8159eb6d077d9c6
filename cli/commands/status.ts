import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { progressQuery } from '../../workflows/messages';
import { connect, CliError } from '../context';
import { formatProgress } from '../progress';

export const STATUS_HELP = `Usage: bloomsight status <run-key> [--watch]

Shows a run's progress (the workflow's progress query): stage, dataset counts, training step,
losses, images/s and ETA. --watch redraws until the run ends (exit 0 done, 1 failed).`;

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { watch: { type: 'boolean', default: false } } });
  const runKey = positionals[0];
  if (!runKey) throw new CliError('status needs a run key', 2);
  const cli = await connect();
  try {
    return values.watch ? await followRun(cli.client, runKey) : await printOnce(cli.client, runKey);
  } finally {
    await cli.close();
  }
}

async function printOnce(client: Client, runKey: string): Promise<number> {
  const handle = client.workflow.getHandle(runKey);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) throw new CliError(`no run named ${runKey}`, 2);
    throw error;
  });
  const progress = await handle.query(progressQuery).catch(() => undefined);
  console.log(`workflow ${runKey}: ${description.status.name}`);
  if (progress) for (const line of formatProgress(progress)) console.log(line);
  return description.status.name === 'FAILED' || description.status.name === 'TERMINATED' ? 1 : 0;
}

/** Redraws progress every second until the run closes; exit code 0 if it completed. */
export async function followRun(client: Client, runKey: string): Promise<number> {
  const handle = client.workflow.getHandle(runKey);
  const interactive = process.stdout.isTTY;
  let printed = 0;
  let lastText = '';
  for (;;) {
    const description = await handle.describe();
    const progress = await handle.query(progressQuery).catch(() => undefined);
    const text = [`workflow ${runKey}: ${description.status.name}`, ...(progress ? formatProgress(progress) : [])].join('\n');
    if (text !== lastText) {
      if (interactive && printed > 0) process.stdout.write(`\x1b[${printed}A\x1b[0J`);
      process.stdout.write(`${text}\n`);
      printed = text.split('\n').length;
      lastText = text;
    }
    if (description.status.name !== 'RUNNING') return description.status.name === 'COMPLETED' ? 0 : 1;
    await sleep(interactive ? 1000 : 5000);
  }
}
