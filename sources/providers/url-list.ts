import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { sha256 } from '../../storage/checksum';
import { ProviderConfigError } from './errors';
import { defineProvider, type ProviderContext, type SearchItem } from './types';

/**
 * A text file of image URLs, one per line; blank lines and lines starting with `#` are skipped.
 * Read from a local path or a store key. The query is only a label here.
 */
export const UrlListOptionsSchema = z
  .object({
    /** A local file. */
    path: z.string().min(1).optional(),
    /** An object in the store (e.g. uploaded by the CLI). */
    key: z.string().min(1).optional(),
  })
  .strict()
  .refine((options) => (options.path === undefined) !== (options.key === undefined), { message: 'give exactly one of path or key' });
export type UrlListOptions = z.infer<typeof UrlListOptionsSchema>;

async function readList(options: UrlListOptions, context: ProviderContext): Promise<string> {
  try {
    if (options.path) return await readFile(resolve(options.path), 'utf8');
    if (!context.store) throw new Error('no store given to read the list from');
    return (await context.store.get(options.key!)).toString('utf8');
  } catch (error) {
    throw new ProviderConfigError('url-list', `cannot read ${options.path ?? options.key}: ${(error as Error).message}`, { cause: error });
  }
}

/** URLs in file order, de-duplicated; lines that are not http(s) URLs become warnings. */
export function parseUrlList(text: string): { urls: string[]; warnings: string[] } {
  const urls: string[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      warnings.push(`line ${index + 1}: not a URL: ${line.slice(0, 200)}`);
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      warnings.push(`line ${index + 1}: only http and https URLs are accepted: ${line.slice(0, 200)}`);
      return;
    }
    if (seen.has(url.href)) return;
    seen.add(url.href);
    urls.push(url.href);
  });
  return { urls, warnings };
}

export const urlList = defineProvider<UrlListOptions>({
  name: 'url-list',
  optionsSchema: UrlListOptionsSchema,
  async search({ query, maxItems }, options, context) {
    const { urls, warnings } = parseUrlList(await readList(options, context));
    const items: SearchItem[] = urls.slice(0, maxItems).map((url) => ({ url }));
    return { provider: 'url-list', query, items, requests: 0, ...(warnings.length ? { warnings } : {}) };
  },
  // The list can change under the same path: its content is part of the saved-results key.
  async fingerprint(options, context) {
    return sha256(Buffer.from(await readList(options, context)));
  },
});
