import { z } from 'zod';

/**
 * Queue names a workflow routes its activities to. They are not secrets, so they travel in the
 * run input (filled from the runtime configuration by the CLI; the defaults match a default deployment).
 * Safe to import from workflow code: zod only.
 */
export const DEFAULT_TASK_QUEUES = { pipeline: 'bloomsight', io: 'bloomsight-io', cpu: 'bloomsight-cpu', gpu: 'bloomsight-gpu' } as const;

export const TaskQueueNamesSchema = z
  .object({
    io: z.string().min(1).default(DEFAULT_TASK_QUEUES.io),
    cpu: z.string().min(1).default(DEFAULT_TASK_QUEUES.cpu),
    gpu: z.string().min(1).default(DEFAULT_TASK_QUEUES.gpu),
  })
  .prefault({});

export type TaskQueueNames = z.infer<typeof TaskQueueNamesSchema>;
