import { z } from 'zod';

/** The search providers by name. Zod only, so workflow code (the run input schema) can import it. */
export const ProviderNameSchema = z.enum(['openverse', 'wikimedia', 'google', 'url-list', 'local-folder']);
export type ProviderName = z.infer<typeof ProviderNameSchema>;
