import { z } from 'zod';
import { ProviderRequestError, ProviderResponseError } from './errors';
import { JsonClient } from './http';
import { DEFAULT_ENDPOINTS, WikimediaOptionsSchema, type WikimediaOptions } from './options';
import { defineProvider, type ProviderContext, type SearchItem } from './types';

/**
 * Wikimedia Commons (no key; endpoint from providers.wikimediaBaseUrl): a full-text search over the File namespace used as a generator
 * for imageinfo, paged with the API's `continue` object. Wikimedia asks clients to send a
 * descriptive User-Agent and to make requests one at a time, which this does.
 */

const ImageInfoSchema = z.object({
  url: z.string().optional(),
  descriptionurl: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  mime: z.string().optional(),
  thumburl: z.string().optional(),
  thumbwidth: z.number().optional(),
  thumbheight: z.number().optional(),
  extmetadata: z.record(z.string(), z.object({ value: z.unknown() }).partial()).optional(),
});

const PageSchema = z.object({
  pageid: z.number().optional(),
  title: z.string(),
  index: z.number().optional(),
  imageinfo: z.array(ImageInfoSchema).optional(),
});

const ResponseSchema = z.object({
  batchcomplete: z.union([z.boolean(), z.string()]).optional(),
  continue: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  query: z
    .object({
      // formatversion=2 gives an array; the default format an object keyed by page id.
      pages: z.union([z.array(PageSchema), z.record(z.string(), PageSchema)]).optional(),
    })
    .optional(),
  error: z.object({ code: z.string(), info: z.string().optional() }).optional(),
});

type Page = z.infer<typeof PageSchema>;

const RASTER_MIME = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'image/heic', 'image/heif']);

export const wikimedia = defineProvider<WikimediaOptions>({
  name: 'wikimedia',
  optionsSchema: WikimediaOptionsSchema,
  async fingerprint(_options, context) {
    return endpointOf(context);
  },
  async search({ query, maxItems }, options, context) {
    const client = new JsonClient('wikimedia', context);
    const items: SearchItem[] = [];
    const seen = new Set<string>();
    // Pages of the current generator batch; with `continue`, imageinfo may arrive over several responses.
    let pending = new Map<string, Page>();
    let continuation: Record<string, string | number> | undefined;
    let pagesFetched = 0;

    do {
      const body = await client.get(requestUrl(endpointOf(context), options, query, continuation));
      pagesFetched++;
      const parsed = ResponseSchema.safeParse(body);
      if (!parsed.success) throw new ProviderResponseError('wikimedia', `unexpected response: ${parsed.error.issues[0]?.message}`);
      const { error, query: result, batchcomplete } = parsed.data;
      if (error) throw new ProviderRequestError('wikimedia', `API error ${error.code}: ${error.info ?? ''}`, undefined, error.info);
      const pages = result?.pages ? (Array.isArray(result.pages) ? result.pages : Object.values(result.pages)) : [];
      for (const page of pages) {
        const id = String(page.pageid ?? page.title);
        const earlier = pending.get(id);
        pending.set(id, earlier ? { ...earlier, ...page, imageinfo: page.imageinfo ?? earlier.imageinfo } : page);
      }
      continuation = parsed.data.continue;
      if (batchcomplete !== undefined || !continuation) {
        for (const page of [...pending.values()].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
          const item = toItem(page, options);
          if (!item || seen.has(item.url) || items.length >= maxItems) continue;
          seen.add(item.url);
          items.push(item);
        }
        pending = new Map();
      }
      // A guard against an API that keeps answering `continue` without results.
    } while (continuation && items.length < maxItems && pagesFetched < 10_000);

    return { provider: 'wikimedia', query, items, requests: client.requests };
  },
});

const endpointOf = (context: ProviderContext) => context.endpoints?.wikimedia ?? DEFAULT_ENDPOINTS.wikimedia;

function requestUrl(endpoint: string, options: WikimediaOptions, query: string, continuation?: Record<string, string | number>): URL {
  const url = new URL(endpoint);
  const params: Record<string, string> = {
    action: 'query',
    format: 'json',
    formatversion: '2',
    generator: 'search',
    gsrnamespace: '6',
    gsrsearch: options.bitmapOnly ? `${query} filetype:bitmap` : query,
    gsrlimit: String(options.batchSize),
    prop: 'imageinfo',
    iiprop: 'url|size|mime|extmetadata',
    iiextmetadatafilter: 'LicenseShortName|Artist',
    ...(options.thumbWidth > 0 ? { iiurlwidth: String(options.thumbWidth) } : {}),
  };
  for (const [name, value] of Object.entries({ ...params, ...continuation })) url.searchParams.set(name, String(value));
  return url;
}

function toItem(page: Page, options: WikimediaOptions): SearchItem | undefined {
  const info = page.imageinfo?.[0];
  if (!info?.url || (info.mime && !RASTER_MIME.has(info.mime))) return undefined;
  const useThumb = options.thumbWidth > 0 && info.thumburl && (info.width ?? 0) > options.thumbWidth;
  const license = info.extmetadata?.LicenseShortName?.value;
  const artist = info.extmetadata?.Artist?.value;
  return {
    url: useThumb ? info.thumburl! : info.url,
    title: page.title.replace(/^File:/, ''),
    license: typeof license === 'string' ? license : undefined,
    creator: typeof artist === 'string' ? stripHtml(artist) || undefined : undefined,
    sourcePage: info.descriptionurl,
    width: useThumb ? info.thumbwidth : info.width,
    height: useThumb ? info.thumbheight : info.height,
  };
}

/** Commons' Artist field is HTML (links to user pages): keep the text. */
function stripHtml(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}
