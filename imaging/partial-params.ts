// The partial-information parameter schema and its hash. Deliberately free of sharp and node
// built-ins so Temporal workflow code can import it to validate input and derive store keys.
import { z } from 'zod';
import { DEFAULT_CANNY_HIGH, DEFAULT_CANNY_LOW, DEFAULT_KMEANS_K, DEFAULT_KMEANS_SEED, MIN_BLUR_SIGMA } from './defaults';
import { MAX_PALETTE_COLOURS } from './palette';
import { sha256Hex } from './sha256';

/**
 * Bump when any method's output changes for the same params (palette, defaults, algorithm),
 * so store keys derived from paramsHash stop matching stale results.
 */
export const PARTIAL_ALGORITHM_VERSION = 1;

const blurSigma = z
  .number()
  .min(0)
  .max(100)
  .refine((sigma) => sigma === 0 || sigma >= MIN_BLUR_SIGMA, `blurSigma must be 0 (off) or at least ${MIN_BLUR_SIGMA}`)
  .default(0);

export const KmeansParamsSchema = z.strictObject({
  method: z.literal('kmeans'),
  k: z.number().int().min(2).max(MAX_PALETTE_COLOURS).default(DEFAULT_KMEANS_K),
  paint: z.enum(['palette', 'mean']).default('palette'),
  blurSigma,
  seed: z.number().int().min(0).max(0xffffffff).default(DEFAULT_KMEANS_SEED),
});

export const EdgesParamsSchema = z
  .strictObject({
    method: z.literal('edges'),
    /** Hysteresis thresholds as fractions of a full-contrast step edge's gradient (see CannyOptions). */
    low: z.number().gt(0).max(1).default(DEFAULT_CANNY_LOW),
    high: z.number().gt(0).max(1).default(DEFAULT_CANNY_HIGH),
    blurSigma,
  })
  .refine((params) => params.low <= params.high, { message: 'low must not exceed high', path: ['low'] });

/** Parameters of a partial-information method, discriminated by `method`; parsing fills in defaults. */
export const PartialParamsSchema = z.discriminatedUnion('method', [KmeansParamsSchema, EdgesParamsSchema]);

/** Fully specified params (after parsing). */
export type PartialParams = z.output<typeof PartialParamsSchema>;
/** What callers may write: fields with defaults are optional. */
export type PartialParamsInput = z.input<typeof PartialParamsSchema>;
export type PartialMethod = PartialParams['method'];

/**
 * Short stable id for a parameter set: 16 hex chars of sha256 over canonical JSON of the parsed
 * params and PARTIAL_ALGORITHM_VERSION. Inputs differing only by defaults or key order hash equal.
 */
export function paramsHash(params: PartialParamsInput): string {
  const parsed = PartialParamsSchema.parse(params);
  return sha256Hex(canonicalJson({ version: PARTIAL_ALGORITHM_VERSION, params: parsed })).slice(0, 16);
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
