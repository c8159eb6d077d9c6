/**
 * Local folders: a run reads only under the folders the operator configured. Real files and
 * symbolic links in a temporary directory.
 */
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadImages } from '../sources/download';
import { resolveInFolders, rootsInsideFolders } from '../sources/folders';
import { parseProviderOptions, ProviderConfigError, runSearch } from '../sources/providers';
import { FsStore } from '../storage/fs-store';
import { PHOTOS_DIR } from './helpers/http-fixtures';

describe('local folders a run may read', () => {
  let base: string;
  let photos: string;
  let outside: string;
  let folders: Record<string, string>;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'bloomsight-folders-'));
    photos = join(base, 'photos');
    outside = join(base, 'private');
    await mkdir(join(photos, 'roses'), { recursive: true });
    await mkdir(outside);
    await copyFile(join(PHOTOS_DIR, 'calla.jpg'), join(photos, 'calla.jpg'));
    await copyFile(join(PHOTOS_DIR, 'garden.jpg'), join(photos, 'roses', 'garden.jpg'));
    await copyFile(join(PHOTOS_DIR, 'raindrops.jpg'), join(outside, 'secret.jpg'));
    await writeFile(join(outside, 'urls.txt'), 'https://private.example/1.jpg\n');
    // Links that stay inside the folder are followed; links that leave it are not.
    await symlink(join(photos, 'roses'), join(photos, 'roses-again'));
    await symlink(outside, join(photos, 'escape'));
    await symlink(join(outside, 'secret.jpg'), join(photos, 'leak.jpg'));
    // The configured folder may itself be reached through a link.
    await symlink(photos, join(base, 'photos-link'));
    folders = { photos: join(base, 'photos-link') };
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const search = (options: object, context: object = { folders }) => runSearch('local-folder', { query: 'x', maxItems: 100, options }, context);
  const refusal = (options: object, context?: object) => search(options, context).then(() => 'accepted', (e: Error) => e.message);

  it('lists a configured folder by name, a subfolder inside it, or an absolute path inside it', async () => {
    const all = await search({ folder: 'photos' });
    expect(all.items.map((item) => item.title).sort()).toEqual(['calla.jpg', 'garden.jpg']);
    expect((await search({ folder: 'photos', path: 'roses' })).items.map((item) => item.title)).toEqual(['garden.jpg']);
    expect((await search({ path: join(base, 'photos-link', 'roses') })).items).toHaveLength(1);
  });

  it('skips symbolic links that leave the folder, saying so, and never lists what they point at', async () => {
    const result = await search({ folder: 'photos' });
    expect(result.items.some((item) => item.url.includes('secret'))).toBe(false);
    expect(result.warnings).toEqual([
      'skipped photos/escape: a symbolic link that leaves folder "photos"',
      'skipped photos/leak.jpg: a symbolic link that leaves folder "photos"',
    ]);
  });

  it('refuses, with the reason, absolute paths elsewhere, `..`, links out, and names not configured', async () => {
    expect(await refusal({ path: outside })).toBe(
      `local-folder: providerOptions.path: ${outside} is outside every folder the operator configured (photos); name one with "folder" and a relative path, or ask the operator to configure this folder`,
    );
    // Not even looked at: a path outside that does not exist gets the same answer, not "no such file".
    expect(await refusal({ path: join(outside, 'nope') })).toContain('is outside every folder the operator configured');
    expect(await refusal({ folder: 'photos', path: '../private' })).toContain("providerOptions.path: may not contain '..'");
    expect(await refusal({ folder: 'photos', path: 'roses/../../private' })).toContain("providerOptions.path: may not contain '..'");
    expect(await refusal({ folder: 'photos', path: 'escape' })).toBe('local-folder: providerOptions.path: photos/escape leaves folder "photos" through a symbolic link');
    expect(await refusal({ folder: 'photos', path: join(base, 'photos') })).toContain('providerOptions.path: must be relative to the folder when folder is given');
    expect(await refusal({ folder: 'home' })).toBe('local-folder: providerOptions.folder: no folder named "home" is configured (configured: photos)');
    expect(await refusal({ folder: 'photos' }, {})).toContain('providerOptions.folder: this worker has no folders configured');
    expect(await refusal({ path: 'photos' })).toContain('providerOptions.path: must be absolute, or relative with folder given');
    await expect(search({ path: outside })).rejects.toBeInstanceOf(ProviderConfigError);
  });

  it('url-list files follow the same rules', async () => {
    const list = (options: object) =>
      runSearch('url-list', { query: 'x', maxItems: 10, options }, { folders }).then(
        () => 'accepted',
        (e: Error) => e.message,
      );
    expect(await list({ path: join(outside, 'urls.txt') })).toContain('providerOptions.path: ' + join(outside, 'urls.txt') + ' is outside every folder');
    expect(await list({ folder: 'photos', path: 'escape/urls.txt' })).toContain('leaves folder "photos" through a symbolic link');
    expect(() => parseProviderOptions('url-list', { folder: 'photos' })).toThrow(/give exactly one of urls, key or path/);
  });

  it('the resolver checks the written path before touching the filesystem, then the real one', async () => {
    await expect(resolveInFolders(folders, { folder: 'photos', path: 'roses-again' })).resolves.toMatchObject({ name: 'photos', target: join(photos, 'roses') });
    await expect(resolveInFolders(folders, { folder: 'photos', path: '../private' })).rejects.toMatchObject({ field: 'path', message: 'leaves folder "photos"' });
  });

  it('the downloader reads file: URLs only under the roots still inside a configured folder', async () => {
    // A root recorded in the store (an earlier step, or an old run) cannot widen what is read.
    expect(await rootsInsideFolders([join(photos, 'roses'), outside, '/etc'], folders)).toEqual([join(photos, 'roses')]);
    const root = await mkdtemp(join(tmpdir(), 'bloomsight-folders-store-'));
    try {
      const localRoots = await rootsInsideFolders([photos], folders);
      const urls = [join(photos, 'calla.jpg'), join(photos, 'leak.jpg'), join(outside, 'secret.jpg')].map((path) => pathToFileURL(path).href);
      const result = await downloadImages(new FsStore(root), urls, { localRoots });
      expect(result.downloaded.map((d) => d.url)).toEqual([urls[0]]);
      expect(result.failures.map((f) => [f.reason, f.detail.includes('outside the allowed folders')])).toEqual([
        ['blocked-path', true],
        ['blocked-path', true],
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
