/**
 * The activities of each queue, as types only (workflow code imports this: no runtime import).
 * A workflow's proxy for a queue and that queue's worker registration are the same type, so the
 * compiler checks that every activity a workflow calls on a queue is registered there.
 */
import type { CpuActivities } from './cpu';
import type { GpuActivities } from './gpu';
import type { IoActivities } from './io';

export interface QueueActivities {
  io: IoActivities;
  cpu: CpuActivities;
  gpu: GpuActivities;
}

export type ActivityQueue = keyof QueueActivities;
