import { z } from 'zod';
import { canonicalJson, PartialParamsSchema, type PartialParams } from '../imaging/partial-params';
import { sha256Hex } from '../imaging/sha256';
import { TrainOptionsSchema, type TrainOptions } from '../model/options';
import { ID_MAX_CHARS } from './fields';
import { checkProviderAndSize, RunInputSchema } from './run-input';

/**
 * The JSON that starts a comparison (workflow `compareVariants`): the shared stages of a run (search,
 * download, conform) once, then one training per variant of partial information and training options,
 * e.g. from the Temporal CLI:
 *   temporal workflow start --type compareVariants --task-queue bloomsight --workflow-id sweep \
 *     --input '{"runKey":"sweep","variants":[{"partial":{"method":"kmeans"}},{"partial":{"method":"edges"}}]}'
 * The shared fields are the run input's own (taken from RunInputSchema by reference, so both stay one
 * definition), checked as a run's are (provider options, size). `bloomsight compare` validates with
 * this same schema before it starts anything.
 * Safe to import from workflow code (zod and other schema modules only).
 */

export const MAX_VARIANTS = 16;
/** `<runKey>--<variant name>` must fit in a model id. */
const MAX_MODEL_ID = ID_MAX_CHARS;
const NAME_CHARS = 32;
const variantNamePattern = new RegExp(`^[a-z0-9][a-z0-9-]{0,${NAME_CHARS - 1}}$`);

/** Training options all variants share: every variant trains and is shown at one image size. */
const SHARED_TRAIN_KEYS = new Set(['preset', 'imageSize']);
const TRAIN_OPTION_KEYS = new Set(Object.keys(TrainOptionsSchema.in.shape));

export const VariantSchema = z.strictObject({
  name: z
    .string()
    .regex(variantNamePattern, `must be 1-${NAME_CHARS} lowercase letters, digits or hyphens, starting with a letter or digit`)
    .optional()
    .describe('names the variant; its model id is {runKey}--{name}. Default: the method and the parameters that differ from the defaults, e.g. kmeans-k5-blur1p5 (longer than 32 characters: shortened, with a hash)'),
  partial: PartialParamsSchema.describe('partial-information method and its parameters, e.g. {"method": "kmeans", "k": 5}'),
  train: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("training options that differ from the comparison's train, e.g. {\"ngf\": 16} (not imageSize or preset: all variants train at one size)"),
});
export type VariantJson = z.input<typeof VariantSchema>;

const run = RunInputSchema.shape;

const CompareFieldsSchema = z.strictObject({
  runKey: run.runKey,
  query: run.query,
  provider: run.provider,
  providerOptions: run.providerOptions,
  maxItems: run.maxItems,
  fit: run.fit,
  batchSize: run.batchSize,
  parallelBatches: run.parallelBatches,
  train: run.train.describe("training options every variant starts from; train.imageSize (or its preset) is the size of every variant and of the shared dataset"),
  variants: z.array(VariantSchema).min(1).max(MAX_VARIANTS).describe('the ways of seeing to compare, each trained on the same photos'),
  parallelVariants: z.number().int().min(1).max(MAX_VARIANTS).default(4).describe('variants training at once, each on its own gpu worker'),
  video: run.video.describe('store key of a video to render with every variant, side by side'),
  panels: z.enum(['two', 'three']).default('two').describe("video columns: original + each variant's output; three adds each variant's partial information"),
  heartbeatTimeoutSeconds: run.heartbeatTimeoutSeconds,
  taskQueues: run.taskQueues,
});

/** One variant as the comparison runs it: named, its model id fixed, its options complete. */
export interface CompiledVariant {
  name: string;
  modelId: string;
  partial: PartialParams;
  /** The comparison's train merged with the variant's own, resolved. */
  train: TrainOptions;
  /** What the variant changed (for names and the report). */
  trainOverrides: Record<string, unknown>;
}

/** Checked as a run's input is (provider options, size), then as a comparison; compiled to named variants with complete options. */
export const CompareInputSchema = CompareFieldsSchema.superRefine(checkProviderAndSize, { when: () => true })
  .superRefine(checkVariants, { when: () => true })
  .transform((input) => ({
    ...input,
    variants: input.variants.map((variant): CompiledVariant => {
      const name = variant.name ?? defaultVariantName(variant.partial, variant.train);
      const train = TrainOptionsSchema.parse({ ...input.train, ...variant.train });
      return { name, modelId: `${input.runKey}--${name}`, partial: variant.partial, train, trainOverrides: variant.train };
    }),
  }));

export type CompareInput = z.output<typeof CompareInputSchema>;
export type CompareInputJson = z.input<typeof CompareInputSchema>;

/**
 * What no single field can say: each variant's training options merged (shallow) with the shared
 * ones and valid as a whole, its name unique, its model id short enough. Runs even when other
 * fields failed, so every problem is named at once; hence the guards on shapes.
 */
function checkVariants(input: z.output<typeof CompareFieldsSchema>, ctx: z.RefinementCtx): void {
  if (!Array.isArray(input?.variants)) return;
  const shared = TrainOptionsSchema.safeParse(input.train);
  const names = new Map<string, number>();
  input.variants.forEach((variant, i) => {
    const path = ['variants', i];
    const overrides: unknown = variant?.train ?? {};
    if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) return;
    for (const key of Object.keys(overrides)) {
      if (SHARED_TRAIN_KEYS.has(key)) ctx.addIssue({ code: 'custom', path: [...path, 'train', key], message: `all variants train at one size: set ${key} in the comparison's train, not a variant's` });
      else if (!TRAIN_OPTION_KEYS.has(key)) ctx.addIssue({ code: 'custom', path: [...path, 'train', key], message: 'not a training option' });
    }
    if (shared.success) {
      const merged = TrainOptionsSchema.safeParse({ ...shared.data, ...overrides });
      if (!merged.success) for (const problem of merged.error.issues) ctx.addIssue({ code: 'custom', path: [...path, 'train', ...problem.path], message: problem.message });
    }
    const partial = PartialParamsSchema.safeParse(variant?.partial);
    if (!partial.success) return;
    const name = typeof variant.name === 'string' ? variant.name : defaultVariantName(partial.data, overrides as Record<string, unknown>);
    const modelId = `${input.runKey}--${name}`;
    if (typeof input.runKey === 'string' && modelId.length > MAX_MODEL_ID) {
      ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `model id ${modelId} would be longer than ${MAX_MODEL_ID} characters: shorten the run key or name the variant` });
    }
    const earlier = names.get(name);
    if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `"${name}" is also the name of variants.${earlier}: give each variant its own name (or its own parameters)` });
    names.set(name, i);
  });
}

const PARAM_LABELS: Record<string, string> = { blurSigma: 'blur', paint: '' };

/**
 * A readable, stable name from what makes the variant different: the method, then each parameter
 * that differs from its default (`kmeans-k5-blur1p5`, `edges-low0p1`, `kmeans-mean-ngf16`). Names
 * longer than 32 characters keep 25 and add 6 hex of the variant's hash, so they stay distinct.
 */
export function defaultVariantName(partial: PartialParams, trainOverrides: Record<string, unknown> = {}): string {
  const defaults = PartialParamsSchema.parse({ method: partial.method }) as Record<string, unknown>;
  const parts: string[] = [partial.method];
  for (const [key, value] of Object.entries(partial)) {
    if (key === 'method' || canonicalJson(value) === canonicalJson(defaults[key])) continue;
    parts.push(`${PARAM_LABELS[key] ?? key}${formatValue(value)}`);
  }
  for (const key of Object.keys(trainOverrides).sort()) parts.push(`${key}${formatValue(trainOverrides[key])}`);
  const name = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name.length <= NAME_CHARS) return name;
  const hash = sha256Hex(canonicalJson({ partial, train: trainOverrides })).slice(0, 6);
  return `${name.slice(0, NAME_CHARS - 7).replace(/-+$/, '')}-${hash}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value).replace('.', 'p').replace('-', 'm');
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  return sha256Hex(canonicalJson(value)).slice(0, 4);
}
