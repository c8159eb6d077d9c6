import type { RuntimeConfig } from '../config/runtime';
import { createCpuActivities } from '../activities/cpu';
import { createIoActivities } from '../activities/io';
import { createProbeActivities } from '../activities/probe';
import type { Store } from '../storage';

export type ActivityQueue = 'io' | 'cpu' | 'gpu';

export interface ActivityDeps {
  store: Store;
  config: RuntimeConfig;
  /** Names this worker in render records (which worker rendered which chunk). */
  identity?: string;
}

/** Which activities each queue's worker registers. Routing is data: the workflow names the queue. */
export async function activitiesFor(queue: ActivityQueue, deps: ActivityDeps): Promise<object> {
  switch (queue) {
    case 'io':
      return { ...createProbeActivities(deps.store), ...createIoActivities(deps.store, deps.config) };
    case 'cpu': {
      const { createRenderCpuActivities } = await import('../activities/render');
      const { createCompareActivities } = await import('../activities/compare');
      return { ...createCpuActivities(deps.store), ...createRenderCpuActivities(deps.store), ...createCompareActivities(deps.store) };
    }
    case 'gpu': {
      // Loaded only here: the gpu worker is the one process that needs TensorFlow.
      const { createGpuActivities } = await import('../activities/gpu');
      const { workerBackend, workerInferenceProvider } = await import('../activities/model-runtime');
      // Chosen (and logged) at start, so a worker that requires a backend it cannot load fails now, not on its first task.
      await workerBackend(deps.config);
      await workerInferenceProvider(deps.config);
      const { createRenderGpuActivities } = await import('../activities/render');
      const { createReportActivities } = await import('../activities/report');
      const { createCompareReportActivities } = await import('../activities/compare-report');
      return {
        ...createGpuActivities(deps.store, deps.config),
        ...createRenderGpuActivities(deps.store, deps.config, deps.identity),
        ...createReportActivities(deps.store, deps.config),
        ...createCompareReportActivities(deps.store, deps.config),
      };
    }
  }
}
