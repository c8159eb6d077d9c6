import { open } from 'node:fs/promises';
import { RUN_LIMITS } from '../../config/limits';
import { sha256 } from '../../storage/checksum';
import { FolderAccessError, resolveInFolders } from '../folders';
import { redactUrl } from '../redact';
import { ProviderConfigError } from './errors';
import { UrlListOptionsSchema, type UrlListOptions } from './options';
import { defineProvider, type ProviderContext, type SearchItem } from './types';

/**
 * A list of image URLs, one per line; blank lines and lines starting with `#` are skipped. Given
 * inline (`urls`), as a store key, or as a file inside a folder the operator configured (`folder`
 * + `path`, or an absolute `path` inside one). The query is only a label here. A list holds at
 * most RUN_LIMITS.listBytes bytes and RUN_LIMITS.listUrls distinct URLs.
 */
export { UrlListOptionsSchema, type UrlListOptions };

/** Warnings kept per list; the rest are counted. */
const MAX_WARNINGS = 100;

async function readList(options: UrlListOptions, context: ProviderContext): Promise<string> {
  if (options.urls) return options.urls.join('\n');
  if (options.key !== undefined) return readFromStore(options.key, context);
  let target: string;
  try {
    target = (await resolveInFolders(context.folders ?? {}, options)).target;
  } catch (error) {
    if (error instanceof FolderAccessError) throw new ProviderConfigError('url-list', `providerOptions.${error.field}: ${error.message}`);
    throw error;
  }
  return readFileCapped(target);
}

async function readFromStore(key: string, context: ProviderContext): Promise<string> {
  if (!context.store) throw new ProviderConfigError('url-list', 'no store given to read the list from');
  let bytes: Buffer;
  try {
    const info = await context.store.stat(key);
    if (!info) throw new Error('no such object');
    if (info.size > RUN_LIMITS.listBytes) throw tooLarge(info.size);
    bytes = await context.store.get(key);
  } catch (error) {
    if (error instanceof ProviderConfigError) throw error;
    throw new ProviderConfigError('url-list', `providerOptions.key: cannot read ${key}: ${(error as Error).message}`, { cause: error });
  }
  return bytes.toString('utf8');
}

async function readFileCapped(path: string): Promise<string> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new ProviderConfigError('url-list', `providerOptions.path: cannot read the list: ${error.code ?? error.message}`, { cause: error });
  });
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new ProviderConfigError('url-list', 'providerOptions.path: not a regular file');
    if (info.size > RUN_LIMITS.listBytes) throw tooLarge(info.size);
    return (await file.readFile()).toString('utf8');
  } finally {
    await file.close();
  }
}

function tooLarge(size: number): ProviderConfigError {
  return new ProviderConfigError('url-list', `the list has ${size} bytes; at most ${RUN_LIMITS.listBytes} are accepted (split it over several runs)`);
}

/** URLs in file order, de-duplicated; lines that are not http(s) URLs become warnings (redacted, at most 100). */
export function parseUrlList(text: string): { urls: string[]; warnings: string[] } {
  const urls: string[] = [];
  const warnings: string[] = [];
  let unreported = 0;
  const warn = (message: string) => (warnings.length < MAX_WARNINGS ? warnings.push(message) : unreported++);
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.length > RUN_LIMITS.urlChars) {
      warn(`line ${index + 1}: longer than ${RUN_LIMITS.urlChars} characters: ${redactUrl(line)}`);
      return;
    }
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      warn(`line ${index + 1}: not a URL: ${redactUrl(line)}`);
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      warn(`line ${index + 1}: only http and https URLs are accepted: ${redactUrl(line)}`);
      return;
    }
    if (seen.has(url.href)) return;
    seen.add(url.href);
    urls.push(url.href);
  });
  if (unreported > 0) warnings.push(`${unreported} more lines skipped`);
  return { urls, warnings };
}

export const urlList = defineProvider<UrlListOptions>({
  name: 'url-list',
  optionsSchema: UrlListOptionsSchema,
  async search({ query, maxItems }, options, context) {
    const { urls, warnings } = parseUrlList(await readList(options, context));
    if (urls.length > RUN_LIMITS.listUrls) {
      throw new ProviderConfigError('url-list', `the list holds ${urls.length} distinct URLs; at most ${RUN_LIMITS.listUrls} are accepted (split it over several runs)`);
    }
    const items: SearchItem[] = urls.slice(0, maxItems).map((url) => ({ url }));
    return { provider: 'url-list', query, items, requests: 0, ...(warnings.length ? { warnings } : {}) };
  },
  // The list can change under the same path: its content is part of the saved-results key.
  async fingerprint(options, context) {
    return sha256(Buffer.from(await readList(options, context)));
  },
});
