import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalBinary } from './binaries';
import { freePort, startProcess, waitUntilHealthy, type RunningProcess } from './process';

export interface TemporalDevServer {
  address: string;
  namespace: string;
  /** The Temporal Web UI (runs, their histories, children, queries), or undefined when started headless. */
  uiUrl?: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  dir: string;
  port?: number;
  namespace?: string;
  /** Serve the Web UI (default true) on `uiPort` (default: a free port). */
  ui?: boolean;
  uiPort?: number;
  /** Server dynamic configuration, e.g. `{ 'limit.historyCount.suggestContinueAsNew': 40 }`. */
  dynamicConfig?: Record<string, string | number | boolean>;
  timeoutMs?: number;
}

/**
 * Starts `temporal server start-dev`: a complete Temporal server with SQLite persistence, so
 * schedules, visibility and reset work and a restart keeps every workflow. Its Web UI is the same
 * one a production cluster runs (temporalio/ui), embedded in the CLI binary.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const binary = await temporalBinary();
  await mkdir(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  const ui = options.ui ?? true;
  const uiPort = ui ? (options.uiPort ?? (await freePort())) : undefined;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1', '--port', String(port),
    // Offline machines: the UI would otherwise ask the internet for its news feed.
    ...(uiPort !== undefined ? ['--ui-port', String(uiPort), '--ui-disable-news-fetch'] : ['--headless']),
    '--db-filename', join(options.dir, 'temporal.db'),
    '--namespace', namespace,
    '--log-level', 'warn',
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
  ];
  const process = startProcess('temporal dev server', binary, args, { logFile: join(options.dir, 'temporal.log') });
  const uiUrl = uiPort !== undefined ? `http://127.0.0.1:${uiPort}` : undefined;
  await waitUntilHealthy(process, async () => (await isTemporalServing(address)) && (uiUrl === undefined || (await fetch(uiUrl)).ok), options.timeoutMs ?? 60_000);
  return { address, namespace, uiUrl, process, stop: () => process.stop() };
}

/** The gRPC health check of the frontend service. */
export async function isTemporalServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const response = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
    return response.status === 1; // SERVING
  } finally {
    await connection.close();
  }
}

/** The UI page of one workflow run, e.g. to print beside a started run. */
export function workflowUiUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const path = `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return `${uiUrl}${path}${runId ? `/${encodeURIComponent(runId)}` : ''}/history`;
}
