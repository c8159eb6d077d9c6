import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where builds and downloads are kept between runs on one machine (never in the repo). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BLOOMSIGHT_CACHE ?? join(homedir(), '.cache', 'bloomsight');
}
