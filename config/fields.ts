import { z } from 'zod';

/**
 * Fields several workflow inputs share, defined once. Safe to import from workflow code (zod only).
 */

/** Run keys, model ids and render ids: store-key segments, at most 63 characters. */
export const ID_MAX_CHARS = 63;
const ID_PATTERN = new RegExp(`^[a-z0-9][a-z0-9-]{0,${ID_MAX_CHARS - 1}}$`);
const ID_RULE = `must be 1-${ID_MAX_CHARS} lowercase letters, digits or hyphens, starting with a letter or digit`;

export const RunKeySchema = z.string().regex(ID_PATTERN, ID_RULE);
export const ModelIdSchema = z.string().regex(ID_PATTERN, `must be a model id (the run key that trained it): ${ID_RULE}`);
export const RenderIdSchema = z.string().regex(ID_PATTERN, ID_RULE);

export const HeartbeatTimeoutSchema = z
  .number()
  .int()
  .min(2)
  .max(3600)
  .default(120)
  .describe('how soon a dead worker is noticed and its work (a dataset batch, training, a render chunk) retried elsewhere');
