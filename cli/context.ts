import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/load';
import type { RuntimeConfig } from '../config/runtime';

/** A failure the user can fix; printed as one line, exit code attached. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface CliContext {
  config: RuntimeConfig;
  client: Client;
  close(): Promise<void>;
}

/** Configuration (env / BLOOMSIGHT_CONFIG) plus a client of the configured Temporal. */
export async function connect(): Promise<CliContext> {
  const config = loadConfig();
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 5000 });
  } catch (error) {
    throw new CliError(`Temporal at ${config.temporal.address} is unreachable (${(error as Error).message}); start one with \`bloomsight services up\` or set BLOOMSIGHT_TEMPORAL__ADDRESS`, 3);
  }
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return { config, client, close: () => connection.close() };
}

/** The flags `run` and `compare` share: the input as JSON, the run key and the search. */
export const RUN_INPUT_OPTIONS = {
  input: { type: 'string' },
  'input-file': { type: 'string' },
  'run-key': { type: 'string' },
  query: { type: 'string' },
  provider: { type: 'string' },
  'max-items': { type: 'string' },
  wait: { type: 'boolean', default: false },
} as const;

type RunInputFlags = { input?: string; 'input-file'?: string; 'run-key'?: string; query?: string; provider?: string; 'max-items'?: string };

/** The input read from --input / --input-file, with the run key and search flags laid over it. */
export async function readRunInputFlags(values: RunInputFlags, what: string): Promise<Record<string, unknown>> {
  const input = await readJsonInput(values, what);
  if (values['run-key']) input.runKey = values['run-key'];
  if (values.query) input.query = values.query;
  if (values.provider) input.provider = values.provider;
  if (values['max-items']) input.maxItems = Number(values['max-items']);
  return input;
}

/** A workflow input given as `--input JSON` or `--input-file PATH` (empty when neither); exit 2 when it is not JSON. */
async function readJsonInput(values: { input?: string; 'input-file'?: string }, what: string): Promise<Record<string, unknown>> {
  try {
    if (values['input-file']) return JSON.parse(await readFile(values['input-file'], 'utf8')) as Record<string, unknown>;
    if (values.input) return JSON.parse(values.input) as Record<string, unknown>;
    return {};
  } catch (error) {
    throw new CliError(`${what} is not valid JSON: ${(error as Error).message}`, 2);
  }
}
