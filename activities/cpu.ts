/**
 * The cpu queue: every activity a worker on it registers, and so every activity a workflow may call
 * on it (workflows/queues.ts types its proxy with CpuActivities). Image and video work without the
 * model: conform, partial information, dataset manifests, planning and joining renders, comparisons'
 * derived datasets and side-by-side videos. Nothing here loads TensorFlow (test/worker-modules.test.ts).
 */
import { createCompareActivities } from './compare';
import { createDatasetActivities } from './dataset';
import type { ActivityDeps } from './deps';
import { createRenderCpuActivities } from './render-plan';

export function createCpuActivities({ store }: ActivityDeps) {
  return { ...createDatasetActivities(store), ...createRenderCpuActivities(store), ...createCompareActivities(store) };
}

export type CpuActivities = ReturnType<typeof createCpuActivities>;
