import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, makeTelemetryFilterString, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { parseConfig } from '../../config/load';
import type { RuntimeConfig } from '../../config/runtime';
import type { Store } from '../../storage';
import { FsStore, S3Store } from '../../storage';
import { createWorkers, WORKFLOWS_PATH, type WorkerRole } from '../../workers/create-workers';
import { PHOTOS_DIR } from './http-fixtures';
import { s3ServerOf, taskQueueFor, testServices } from './services';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file (webpack takes seconds on two cores). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: quietLogger as never, telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
}

const quietLogger = {
  log() {}, trace() {}, debug() {}, info() {}, warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta ?? '');
  },
};

/** Runtime configuration pointing at the shared test services, with queues unique to one test and the fixture photos as folder `photos`. */
export function testConfig(title: string, store: Store): RuntimeConfig {
  const { temporal } = testServices();
  const queue = taskQueueFor(title);
  const storeConfig =
    store instanceof S3Store
      ? // A store on a server the test started itself: the test replaces this store configuration.
        { kind: 's3', ...(s3ServerOf(store) ?? testServices().s3), bucket: store.location.split('/').pop() }
      : { kind: 'fs', root: (store as FsStore).root };
  return parseConfig({
    temporal: {
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueues: { pipeline: `${queue}-pipeline`, io: `${queue}-io`, cpu: `${queue}-cpu`, gpu: `${queue}-gpu` },
    },
    store: storeConfig,
    // The bundled photos are the one local folder test workers may read.
    folders: { photos: PHOTOS_DIR },
  });
}

/** A client plus in-process workers for `roles`, on the real server; `stop()` shuts them down. */
export async function startTestWorkers(config: RuntimeConfig, store: Store, roles: WorkerRole[] = ['pipeline', 'io', 'cpu', 'gpu'], identity?: string) {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workers = await createWorkers({ roles, config, store, connection, identity, workflowBundle: await workflowBundle() });
  const running = workers.map((w) => w.run());
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  return {
    client,
    workers,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await clientConnection.close();
      await connection.close();
    },
  };
}
