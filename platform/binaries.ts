import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { cacheDir } from './cache';
import { MissingBinaryError } from './errors';

export { MissingBinaryError };

/**
 * Finds a program: an explicit path from the environment wins, then PATH, then the project cache.
 * Returns undefined when none is executable.
 */
export async function findBinary(name: string, envVar: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const explicit = env[envVar];
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new MissingBinaryError(name, `${envVar}=${explicit} is not an executable file`);
  }
  for (const dir of [...(env.PATH ?? '').split(delimiter).filter(Boolean), join(cacheDir(env), 'bin')]) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** ffmpeg and ffprobe come from the system's packages (Debian: apt-get install ffmpeg). */
export async function ffmpegBinaries(env: NodeJS.ProcessEnv = process.env): Promise<{ ffmpeg: string; ffprobe: string }> {
  const ffmpeg = await findBinary('ffmpeg', 'BLOOMSIGHT_FFMPEG', env);
  const ffprobe = await findBinary('ffprobe', 'BLOOMSIGHT_FFPROBE', env);
  if (!ffmpeg || !ffprobe) {
    throw new MissingBinaryError(
      !ffmpeg ? 'ffmpeg' : 'ffprobe',
      'install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or set BLOOMSIGHT_FFMPEG/BLOOMSIGHT_FFPROBE',
    );
  }
  return { ffmpeg, ffprobe };
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
