import { z } from 'zod';
import { ProviderConfigError } from './errors';
import { google, GoogleOptionsSchema } from './google';
import { localFolder, LocalFolderOptionsSchema } from './local-folder';
import { openverse, OpenverseOptionsSchema } from './openverse';
import type { ProviderContext, SearchProvider, SearchResult } from './types';
import { urlList, UrlListOptionsSchema } from './url-list';
import { wikimedia, WikimediaOptionsSchema } from './wikimedia';
import { ProviderNameSchema, type ProviderName } from './names';

/** Every search provider, by the name used in workflow input and store keys. */
export const providers = {
  openverse,
  wikimedia,
  google,
  'url-list': urlList,
  'local-folder': localFolder,
} as const satisfies Record<ProviderName, unknown>;

export { ProviderNameSchema, type ProviderName };

const query = z.string().trim().min(1).max(500);
const maxItems = z.number().int().min(1).max(100_000);

/**
 * A search as workflow input: provider, query, how many items, and that provider's options
 * (validated and defaulted here; never secrets — those come from runtime configuration).
 */
export const SearchSpecSchema = z.discriminatedUnion('provider', [
  z.object({ provider: z.literal('openverse'), query, maxItems, options: OpenverseOptionsSchema.prefault({}) }),
  z.object({ provider: z.literal('wikimedia'), query, maxItems, options: WikimediaOptionsSchema.prefault({}) }),
  z.object({ provider: z.literal('google'), query, maxItems, options: GoogleOptionsSchema.prefault({}) }),
  z.object({ provider: z.literal('url-list'), query: query.default('url-list'), maxItems, options: UrlListOptionsSchema }),
  z.object({ provider: z.literal('local-folder'), query: query.default('local-folder'), maxItems, options: LocalFolderOptionsSchema }),
]);
export type SearchSpec = z.infer<typeof SearchSpecSchema>;

/** Throws ProviderConfigError for a name not in the registry. */
export function getProvider(name: string): SearchProvider<unknown> {
  if (!Object.hasOwn(providers, name)) {
    throw new ProviderConfigError(name, `unknown provider; known: ${Object.keys(providers).join(', ')}`);
  }
  return providers[name as ProviderName] as SearchProvider<unknown>;
}

/** Validates and defaults a provider's options. Throws ProviderConfigError naming each bad field. */
export function parseProviderOptions(name: string, raw: unknown): unknown {
  const parsed = getProvider(name).optionsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`).join('; ');
    throw new ProviderConfigError(name, `invalid options: ${issues}`);
  }
  return parsed.data;
}

/** Runs one search without saving it (searchAndSave is what activities should call). */
export async function runSearch(
  name: string,
  request: { query: string; maxItems: number; options?: unknown },
  context: ProviderContext = {},
): Promise<SearchResult> {
  const options = parseProviderOptions(name, request.options);
  return getProvider(name).search({ query: request.query, maxItems: request.maxItems }, options, context);
}

export type { ProviderContext, ProviderHttpOptions, ProviderSecrets, SearchItem, SearchProvider, SearchRequest, SearchResult } from './types';
export { SearchItemSchema, SearchResultSchema } from './types';
export {
  ProviderAuthError,
  ProviderConfigError,
  ProviderError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderUnavailableError,
} from './errors';
export { GOOGLE_RESULT_LIMIT, GoogleOptionsSchema, type GoogleOptions } from './google';
export { LocalFolderOptionsSchema, type LocalFolderOptions } from './local-folder';
export { OpenverseOptionsSchema, type OpenverseOptions } from './openverse';
export { parseUrlList, UrlListOptionsSchema, type UrlListOptions } from './url-list';
export { WikimediaOptionsSchema, type WikimediaOptions } from './wikimedia';
