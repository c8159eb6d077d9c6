import { z } from 'zod';
import type { Store } from '../../storage/store';
import type { EndpointProvider } from './options';

/** One image a provider found. Only `url` is required; the rest is attribution and hints. */
export const SearchItemSchema = z.object({
  url: z.string(),
  title: z.string().optional(),
  /** Human-readable licence, e.g. "CC BY-SA 4.0". */
  license: z.string().optional(),
  creator: z.string().optional(),
  /** The page describing the image (for attribution), not the image itself. */
  sourcePage: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});
export type SearchItem = z.infer<typeof SearchItemSchema>;

export const SearchResultSchema = z.object({
  provider: z.string(),
  query: z.string(),
  items: z.array(SearchItemSchema),
  /** Set when a provider limit (page depth, Google's 100 results) stopped the search before maxItems while more results existed. */
  truncated: z.object({ reason: z.string() }).optional(),
  /** HTTP requests made, retries included (some providers bill per request). */
  requests: z.number(),
  /** Lines or entries skipped, e.g. a url-list line that is not an http(s) URL. */
  warnings: z.array(z.string()).optional(),
});
export type SearchResult = z.infer<typeof SearchResultSchema>;

export interface SearchRequest {
  query: string;
  maxItems: number;
}

/** Secrets come from runtime configuration (config.providers), never from workflow input. */
export interface ProviderSecrets {
  googleApiKey?: string;
  googleCx?: string;
}

/** How providers talk HTTP. Every field has a default; tests shorten the delays. */
export interface ProviderHttpOptions {
  /** Attempts per request, the first included. Default 4. */
  attempts?: number;
  /** First retry delay, doubling. Default 1 s. */
  baseDelayMs?: number;
  /** Longest single wait; a Retry-After beyond it fails at once (ProviderUnavailableError). Default 60 s. */
  maxDelayMs?: number;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Longest silence once connected. Default 15 s. */
  idleTimeoutMs?: number;
  /** Largest response accepted. Default 16 MiB. */
  maxBytes?: number;
  userAgent?: string;
  /** Minimum spacing between one search's requests; each provider has its own default (Openverse: 1 s). */
  requestIntervalMs?: number;
}

/**
 * What a provider may use besides its options: everything here comes from worker configuration,
 * never from the run input.
 */
export interface ProviderContext {
  secrets?: ProviderSecrets;
  /** Search endpoints (providers.<name>BaseUrl); a provider without one uses its public default. */
  endpoints?: Partial<Record<EndpointProvider, string>>;
  /** Named local folders runs may read (config `folders`); none configured means none readable. */
  folders?: Readonly<Record<string, string>>;
  /** `host[:port]` entries no request may reach, not even by redirect: the store, Temporal. */
  denyHosts?: readonly string[];
  /** Needed by url-list when the list lives in the store. */
  store?: Store;
  signal?: AbortSignal;
  http?: ProviderHttpOptions;
}

export interface SearchProvider<Options = unknown> {
  readonly name: string;
  /** Validates (and defaults) the provider's options: what a run input may say (no endpoints, keys or paths outside configured folders). */
  readonly optionsSchema: z.ZodType<Options>;
  search(request: SearchRequest, options: Options, context: ProviderContext): Promise<SearchResult>;
  /** Extra input to the saved-results key when results depend on more than the options (a list file's content). */
  fingerprint?(options: Options, context: ProviderContext): Promise<string>;
}

/** Identity helper that keeps each provider's option type while checking the interface. */
export function defineProvider<Options>(provider: SearchProvider<Options>): SearchProvider<Options> {
  return provider;
}
