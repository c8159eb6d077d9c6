import { z } from 'zod';
import { PartialParamsSchema } from '../imaging/partial-params';
import { TrainOptionsSchema } from '../model/options';
import { HeartbeatTimeoutSchema, ModelIdSchema } from './fields';
import { TaskQueueNamesSchema } from './task-queues';

/**
 * The input of `trainVariant`, one variant of a comparison (config/compare-input.ts compiles them).
 * Safe to import from workflow code (zod only).
 */
/** What compareVariants hands each variant (a compiled variant of a valid comparison input). */
export const TrainVariantInputSchema = z.strictObject({
  /** The variant's run key and model id (`<comparison>--<variant>`): its records, checkpoints and export live under it. */
  modelId: ModelIdSchema,
  /** The shared dataset this variant's dataset is derived from. */
  baseDatasetId: z.string().min(1),
  partial: PartialParamsSchema,
  train: TrainOptionsSchema,
  heartbeatTimeoutSeconds: HeartbeatTimeoutSchema,
  taskQueues: TaskQueueNamesSchema,
});
export type TrainVariantInputJson = z.input<typeof TrainVariantInputSchema>;
