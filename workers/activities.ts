import type { RuntimeConfig } from '../config/runtime';
import { createCpuActivities } from '../activities/cpu';
import { createIoActivities } from '../activities/io';
import { createProbeActivities } from '../activities/probe';
import type { Store } from '../storage';

export type ActivityQueue = 'io' | 'cpu' | 'gpu';

export interface ActivityDeps {
  store: Store;
  config: RuntimeConfig;
}

/** Which activities each queue's worker registers. Routing is data: the workflow names the queue. */
export async function activitiesFor(queue: ActivityQueue, deps: ActivityDeps): Promise<object> {
  switch (queue) {
    case 'io':
      return { ...createProbeActivities(deps.store), ...createIoActivities(deps.store, deps.config) };
    case 'cpu':
      return createCpuActivities(deps.store);
    case 'gpu': {
      // Loaded only here: the gpu worker is the one process that needs TensorFlow.
      const { createGpuActivities } = await import('../activities/gpu');
      return createGpuActivities(deps.store, deps.config);
    }
  }
}
