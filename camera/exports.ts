// Which exports the store holds and which of an export's files may be served.
import { keys, ObjectNotFoundError, type Store } from '../storage';

const EXPORT_METADATA = /^models\/([^/]+)\/export\/metadata\.json$/;
/** One store key segment (storage/key.ts), never '.' or '..'. */
const SAFE_NAME = /^[A-Za-z0-9._=+@-]+$/;

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && name !== '.' && name !== '..';
}

function createdAtOf(body: Buffer): string {
  try {
    const createdAt = (JSON.parse(body.toString('utf8')) as { createdAt?: unknown }).createdAt;
    return typeof createdAt === 'string' ? createdAt : '';
  } catch {
    return '';
  }
}

/** The model id of the newest complete export (by metadata createdAt), or undefined if there is none. */
export async function newestExport(store: Store): Promise<string | undefined> {
  let newest: { modelId: string; createdAt: string } | undefined;
  for (const { key } of await store.list(keys.modelsPrefix)) {
    const modelId = EXPORT_METADATA.exec(key)?.[1];
    if (!modelId) continue;
    const createdAt = createdAtOf(await store.get(key).catch(() => Buffer.from('{}')));
    if (!newest || createdAt > newest.createdAt) newest = { modelId, createdAt };
  }
  return newest?.modelId;
}

/**
 * metadata.json's bytes and the file names it lists (plus itself): the only names served for an
 * export. Undefined when the export has no metadata.json.
 */
export async function exportFileNames(store: Store, modelId: string): Promise<{ metadata: Buffer; names: Set<string> } | undefined> {
  let metadata: Buffer;
  try {
    metadata = await store.get(`${keys.exportDir(modelId)}/metadata.json`);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  const names = new Set(['metadata.json']);
  try {
    const files = (JSON.parse(metadata.toString('utf8')) as { files?: unknown }).files;
    if (Array.isArray(files)) {
      for (const file of files) {
        const name = (file as { name?: unknown })?.name;
        if (typeof name === 'string' && isSafeName(name)) names.add(name);
      }
    }
  } catch {
    // Unparseable metadata is still served, so the page can say what is wrong with it.
  }
  return { metadata, names };
}
