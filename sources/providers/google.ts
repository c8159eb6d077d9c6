import { z } from 'zod';
import { ProviderConfigError, ProviderResponseError } from './errors';
import { JsonClient } from './http';
import { DEFAULT_ENDPOINTS, GoogleOptionsSchema, type GoogleOptions } from './options';
import { defineProvider, type ProviderContext, type SearchItem } from './types';

/**
 * Google Custom Search JSON API, image search. Needs an API key and a search engine id (cx)
 * from runtime configuration, and sends the key only to the configured endpoint
 * (providers.googleBaseUrl): redirects to any other origin are refused. At most 10 results per
 * request (`num`), `start` is 1-based, and the API never returns results beyond the 100th:
 * asking for more is reported as truncated.
 * Each request is billed once the free daily quota is used up.
 */

/** The API never returns results past this position. */
export const GOOGLE_RESULT_LIMIT = 100;
const PAGE_LIMIT = 10;

const ResponseSchema = z.object({
  queries: z
    .object({
      nextPage: z.array(z.object({ startIndex: z.number() })).optional(),
    })
    .optional(),
  searchInformation: z.object({ totalResults: z.union([z.string(), z.number()]) }).optional(),
  items: z
    .array(
      z.object({
        link: z.string(),
        title: z.string().optional(),
        image: z.object({ contextLink: z.string().optional(), width: z.number().optional(), height: z.number().optional() }).optional(),
      }),
    )
    .optional(),
});

export const google = defineProvider<GoogleOptions>({
  name: 'google',
  optionsSchema: GoogleOptionsSchema,
  // Endpoint and engine decide the results (never the key: it is a secret).
  async fingerprint(_options, context) {
    return `${endpointOf(context)} ${context.secrets?.googleCx ?? ''}`;
  },
  async search({ query, maxItems }, options, context) {
    const key = context.secrets?.googleApiKey;
    const cx = context.secrets?.googleCx;
    if (!key) throw new ProviderConfigError('google', 'no API key: set providers.googleApiKey (BLOOMSIGHT_PROVIDERS__GOOGLE_API_KEY)');
    if (!cx) throw new ProviderConfigError('google', 'no search engine id: set providers.googleCx (BLOOMSIGHT_PROVIDERS__GOOGLE_CX)');
    const client = new JsonClient('google', context, {
      secrets: [key],
      // The key rides in the query string: it must never follow a redirect to another host.
      sameOriginRedirectsOnly: true,
      // Google answers an invalid key with 400 INVALID_ARGUMENT / reason API_KEY_INVALID, not 403.
      isAuthFailure: (status, body) => status === 400 && /API_KEY_INVALID|keyInvalid|API key not valid/.test(JSON.stringify(body ?? '')),
    });

    const items: SearchItem[] = [];
    const seen = new Set<string>();
    const wanted = Math.min(maxItems, GOOGLE_RESULT_LIMIT);
    let start = 1;
    let more = true;
    /** The last response offered a next page: more results exist than we took. */
    let nextOffered = false;
    while (items.length < wanted && more) {
      const num = Math.min(PAGE_LIMIT, wanted - items.length, GOOGLE_RESULT_LIMIT - start + 1);
      const parsed = ResponseSchema.safeParse(await client.get(requestUrl(endpointOf(context), options, { key, cx, query, start, num })));
      if (!parsed.success) throw new ProviderResponseError('google', `unexpected response: ${parsed.error.issues[0]?.message}`);
      const results = parsed.data.items ?? [];
      for (const result of results) {
        if (seen.has(result.link) || items.length >= wanted) continue;
        seen.add(result.link);
        items.push({
          url: result.link,
          title: result.title,
          sourcePage: result.image?.contextLink,
          width: result.image?.width,
          height: result.image?.height,
        });
      }
      const next = parsed.data.queries?.nextPage?.[0]?.startIndex;
      nextOffered = next !== undefined;
      more = results.length > 0 && next !== undefined && next <= GOOGLE_RESULT_LIMIT;
      start = next ?? start + results.length;
    }

    // Stopped by the 100-result ceiling rather than by running out of results.
    const hitLimit = maxItems > GOOGLE_RESULT_LIMIT && nextOffered && (start > GOOGLE_RESULT_LIMIT || items.length >= wanted);
    const truncated = hitLimit
      ? { reason: `Google Custom Search returns at most ${GOOGLE_RESULT_LIMIT} results per query; ${maxItems} were asked for` }
      : undefined;
    return { provider: 'google', query, items, truncated, requests: client.requests };
  },
});

const endpointOf = (context: ProviderContext) => context.endpoints?.google ?? DEFAULT_ENDPOINTS.google;

function requestUrl(endpoint: string, options: GoogleOptions, params: { key: string; cx: string; query: string; start: number; num: number }): URL {
  const url = new URL(endpoint);
  url.searchParams.set('key', params.key);
  url.searchParams.set('cx', params.cx);
  url.searchParams.set('q', params.query);
  url.searchParams.set('searchType', 'image');
  url.searchParams.set('start', String(params.start));
  url.searchParams.set('num', String(params.num));
  url.searchParams.set('safe', options.safe);
  if (options.imgType) url.searchParams.set('imgType', options.imgType);
  if (options.imgSize) url.searchParams.set('imgSize', options.imgSize);
  if (options.rights) url.searchParams.set('rights', options.rights);
  return url;
}
