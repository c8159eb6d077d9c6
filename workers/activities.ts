import type { ActivityDeps } from '../activities/deps';
import type { ActivityQueue, QueueActivities } from '../activities/queues';

export type { ActivityDeps, ActivityQueue, QueueActivities };

/**
 * What each queue's worker registers: exactly its queue's activities (activities/io.ts, cpu.ts,
 * gpu.ts), typed as the workflows' proxies are. Each queue's module is loaded only by its worker:
 * the io and cpu workers never load TensorFlow or ONNX Runtime.
 */
export async function activitiesFor<Q extends ActivityQueue>(queue: Q, deps: ActivityDeps): Promise<QueueActivities[Q]> {
  const activities = await loaders[queue](deps);
  return activities as QueueActivities[Q];
}

const loaders: { [Q in ActivityQueue]: (deps: ActivityDeps) => Promise<QueueActivities[Q]> } = {
  io: async (deps) => (await import('../activities/io')).createIoActivities(deps),
  cpu: async (deps) => (await import('../activities/cpu')).createCpuActivities(deps),
  gpu: async (deps) => {
    // Chosen (and logged) at start, so a worker that requires a backend it cannot load fails now, not on its first task.
    const { workerBackend, workerInferenceProvider } = await import('../activities/model-runtime');
    await workerBackend(deps.config);
    await workerInferenceProvider(deps.config);
    return (await import('../activities/gpu')).createGpuActivities(deps);
  },
};
