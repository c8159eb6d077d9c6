import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Local folders a run may read from: only those the operator configured (config `folders`, a name
 * per folder). A run names a folder and a path inside it, or gives an absolute path that lies
 * inside one; anything else — another absolute path, `..`, a symbolic link that leaves the folder —
 * is refused with the reason. Library code: no Temporal.
 */

/** A run's request for a folder or file, as in the provider options. */
export interface FolderChoice {
  folder?: string;
  path?: string;
}

/** Where a choice led: the folder's name, its real root, and the real path chosen inside it. */
export interface ResolvedFolderPath {
  name: string;
  root: string;
  target: string;
}

/** A choice refused; `field` is the option at fault ('folder' or 'path'). */
export class FolderAccessError extends Error {
  override readonly name = 'FolderAccessError';
  constructor(
    readonly field: 'folder' | 'path',
    message: string,
  ) {
    super(message);
  }
}

/** True when `child` is `parent` or inside it (both absolute and normalised). Lexical: no filesystem access. */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves a choice against the configured folders. The containment check is made first on the
 * path as written (so nothing outside a folder is ever touched, not even to see whether it exists),
 * then again on the real path (so a symbolic link cannot lead out).
 */
export async function resolveInFolders(folders: Readonly<Record<string, string>>, choice: FolderChoice): Promise<ResolvedFolderPath> {
  const names = Object.keys(folders).sort();
  if (names.length === 0) {
    throw new FolderAccessError(
      'folder',
      'this worker has no folders configured; an operator adds one with BLOOMSIGHT_FOLDERS__<NAME>=/path (folders.<name>) and the run names it',
    );
  }
  let name: string;
  let wanted: string;
  if (choice.folder !== undefined) {
    if (!Object.hasOwn(folders, choice.folder)) {
      throw new FolderAccessError('folder', `no folder named ${JSON.stringify(choice.folder)} is configured (configured: ${names.join(', ')})`);
    }
    name = choice.folder;
    const path = choice.path ?? '';
    if (isAbsolute(path)) throw new FolderAccessError('path', 'must be relative to the folder when folder is given');
    wanted = resolve(folders[name]!, path);
    if (!isInside(wanted, resolve(folders[name]!))) throw new FolderAccessError('path', `leaves folder ${JSON.stringify(name)}`);
  } else {
    if (choice.path === undefined || !isAbsolute(choice.path)) throw new FolderAccessError('path', 'must be absolute, or relative with folder given');
    wanted = resolve(choice.path);
    const match = names.find((candidate) => isInside(wanted, resolve(folders[candidate]!)));
    if (match === undefined) {
      throw new FolderAccessError(
        'path',
        `${choice.path} is outside every folder the operator configured (${names.join(', ')}); name one with "folder" and a relative path, or ask the operator to configure this folder`,
      );
    }
    name = match;
  }

  let root: string;
  try {
    root = await realpath(resolve(folders[name]!));
  } catch (error) {
    throw new FolderAccessError('folder', `folder ${JSON.stringify(name)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let target: string;
  try {
    target = await realpath(wanted);
  } catch (error) {
    throw new FolderAccessError('path', `${shown(name, resolve(folders[name]!), wanted)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!isInside(target, root)) {
    throw new FolderAccessError('path', `${shown(name, resolve(folders[name]!), wanted)} leaves folder ${JSON.stringify(name)} through a symbolic link`);
  }
  return { name, root, target };
}

/**
 * Of `roots` (folders recorded by an earlier step), those still inside a configured folder after
 * resolving symbolic links: a record in the store cannot widen what the worker reads.
 */
export async function rootsInsideFolders(roots: readonly string[], folders: Readonly<Record<string, string>>): Promise<string[]> {
  const allowed = (await Promise.all(Object.values(folders).map((folder) => realpath(resolve(folder)).catch(() => undefined)))).filter(
    (root): root is string => root !== undefined,
  );
  const kept: string[] = [];
  for (const root of roots) {
    const real = await realpath(resolve(root)).catch(() => undefined);
    if (real !== undefined && allowed.some((folder) => isInside(real, folder))) kept.push(real);
  }
  return kept;
}

/** A path as the run can know it: the folder's name and the part inside it, never the operator's root. */
function shown(name: string, root: string, path: string): string {
  const rel = relative(root, path);
  return rel === '' ? `folder ${JSON.stringify(name)}` : `${name}/${rel.split(sep).join('/')}`;
}
