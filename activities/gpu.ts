/**
 * The gpu queue: every activity a worker on it registers, and so every activity a workflow may call
 * on it (workflows/queues.ts types its proxy with GpuActivities). The model's work: training,
 * export, rendering chunks (inference), the reports (their held-out examples are inference too).
 */
import { createCompareReportActivities } from './compare-report';
import type { ActivityDeps } from './deps';
import { createRenderGpuActivities } from './render-chunk';
import { createReportActivities } from './report';
import { createTrainingActivities } from './training';

export function createGpuActivities({ store, config, identity }: ActivityDeps) {
  return {
    ...createTrainingActivities(store, config),
    ...createRenderGpuActivities(store, config, identity),
    ...createReportActivities(store, config),
    ...createCompareReportActivities(store, config),
  };
}

export type GpuActivities = ReturnType<typeof createGpuActivities>;
