import { z } from 'zod';
import { TaskQueueNamesSchema } from './task-queues';

/** The input of `storeProbe`, the smallest end-to-end check. Safe to import from workflow code (zod only). */
export const StoreProbeInputSchema = z.strictObject({
  key: z.string().min(1).default('probes/store-probe.txt'),
  text: z.string().default('bloomsight store probe'),
  taskQueues: TaskQueueNamesSchema,
});
export type StoreProbeInputJson = z.input<typeof StoreProbeInputSchema>;
