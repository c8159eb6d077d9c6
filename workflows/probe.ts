import { proxyActivities } from '@temporalio/workflow';
import type { ProbeActivities } from '../activities/probe';
import { TaskQueueNamesSchema, type TaskQueueNames } from '../config/task-queues';
import { retryPolicy } from './retry-policy';

export interface StoreProbeInput {
  key?: string;
  text?: string;
  taskQueues?: Partial<TaskQueueNames>;
}

/** The smallest end-to-end check: an io-queue activity writes an object and reads it back. */
export async function storeProbe(input: StoreProbeInput = {}): Promise<{ key: string; sha256: string; location: string }> {
  const queues = TaskQueueNamesSchema.parse(input.taskQueues ?? {});
  const { probeStore } = proxyActivities<ProbeActivities>({
    taskQueue: queues.io,
    startToCloseTimeout: '1 minute',
    retry: retryPolicy({ maximumAttempts: 5, initialInterval: '1 second' }),
  });
  return probeStore({ key: input.key ?? 'probes/store-probe.txt', text: input.text ?? 'bloomsight store probe' });
}
