import { z } from 'zod';
import { sha256 } from '../storage/checksum';
import { getJson, putJson } from '../storage/json';
import { keys } from '../storage/keys';
import type { Store } from '../storage/store';
import { getProvider, parseProviderOptions } from './providers';
import { InvalidSearchDateError } from './errors';
import { SearchResultSchema, type ProviderContext, type SearchResult } from './providers/types';

export { InvalidSearchDateError };

/** What is stored at keys.searchResults(...): the request that produced the results, and the results. */
export const SavedSearchSchema = z.object({
  version: z.literal(1),
  provider: z.string(),
  query: z.string(),
  maxItems: z.number(),
  /** The provider options after defaults (never secrets). */
  options: z.unknown(),
  queryHash: z.string(),
  date: z.string(),
  savedAt: z.string(),
  result: SearchResultSchema,
});
export type SavedSearch = z.infer<typeof SavedSearchSchema>;

export interface SearchAndSaveRequest {
  query: string;
  maxItems: number;
  options?: unknown;
}

export interface SearchAndSaveOptions {
  /** The search's day, YYYY-MM-DD (or a Date, taken in UTC); part of the key, so one query is re-run once per day at most. */
  date: string | Date;
  context?: ProviderContext;
}

export interface SavedSearchRef {
  key: string;
  /** Items found. */
  count: number;
  truncated?: { reason: string };
  /** HTTP requests this call made: 0 when the results were already saved. */
  requests: number;
  /** True when the results were loaded from the store instead of searched again. */
  reused: boolean;
}

/**
 * Searches and saves the raw results before anything is downloaded — or, when results for the
 * same provider, query, maxItems and options were already saved that day, returns those without
 * querying (searches can cost money and quota). Throws the provider's ProviderError on failure;
 * nothing is saved then. Throws CorruptObjectError if the saved results are unreadable.
 */
export async function searchAndSave(
  store: Store,
  provider: string,
  request: SearchAndSaveRequest,
  { date, context = {} }: SearchAndSaveOptions,
): Promise<SavedSearchRef> {
  const day = toDay(date);
  const options = parseProviderOptions(provider, request.options);
  const fingerprint = await getProvider(provider).fingerprint?.(options, context);
  const queryHash = searchQueryHash({ provider, query: request.query, maxItems: request.maxItems, options, fingerprint });
  const key = keys.searchResults(provider, queryHash, day);

  if (await store.exists(key)) {
    const saved = await loadSearchResults(store, key);
    return { key, count: saved.result.items.length, truncated: saved.result.truncated, requests: 0, reused: true };
  }
  const result: SearchResult = await getProvider(provider).search({ query: request.query, maxItems: request.maxItems }, options, context);
  const document: SavedSearch = {
    version: 1,
    provider,
    query: request.query,
    maxItems: request.maxItems,
    options,
    queryHash,
    date: day,
    savedAt: new Date().toISOString(),
    result,
  };
  await putJson(store, key, document);
  return { key, count: result.items.length, truncated: result.truncated, requests: result.requests, reused: false };
}

/** Reads saved results back (for the download step). Throws ObjectNotFoundError / CorruptObjectError. */
export function loadSearchResults(store: Store, key: string): Promise<SavedSearch> {
  return getJson(store, key, SavedSearchSchema);
}

/** 16 hex digits of sha256 over the canonical JSON of everything that decides a search's results. */
export function searchQueryHash(input: { provider: string; query: string; maxItems: number; options: unknown; fingerprint?: string }): string {
  return sha256(Buffer.from(canonicalJson(input))).slice(0, 16);
}

/** JSON with object keys sorted at every level and undefined members dropped: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => {
    if (member === null || typeof member !== 'object' || Array.isArray(member)) return member;
    return Object.fromEntries(
      Object.entries(member as Record<string, unknown>)
        .filter(([, inner]) => inner !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });
}

function toDay(date: string | Date): string {
  if (date instanceof Date) {
    if (Number.isNaN(date.getTime())) throw new InvalidSearchDateError('invalid Date');
    return date.toISOString().slice(0, 10);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw new InvalidSearchDateError(`search date must be YYYY-MM-DD, got ${JSON.stringify(date)}`);
  }
  return date;
}
