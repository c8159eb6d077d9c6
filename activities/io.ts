/**
 * The io queue: every activity a worker on it registers, and so every activity a workflow may call
 * on it (workflows/queues.ts types its proxy with IoActivities). Network-bound work: searching,
 * downloading, the store probe, a model line's record.
 */
import type { ActivityDeps } from './deps';
import { createProbeActivities } from './probe';
import { createSearchDownloadActivities } from './search-download';

export function createIoActivities({ store, config }: ActivityDeps) {
  return { ...createProbeActivities(store), ...createSearchDownloadActivities(store, config) };
}

export type IoActivities = ReturnType<typeof createIoActivities>;
