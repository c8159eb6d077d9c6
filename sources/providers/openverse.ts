import { z } from 'zod';
import { ProviderRequestError, ProviderResponseError } from './errors';
import { JsonClient } from './http';
import { DEFAULT_ENDPOINTS, OpenverseOptionsSchema, type OpenverseOptions } from './options';
import { defineProvider, type ProviderContext, type SearchItem } from './types';

/**
 * Openverse (openly licensed images, no key): GET {endpoint}images/?q=&page=&page_size=, the
 * endpoint being worker configuration (providers.openverseBaseUrl).
 * Anonymous clients get at most 20 results per page and 20 pages per query (400 results), and
 * about one request per second — hence the default 1 s spacing.
 */

const OpenverseImageSchema = z.object({
  id: z.string(),
  title: z.string().nullish(),
  url: z.string().nullish(),
  width: z.number().nullish(),
  height: z.number().nullish(),
  license: z.string().nullish(),
  license_version: z.string().nullish(),
  creator: z.string().nullish(),
  foreign_landing_url: z.string().nullish(),
});

const OpenversePageSchema = z.object({
  result_count: z.number(),
  page_count: z.number(),
  page_size: z.number(),
  page: z.number(),
  results: z.array(OpenverseImageSchema),
});

export const openverse = defineProvider<OpenverseOptions>({
  name: 'openverse',
  optionsSchema: OpenverseOptionsSchema,
  // Another endpoint (a mirror) may answer differently: part of the saved-results key.
  async fingerprint(_options, context) {
    return endpointOf(context);
  },
  async search({ query, maxItems }, options, context) {
    const client = new JsonClient('openverse', context, { requestIntervalMs: 1000 });
    const items: SearchItem[] = [];
    const seen = new Set<string>();
    let truncated: { reason: string } | undefined;
    const limitReason = (matched: number, pages: number) =>
      `Openverse serves at most ${pages} pages of ${options.pageSize} (${pages * options.pageSize} results) per query without authentication; ${matched} matched`;

    for (let page = 1; items.length < maxItems; page++) {
      let body: unknown;
      try {
        body = await client.get(pageUrl(endpointOf(context), options, query, page));
      } catch (error) {
        // A page beyond the real depth limit (maxPages set too high): keep what we have.
        if (error instanceof ProviderRequestError && error.status === 400 && page > 1) {
          truncated = { reason: `Openverse refused page ${page}: ${error.apiMessage ?? 'HTTP 400'}` };
          break;
        }
        throw error;
      }
      const parsed = OpenversePageSchema.safeParse(body);
      if (!parsed.success) throw new ProviderResponseError('openverse', `unexpected page ${page}: ${parsed.error.issues[0]?.message}`);
      const { results, result_count, page_count } = parsed.data;
      for (const result of results) {
        if (!result.url || seen.has(result.url) || items.length >= maxItems) continue;
        seen.add(result.url);
        items.push(toItem(result));
      }
      if (items.length >= maxItems || results.length === 0) break;
      const moreExist = result_count > page * options.pageSize;
      if (page >= page_count || page >= options.maxPages) {
        if (moreExist) truncated = { reason: limitReason(result_count, Math.min(page_count, options.maxPages)) };
        break;
      }
    }
    return { provider: 'openverse', query, items, truncated, requests: client.requests };
  },
});

const endpointOf = (context: ProviderContext) => context.endpoints?.openverse ?? DEFAULT_ENDPOINTS.openverse;

function pageUrl(endpoint: string, options: OpenverseOptions, query: string, page: number): URL {
  const base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  const url = new URL('images/', base);
  url.searchParams.set('q', query);
  url.searchParams.set('page', String(page));
  url.searchParams.set('page_size', String(options.pageSize));
  if (options.license) url.searchParams.set('license', options.license);
  if (options.licenseType) url.searchParams.set('license_type', options.licenseType);
  if (options.category) url.searchParams.set('category', options.category);
  if (options.source) url.searchParams.set('source', options.source);
  return url;
}

function toItem(result: z.infer<typeof OpenverseImageSchema>): SearchItem {
  return {
    url: result.url!,
    title: result.title ?? undefined,
    license: result.license ? formatLicense(result.license, result.license_version ?? undefined) : undefined,
    creator: result.creator ?? undefined,
    sourcePage: result.foreign_landing_url ?? undefined,
    width: result.width ?? undefined,
    height: result.height ?? undefined,
  };
}

/** Openverse codes ("by-sa", "cc0", "pdm") as people write them ("CC BY-SA 2.0"). */
export function formatLicense(code: string, version?: string): string {
  const suffix = version ? ` ${version}` : '';
  if (code === 'pdm') return `Public Domain Mark${suffix}`;
  if (code === 'cc0') return `CC0${suffix}`;
  return `CC ${code.toUpperCase()}${suffix}`;
}
