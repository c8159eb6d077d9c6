import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { RuntimeConfig } from '../config/runtime';
import type { Store } from '../storage';
import { activitiesFor, type ActivityQueue } from './activities';

/** `pipeline` serves the workflows; the others serve the activities routed to their queue. */
export type WorkerRole = 'pipeline' | ActivityQueue;
/** Source of every workflow type; the worker bundles it with webpack at start. */
export const WORKFLOWS_PATH = join(__dirname, '..', 'workflows', 'index.ts');

export const WORKER_ROLES: readonly WorkerRole[] = ['pipeline', 'io', 'cpu', 'gpu'];

export interface CreateWorkersOptions {
  roles: readonly WorkerRole[];
  config: RuntimeConfig;
  store: Store;
  connection: NativeConnection;
  /** A prebuilt workflow bundle (tests build one per run); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Worker identity (default: Temporal's pid@host); tests give two workers of one process different names. */
  identity?: string;
}

export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const { config, connection } = options;
  const workers: Worker[] = [];
  for (const role of options.roles) {
    const common = { connection, namespace: config.temporal.namespace, shutdownGraceTime: '30s', ...(options.identity ? { identity: options.identity } : {}) };
    if (role === 'pipeline') {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: config.temporal.taskQueues.pipeline,
          ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        }),
      );
      continue;
    }
    const settings = config.workers[role];
    const activities = await activitiesFor(role, { store: options.store, config, identity: options.identity });
    if (Object.keys(activities).length === 0) continue; // a queue with nothing registered yet
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: config.temporal.taskQueues[role],
        activities,
        // CPU- and model-bound queues run one activity at a time by default: heavy work blocks the event loop.
        maxConcurrentActivityTaskExecutions: settings.concurrency,
        // Then running activities are cancelled with WORKER_SHUTDOWN; training checkpoints and hands over (activities/gpu.ts).
        shutdownGraceTime: settings.shutdownGraceSeconds * 1000,
      }),
    );
  }
  return workers;
}
