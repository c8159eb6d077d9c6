import { z } from 'zod';
import { PartialParamsSchema } from '../imaging/partial-params';
import { TrainOptionsSchema } from '../model/options';
import { ProviderNameSchema } from '../sources/providers/names';
import { TaskQueueNamesSchema } from './task-queues';

/**
 * The JSON a user passes to start a pipeline run, e.g. from the Temporal CLI:
 *   temporal workflow start --type learnToSee --task-queue bloomsight --workflow-id run-roses \
 *     --input '{"runKey":"roses","query":"rose flower","maxItems":200}'
 * Validated at the workflow boundary; an invalid field fails the run at once, naming the field.
 * Secrets never appear here: provider API keys and store credentials live in worker configuration.
 * Safe to import from workflow code (zod and other schema modules only).
 */
const runKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit');


export const RunInputSchema = z.strictObject({
  runKey: runKey.describe('names the run in the store; starting the same key again resumes it'),
  line: runKey.optional().describe('model line for periodic retraining: the newest dataset and export of a line are the base of the next run'),
  query: z.string().trim().min(1).max(500).default('flower').describe('what to search for'),
  provider: ProviderNameSchema.default('openverse'),
  providerOptions: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .default({})
    .describe('provider-specific options, e.g. {"path": "/photos"} for local-folder'),
  maxItems: z.number().int().min(1).max(100_000).default(1000),
  fit: z.enum(['attention', 'centre']).default('attention').describe('how conform crops to a square'),
  partial: PartialParamsSchema.prefault({ method: 'kmeans' }),
  batchSize: z.number().int().min(1).max(500).default(50).describe('images per dataset activity'),
  parallelBatches: z.number().int().min(1).max(64).default(4).describe('dataset batches in flight at once'),
  train: TrainOptionsSchema.prefault({}).describe('training options; train.imageSize (or its preset) is also the size the dataset is conformed to'),
  fineTuneFrom: z.string().min(1).optional().describe('model id whose export the generator starts from; "latest" = newest of the line'),
  video: z.string().min(1).optional().describe('store key of a video to render with the trained model'),
  heartbeatTimeoutSeconds: z.number().int().min(2).max(3600).default(120).describe('how soon a dead training or render worker is noticed and its work retried elsewhere'),
  taskQueues: TaskQueueNamesSchema,
});

export type RunInput = z.output<typeof RunInputSchema>;
export type RunInputJson = z.input<typeof RunInputSchema>;
