import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalBinary } from './binaries';
import { freePort, startProcess, waitUntilHealthy, type RunningProcess } from './process';

export interface TemporalDevServer {
  address: string;
  namespace: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev`: a complete Temporal server with SQLite persistence, so
 * schedules, visibility and reset work and a restart keeps every workflow.
 */
export async function startTemporalDevServer(options: { dir: string; port?: number; namespace?: string; timeoutMs?: number }): Promise<TemporalDevServer> {
  const binary = await temporalBinary();
  await mkdir(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev', '--headless',
    '--ip', '127.0.0.1', '--port', String(port),
    '--db-filename', join(options.dir, 'temporal.db'),
    '--namespace', namespace,
    '--log-level', 'warn',
  ];
  const process = startProcess('temporal dev server', binary, args, { logFile: join(options.dir, 'temporal.log') });
  await waitUntilHealthy(process, () => isTemporalServing(address), options.timeoutMs ?? 60_000);
  return { address, namespace, process, stop: () => process.stop() };
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
