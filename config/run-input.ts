import { z } from 'zod';
import { PartialParamsSchema } from '../imaging/partial-params';
import { TrainOptionsSchema } from '../model/options';
import { ProviderNameSchema } from '../sources/providers/names';
import { checkProviderOptions } from '../sources/providers/options';
import { HeartbeatTimeoutSchema, RunKeySchema } from './fields';
import { RUN_LIMITS } from './limits';
import { TaskQueueNamesSchema } from './task-queues';

/**
 * The JSON a user passes to start a pipeline run, e.g. from the Temporal CLI:
 *   temporal workflow start --type learnToSee --task-queue bloomsight --workflow-id run-roses \
 *     --input '{"runKey":"roses","query":"rose flower","maxItems":200}'
 * Validated at the workflow boundary; an invalid field fails the run at once, naming the field.
 * Whoever starts a run is trusted with the run's own parameters only: provider API keys, search
 * endpoints, local folders and store credentials live in worker configuration, and the input
 * names a provider or folder the operator configured, within RUN_LIMITS.
 * Safe to import from workflow code (zod and other schema modules only).
 */

const RunInputFields = z.strictObject({
  runKey: RunKeySchema.describe('names the run in the store; starting the same key again resumes it'),
  line: RunKeySchema.optional().describe('model line for periodic retraining: the newest dataset and export of a line are the base of the next run'),
  query: z.string().trim().min(1).max(500).default('flower').describe('what to search for'),
  provider: ProviderNameSchema.default('openverse'),
  providerOptions: z
    // The shape only; each provider's own schema (checked below) states its options and their limits.
    .record(z.string().max(64), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]))
    .default({})
    .describe('options of the chosen provider (table below), e.g. {"folder": "photos"} for local-folder'),
  maxItems: z.number().int().min(1).max(RUN_LIMITS.maxItems).default(1000).describe(`images to search for and download, at most ${RUN_LIMITS.maxItems}`),
  fit: z.enum(['attention', 'centre']).default('attention').describe('how conform crops to a square'),
  partial: PartialParamsSchema.prefault({ method: 'kmeans' }),
  batchSize: z.number().int().min(1).max(500).default(50).describe('images per dataset activity'),
  parallelBatches: z.number().int().min(1).max(64).default(4).describe('dataset batches in flight at once'),
  train: TrainOptionsSchema.prefault({}).describe('training options; train.imageSize (or its preset) is also the size the dataset is conformed to'),
  fineTuneFrom: z.string().min(1).max(RUN_LIMITS.textChars).optional().describe('model id whose export the generator starts from; "latest" = newest of the line'),
  video: z.string().min(1).max(RUN_LIMITS.textChars).optional().describe('store key of a video to render with the trained model'),
  heartbeatTimeoutSeconds: HeartbeatTimeoutSchema,
  taskQueues: TaskQueueNamesSchema,
});

/**
 * What no single field of a run says: the chosen provider's options, and the input's size. Runs even
 * when other fields failed (`when` below), so every problem is named at once: it guards the shapes.
 * The comparison input (config/compare-input.ts) applies it too.
 */
export function checkProviderAndSize(input: { provider?: unknown; providerOptions?: unknown }, ctx: z.RefinementCtx): void {
  const provider = ProviderNameSchema.safeParse(input?.provider);
  const options = input?.providerOptions;
  if (provider.success && options !== null && typeof options === 'object' && !Array.isArray(options)) {
    const checked = checkProviderOptions(provider.data, options);
    if (!checked.ok) for (const issue of checked.issues) ctx.addIssue({ code: 'custom', path: ['providerOptions', ...issue.path], message: issue.message });
  }
  const chars = JSON.stringify(input)?.length ?? 0;
  if (chars > RUN_LIMITS.inputChars) {
    ctx.addIssue({ code: 'custom', path: [], message: `the run input has ${chars} characters of JSON; at most ${RUN_LIMITS.inputChars} are accepted (put long URL lists in the store)` });
  }
}

/** The run input; besides each field's own rules, the chosen provider's options and the input's size are checked. */
export const RunInputSchema = RunInputFields.superRefine(checkProviderAndSize, { when: () => true });

/**
 * The input shape of runs started before the trust boundary (any providerOptions, no size limit).
 * Only for replaying those runs' histories unchanged; the io worker still refuses what they ask
 * for that is no longer allowed (an endpoint, a folder outside the configured ones), naming the field.
 */
export const LegacyRunInputSchema = RunInputFields.extend({
  providerOptions: z.record(z.string(), z.unknown()).default({}),
});

export type RunInput = z.output<typeof RunInputSchema>;
export type RunInputJson = z.input<typeof RunInputSchema>;
