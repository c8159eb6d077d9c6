import { proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import type { ActivityQueue, QueueActivities } from '../activities/queues';
import type { TaskQueueNames } from '../config/task-queues';

/**
 * The activities of one queue, for a workflow: routed to that queue's name from the input, and typed
 * as what that queue's worker registers (activities/queues.ts), so calling an activity on a queue
 * that does not register it is a compile error.
 */
export function proxyQueue<Q extends ActivityQueue>(queue: Q, taskQueues: TaskQueueNames, options: Omit<ActivityOptions, 'taskQueue'>): ActivityInterfaceFor<QueueActivities[Q]> {
  return proxyActivities<QueueActivities[Q]>({ ...options, taskQueue: taskQueues[queue] });
}
