import { NativeConnection, Runtime, makeTelemetryFilterString, type MetricsExporterConfig } from '@temporalio/worker';
import { WorkerLogger } from './logger';
import { ConfigError, loadConfig, redactConfig } from '../config/load';
import type { RuntimeConfig } from '../config/runtime';
import { openStore, StoreUnavailableError } from '../storage';
import { createWorkers, WORKER_ROLES, type WorkerRole } from './create-workers';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, badConfig: 2, unavailable: 3, failed: 1 } as const;

/**
 * Runs workers for the given roles in this process until SIGINT/SIGTERM. Everything a worker needs
 * is checked before polling starts (configuration, store, Temporal), and a failure there exits at
 * once with one line naming the problem.
 */
export async function runWorkerProcess(roles: readonly WorkerRole[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: RuntimeConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    return fail(error, EXIT.badConfig);
  }
  const log = (line: string) => console.log(`[bloomsight worker ${roles.join('+')}] ${line}`);
  log(`configuration ${JSON.stringify(redactConfig(config))}`);
  Runtime.install({
    logger: new WorkerLogger(env.BLOOMSIGHT_LOG_LEVEL === 'debug' ? 'DEBUG' : 'INFO'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) }, metrics: metricsExporter(config) },
  });
  if (config.metrics.prometheus) log(`Prometheus metrics at http://${config.metrics.prometheus}/metrics`);

  let store;
  try {
    store = await openStore(config.store);
  } catch (error) {
    return fail(error, error instanceof StoreUnavailableError ? EXIT.unavailable : EXIT.failed);
  }
  log(`store ${store.location}`);

  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: config.temporal.address });
  } catch (error) {
    return fail(new Error(`Temporal at ${config.temporal.address} is unreachable: ${(error as Error).message}`), EXIT.unavailable);
  }
  try {
    const workers = await createWorkers({ roles, config, store, connection });
    log(`polling ${roles.map((r) => (r === 'pipeline' ? config.temporal.taskQueues.pipeline : config.temporal.taskQueues[r])).join(', ')} on ${config.temporal.address}/${config.temporal.namespace}`);
    await Promise.all(workers.map((w) => w.run()));
    return EXIT.ok;
  } catch (error) {
    return fail(error, UNAVAILABLE_AT_START.has((error as Error).name) ? EXIT.unavailable : EXIT.failed);
  } finally {
    await connection.close();
  }
}

/** Start-up failures that mean "this machine lacks something" (exit 3), not a bug. */
const UNAVAILABLE_AT_START = new Set(['BackendUnavailableError', 'InferenceProviderUnavailableError', 'TfjsInternalsError']);

/**
 * The SDK's Prometheus exporter serves its own metrics (task latencies, slots, failures) and
 * bloomsight's (activities/metrics.ts) from one endpoint. Seconds and `_total` suffixes follow
 * Prometheus naming conventions.
 */
export function metricsExporter(config: RuntimeConfig): MetricsExporterConfig | undefined {
  if (!config.metrics.prometheus) return undefined;
  return { prometheus: { bindAddress: config.metrics.prometheus, countersTotalSuffix: true, useSecondsForDurations: true } };
}

export function parseRoles(args: readonly string[]): WorkerRole[] {
  const roles = args.flatMap((a) => a.split(',')).filter(Boolean);
  if (roles.length === 0 || roles.includes('all')) return [...WORKER_ROLES];
  for (const role of roles) {
    if (!WORKER_ROLES.includes(role as WorkerRole)) {
      throw new ConfigError(`unknown worker role "${role}"; expected one of ${WORKER_ROLES.join(', ')} or all`);
    }
  }
  return roles as WorkerRole[];
}

function fail(error: unknown, code: number): number {
  console.error(`bloomsight worker: ${(error as Error).message ?? String(error)}`);
  return code;
}
