import { z } from 'zod';
import { RUN_LIMITS } from '../../config/limits';
import { ProviderConfigError } from './errors';
import { google } from './google';
import { localFolder } from './local-folder';
import { openverse } from './openverse';
import {
  checkProviderOptions,
  formatOptionIssues,
  GoogleOptionsSchema,
  LocalFolderOptionsSchema,
  OpenverseOptionsSchema,
  UrlListOptionsSchema,
  WikimediaOptionsSchema,
} from './options';
import type { ProviderContext, SearchProvider, SearchResult } from './types';
import { urlList } from './url-list';
import { wikimedia } from './wikimedia';
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
const maxItems = z.number().int().min(1).max(RUN_LIMITS.maxItems);

/**
 * A search as workflow input: provider, query, how many items, and that provider's options
 * (validated and defaulted here; never secrets, endpoints or folders — those come from runtime configuration).
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

/**
 * Validates and defaults a provider's options. Throws ProviderConfigError naming each bad field
 * (`providerOptions.baseUrl: a run cannot choose the search endpoint…`).
 */
export function parseProviderOptions(name: string, raw: unknown): unknown {
  getProvider(name);
  const checked = checkProviderOptions(name as ProviderName, raw);
  if (!checked.ok) throw new ProviderConfigError(name, `invalid options: ${formatOptionIssues(checked.issues)}`);
  return checked.options;
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
export { GOOGLE_RESULT_LIMIT } from './google';
export { parseUrlList } from './url-list';
export {
  checkProviderOptions,
  DEFAULT_ENDPOINTS,
  FolderNameSchema,
  formatOptionIssues,
  GoogleOptionsSchema,
  LocalFolderOptionsSchema,
  OpenverseOptionsSchema,
  PROVIDER_OPTIONS,
  UrlListOptionsSchema,
  WikimediaOptionsSchema,
  type EndpointProvider,
  type GoogleOptions,
  type LocalFolderOptions,
  type OpenverseOptions,
  type UrlListOptions,
  type WikimediaOptions,
} from './options';
