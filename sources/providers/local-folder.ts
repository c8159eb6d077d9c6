import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { sha256 } from '../../storage/checksum';
import { ProviderConfigError } from './errors';
import { defineProvider, type SearchItem } from './types';

/**
 * Images already on disk (the offline demo's bundled photos): items are `file:` URLs, which
 * downloadImages reads from disk when the folder is among its `localRoots`. The query is only a
 * label. The folder must be readable by the worker that downloads.
 */
export const LocalFolderOptionsSchema = z
  .object({
    path: z.string().min(1),
    recursive: z.boolean().default(true),
  })
  .strict();
export type LocalFolderOptions = z.infer<typeof LocalFolderOptionsSchema>;

/** Picked by extension for listing only; the downloader still checks the bytes. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif', '.heic', '.heif', '.tif', '.tiff']);

interface ListedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

async function listImages(options: LocalFolderOptions): Promise<ListedFile[]> {
  const root = resolve(options.path);
  const found: ListedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && options.recursive) await walk(path);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
        const info = await stat(path);
        found.push({ path, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
  };
  try {
    await walk(root);
  } catch (error) {
    throw new ProviderConfigError('local-folder', `cannot read folder ${root}: ${(error as Error).message}`, { cause: error });
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export const localFolder = defineProvider<LocalFolderOptions>({
  name: 'local-folder',
  optionsSchema: LocalFolderOptionsSchema,
  async search({ query, maxItems }, options) {
    const files = await listImages(options);
    const items: SearchItem[] = files.slice(0, maxItems).map((file) => ({ url: pathToFileURL(file.path).href, title: basename(file.path) }));
    return { provider: 'local-folder', query, items, requests: 0 };
  },
  // Files added, removed or replaced make a new saved-results key.
  async fingerprint(options) {
    const files = await listImages(options);
    return sha256(Buffer.from(JSON.stringify(files.map((file) => [file.path, file.size, file.mtimeMs]))));
  },
});
