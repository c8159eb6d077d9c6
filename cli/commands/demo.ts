import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../../config/load';
import { startTemporalDevServer } from '../../services/temporal-server';
import { openStore } from '../../storage';
import { createWorkers, WORKER_ROLES } from '../../workers/create-workers';
import { storeProbe } from '../../workflows/probe';

/**
 * The embedded default: a Temporal dev server this process starts, the local-disk store, every
 * worker in this process. Nothing to install or configure beyond `npm run demo`.
 */
export async function runDemo(args: string[]): Promise<number> {
  const started = Date.now();
  const out = resolve(args[0] ?? 'bloomsight-demo');
  await mkdir(out, { recursive: true });
  console.log(`[demo] output folder ${out}`);
  const temporal = await startTemporalDevServer({ dir: join(out, 'temporal') });
  console.log(`[demo] Temporal dev server at ${temporal.address} (UI off; database ${join(out, 'temporal', 'temporal.db')})`);
  const config = parseConfig({ temporal: { address: temporal.address }, store: { kind: 'fs', root: join(out, 'store') } });
  const store = await openStore(config.store);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workers = await createWorkers({ roles: WORKER_ROLES, config, store, connection });
  const running = workers.map((w) => w.run());
  const client = new Client({ connection: await Connection.connect({ address: config.temporal.address }) });
  try {
    const result = await client.workflow.execute(storeProbe, {
      taskQueue: config.temporal.taskQueues.pipeline,
      workflowId: `demo-probe-${Date.now()}`,
      args: [{ taskQueues: config.temporal.taskQueues }],
    });
    console.log(`[demo] store probe wrote ${result.key} to ${result.location}`);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await client.connection.close();
    await connection.close();
    await temporal.stop();
  }
  console.log(`[demo] finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}
