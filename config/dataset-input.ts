import { z } from 'zod';
import { PartialParamsSchema } from '../imaging/partial-params';
import { ProviderNameSchema } from '../sources/providers/names';
import { HeartbeatTimeoutSchema, RunKeySchema } from './fields';
import { TaskQueueNamesSchema } from './task-queues';

/**
 * The input of `buildDataset`, the dataset child workflow of learnToSee and compareVariants (they
 * fill it from their own validated inputs). Safe to import from workflow code (zod only).
 */
export const BuildDatasetInputSchema = z.strictObject({
  runKey: RunKeySchema,
  query: z.string().min(1),
  provider: ProviderNameSchema,
  /** Checked by the io worker against its configuration (endpoints, folders) before anything is read. */
  providerOptions: z.record(z.string(), z.unknown()),
  maxItems: z.number().int().min(1),
  imageSize: z.number().int().min(1),
  fit: z.enum(['attention', 'centre']),
  partial: PartialParamsSchema,
  batchSize: z.number().int().min(1),
  parallelBatches: z.number().int().min(1),
  taskQueues: TaskQueueNamesSchema,
  /** Dataset this version extends (periodic retraining): its pairs are kept, its URLs not fetched again. */
  baseDatasetId: z.string().min(1).optional(),
  /** Workflow to report each finished batch to. */
  reportTo: z.string().min(1).optional(),
  /** How soon a dead io or cpu worker's batch is retried elsewhere. */
  heartbeatTimeoutSeconds: HeartbeatTimeoutSchema.optional(),
  /** Carried across continue-as-new. */
  resume: z.strictObject({ searchKey: z.string(), found: z.number().int().min(0), nextBatch: z.number().int().min(0) }).optional(),
});
export type BuildDatasetInput = z.output<typeof BuildDatasetInputSchema>;
export type BuildDatasetInputJson = z.input<typeof BuildDatasetInputSchema>;
