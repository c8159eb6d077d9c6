import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256 } from '../../storage/checksum';
import { FolderAccessError, isInside, resolveInFolders, type ResolvedFolderPath } from '../folders';
import { ProviderConfigError } from './errors';
import { LocalFolderOptionsSchema, type LocalFolderOptions } from './options';
import { defineProvider, type ProviderContext, type SearchItem } from './types';

/**
 * Images already on disk, inside a folder the operator configured (config `folders`): the run
 * names the folder (and optionally a subfolder), or gives an absolute path inside one. Items are
 * `file:` URLs, which downloadImages reads only under its `localRoots`. Symbolic links are
 * followed while they stay inside the folder; one that leaves it is skipped with a warning.
 * The query is only a label.
 */
export { LocalFolderOptionsSchema, type LocalFolderOptions };

/** Picked by extension for listing only; the downloader still checks the bytes. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif', '.heic', '.heif', '.tif', '.tiff']);

interface ListedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The folder a run chose, checked against the configured ones; ProviderConfigError names the option at fault. */
export async function chosenFolder(options: LocalFolderOptions, context: ProviderContext): Promise<ResolvedFolderPath> {
  try {
    const resolved = await resolveInFolders(context.folders ?? {}, options);
    if (!(await stat(resolved.target)).isDirectory()) throw new FolderAccessError('path', 'is not a folder');
    return resolved;
  } catch (error) {
    if (error instanceof FolderAccessError) throw new ProviderConfigError('local-folder', `providerOptions.${error.field}: ${error.message}`);
    throw error;
  }
}

async function listImages(options: LocalFolderOptions, context: ProviderContext): Promise<{ files: ListedFile[]; warnings: string[] }> {
  const { name, root, target } = await chosenFolder(options, context);
  const found: ListedFile[] = [];
  const warnings: string[] = [];
  const visited = new Set<string>([target]);
  const shown = (path: string) => [name, ...relative(root, path).split(sep)].filter(Boolean).join('/');
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      let real = path;
      let kind: 'file' | 'dir' | 'other' = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
      if (entry.isSymbolicLink()) {
        real = await realpath(path).catch(() => '');
        if (!real || !isInside(real, root)) {
          warnings.push(`skipped ${shown(path)}: a symbolic link that leaves folder ${JSON.stringify(name)}`);
          continue;
        }
        const info = await stat(real);
        kind = info.isFile() ? 'file' : info.isDirectory() ? 'dir' : 'other';
      }
      if (kind === 'dir' && options.recursive && !visited.has(real)) {
        visited.add(real);
        await walk(real);
      } else if (kind === 'file' && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
        const info = await stat(real);
        found.push({ path: real, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
  };
  try {
    await walk(target);
  } catch (error) {
    throw new ProviderConfigError('local-folder', `cannot read ${shown(target)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const files = [...new Map(found.map((file) => [file.path, file])).values()];
  return { files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), warnings };
}

export const localFolder = defineProvider<LocalFolderOptions>({
  name: 'local-folder',
  optionsSchema: LocalFolderOptionsSchema,
  async search({ query, maxItems }, options, context) {
    const { files, warnings } = await listImages(options, context);
    const items: SearchItem[] = files.slice(0, maxItems).map((file) => ({ url: pathToFileURL(file.path).href, title: basename(file.path) }));
    return { provider: 'local-folder', query, items, requests: 0, ...(warnings.length ? { warnings } : {}) };
  },
  // Files added, removed or replaced make a new saved-results key.
  async fingerprint(options, context) {
    const { files } = await listImages(options, context);
    return sha256(Buffer.from(JSON.stringify(files.map((file) => [file.path, file.size, file.mtimeMs]))));
  },
});
