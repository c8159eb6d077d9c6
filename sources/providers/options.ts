import { z } from 'zod';
import { RUN_LIMITS } from '../../config/limits';
import type { ProviderName } from './names';

/**
 * What a run input may say about its search, per provider (`providerOptions`). Zod only, so the
 * workflow checks it at once and the io worker checks it again before searching.
 *
 * The trust boundary: endpoints, API keys and local folders belong to the operator (worker
 * configuration: providers.*, folders.*). A run input chooses among the names configured there
 * (the provider, a folder's name) and sets harmless search parameters; nothing in it can point a
 * worker at another host or another part of its filesystem.
 */

/** The public endpoints, used unless the operator configures others (providers.<name>BaseUrl). */
export const DEFAULT_ENDPOINTS = {
  openverse: 'https://api.openverse.org/v1/',
  wikimedia: 'https://commons.wikimedia.org/w/api.php',
  google: 'https://www.googleapis.com/customsearch/v1',
} as const;
export type EndpointProvider = keyof typeof DEFAULT_ENDPOINTS;

/** A configured folder's name (folders.<name>): what a run input may name instead of a path. */
export const FolderNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'must be a folder name: 1-63 letters, digits, _ or -, as configured in folders.<name>');

const text = z.string().max(RUN_LIMITS.textChars);

/** `folder` + relative `path` inside it, or an absolute `path` that must lie inside a configured folder. */
const folderFields = {
  folder: FolderNameSchema.optional().describe('name of a folder the operator configured (folders.<name>)'),
  path: text
    .min(1)
    .optional()
    .describe('with folder: a relative path inside it; alone: an absolute path, which must lie inside a configured folder'),
};

function checkFolderPath(options: { folder?: string; path?: string }, ctx: z.RefinementCtx, required: boolean): void {
  const { folder, path } = options;
  if (path === undefined) {
    if (required && folder === undefined) ctx.addIssue({ code: 'custom', path: ['folder'], message: 'give folder: the name of a folder the operator configured (folders.<name>)' });
    return;
  }
  if (path.includes('\0')) ctx.addIssue({ code: 'custom', path: ['path'], message: 'may not contain NUL' });
  if (path.split(/[\\/]+/).includes('..')) ctx.addIssue({ code: 'custom', path: ['path'], message: "may not contain '..': name a folder the operator configured and a path inside it" });
  const absolute = /^([\\/]|[A-Za-z]:[\\/])/.test(path);
  if (folder !== undefined && absolute) ctx.addIssue({ code: 'custom', path: ['path'], message: 'must be relative to the folder when folder is given' });
  if (folder === undefined && !absolute) ctx.addIssue({ code: 'custom', path: ['path'], message: 'must be absolute, or relative with folder given' });
}

/**
 * Openverse (openly licensed images, no key). Anonymous clients get at most 20 results per page and
 * 20 pages per query (400 results), and about one request per second.
 */
export const OpenverseOptionsSchema = z
  .object({
    pageSize: z.number().int().min(1).max(20).default(20).describe('1..20: anonymous page size limit (Openverse answers 401 above it)'),
    maxPages: z.number().int().min(1).max(100).default(20).describe('page depth Openverse allows per query; pages beyond it are refused with 400'),
    license: text.optional().describe('Openverse filter, e.g. "by,by-sa,cc0"'),
    licenseType: text.optional().describe('Openverse filter, e.g. "commercial,modification"'),
    category: text.optional().describe('Openverse filter, e.g. "photograph"'),
    source: text.optional().describe('Openverse filter: the image source, e.g. "flickr"'),
  })
  .strict();
export type OpenverseOptions = z.infer<typeof OpenverseOptionsSchema>;

/** Wikimedia Commons (no key). */
export const WikimediaOptionsSchema = z
  .object({
    batchSize: z.number().int().min(1).max(50).default(50).describe('search results per request; 50 is the limit for clients without bot rights'),
    bitmapOnly: z.boolean().default(true).describe('adds filetype:bitmap to the search, leaving out SVG, PDF, video and audio'),
    thumbWidth: z.number().int().min(0).max(4096).default(1024).describe('download a thumbnail this wide instead of the (often 20+ MP) original; 0 = originals'),
  })
  .strict();
export type WikimediaOptions = z.infer<typeof WikimediaOptionsSchema>;

/** Google Custom Search JSON API, image search. Key and search engine id (cx) are worker configuration. */
export const GoogleOptionsSchema = z
  .object({
    safe: z.enum(['active', 'off']).default('active'),
    imgType: z.enum(['clipart', 'face', 'lineart', 'stock', 'photo', 'animated']).optional(),
    imgSize: z.enum(['icon', 'small', 'medium', 'large', 'xlarge', 'xxlarge', 'huge']).optional(),
    rights: text.optional().describe('licence filter, e.g. "cc_publicdomain|cc_attribute|cc_sharealike"'),
  })
  .strict();
export type GoogleOptions = z.infer<typeof GoogleOptionsSchema>;

/** A list of image URLs: inline, an object in the store, or a file inside a configured folder. */
export const UrlListOptionsSchema = z
  .object({
    urls: z
      .array(z.string().min(1).max(RUN_LIMITS.urlChars))
      .min(1)
      .max(RUN_LIMITS.inlineUrls)
      .optional()
      .describe(`the URLs themselves (at most ${RUN_LIMITS.inlineUrls}; longer lists go through the store)`),
    key: text.min(1).optional().describe('an object in the store holding one URL per line (e.g. uploaded by the CLI)'),
    ...folderFields,
  })
  .strict()
  .superRefine((options, ctx) => {
    const sources = [options.urls, options.key, options.path].filter((source) => source !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of urls, key or path' });
    if (options.folder !== undefined && options.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'give the list file inside the folder' });
    checkFolderPath(options, ctx, false);
  });
export type UrlListOptions = z.infer<typeof UrlListOptionsSchema>;

/** Images already on disk, inside a folder the operator configured. The query is only a label. */
export const LocalFolderOptionsSchema = z
  .object({
    ...folderFields,
    recursive: z.boolean().default(true).describe('include subfolders'),
  })
  .strict()
  .superRefine((options, ctx) => checkFolderPath(options, ctx, true));
export type LocalFolderOptions = z.infer<typeof LocalFolderOptionsSchema>;

export const PROVIDER_OPTIONS = {
  openverse: OpenverseOptionsSchema,
  wikimedia: WikimediaOptionsSchema,
  google: GoogleOptionsSchema,
  'url-list': UrlListOptionsSchema,
  'local-folder': LocalFolderOptionsSchema,
} as const satisfies Record<ProviderName, z.ZodType>;

/**
 * Options that older versions took from the run input and now come only from worker
 * configuration, with what to do instead: a run that still sends one fails naming it.
 */
const RETIRED_OPTIONS: Partial<Record<ProviderName, Record<string, string>>> = {
  openverse: { baseUrl: retiredEndpoint('openverse') },
  wikimedia: { baseUrl: retiredEndpoint('wikimedia') },
  google: {
    baseUrl: retiredEndpoint('google'),
    cx: 'the search engine id is worker configuration (providers.googleCx, BLOOMSIGHT_PROVIDERS__GOOGLE_CX): remove it from the run input',
    key: 'API keys are worker configuration (providers.googleApiKey): never put one in a run input',
  },
};

function retiredEndpoint(provider: EndpointProvider): string {
  const field = `${provider}BaseUrl`;
  const env = `BLOOMSIGHT_PROVIDERS__${provider.toUpperCase()}_BASE_URL`;
  return `a run cannot choose the search endpoint: the operator sets it in the io worker's configuration (providers.${field}, ${env}); remove it from the run input`;
}

export interface OptionIssue {
  /** Path inside providerOptions. */
  path: PropertyKey[];
  message: string;
}

/**
 * Validates and defaults one provider's options. Retired options (endpoints, keys) are reported
 * with what to do instead, before anything else.
 */
export function checkProviderOptions(provider: ProviderName, raw: unknown): { ok: true; options: unknown } | { ok: false; issues: OptionIssue[] } {
  const retired = RETIRED_OPTIONS[provider] ?? {};
  if (raw !== null && typeof raw === 'object') {
    const issues = Object.keys(raw)
      .filter((key) => Object.hasOwn(retired, key))
      .map((key) => ({ path: [key], message: retired[key]! }));
    if (issues.length > 0) return { ok: false, issues };
  }
  const parsed = PROVIDER_OPTIONS[provider].safeParse(raw ?? {});
  if (parsed.success) return { ok: true, options: parsed.data };
  return { ok: false, issues: parsed.error.issues.flatMap(describeIssue) };
}

/** Zod reports unknown keys at the object; name each key instead, so the message names the field. */
function describeIssue(issue: z.core.$ZodIssue): OptionIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'is not an option of this provider' }));
  }
  return [{ path: issue.path, message: issue.message }];
}

/** `providerOptions.path: must be absolute…` — the form every layer reports option problems in. */
export function formatOptionIssues(issues: readonly OptionIssue[]): string {
  return issues.map((issue) => `${['providerOptions', ...issue.path.map(String)].join('.')}: ${issue.message}`).join('; ');
}
