import type { RuntimeConfig } from '../config/runtime';
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
      return { ...createProbeActivities(deps.store) };
    case 'cpu':
      return {};
    case 'gpu':
      return {};
  }
}
