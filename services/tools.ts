/**
 * Command-line tools the tests use besides the services, provisioned into the cache like the service
 * binaries: check-jsonschema (a maintained JSON-schema validator that ships the Compose specification's
 * schema as `vendor.compose-spec`) checks docker-compose.yml, since no Docker engine runs here.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../platform';
import { MissingBinaryError } from './errors';

const run = promisify(execFile);

export const CHECK_JSONSCHEMA = 'check-jsonschema==0.39.0';

export interface PythonTool {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** check-jsonschema, installed once with pip into its own folder of the cache (no virtualenv needed). */
export async function checkJsonschema(env: NodeJS.ProcessEnv = process.env): Promise<PythonTool> {
  const target = join(cacheDir(env), 'python', CHECK_JSONSCHEMA.replace('==', '-'));
  const tool = { command: 'python3', args: ['-m', 'check_jsonschema'], env: { ...env, PYTHONPATH: target } };
  if (await exists(join(target, 'check_jsonschema'))) return tool;
  const scratch = `${target}.${process.pid}.part`;
  try {
    await mkdir(scratch, { recursive: true });
    await run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--target', scratch, CHECK_JSONSCHEMA], { maxBuffer: 1 << 24, timeout: 10 * 60_000 });
    await rm(target, { recursive: true, force: true });
    await rename(scratch, target);
    return tool;
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw new MissingBinaryError('check-jsonschema', `\`pip install ${CHECK_JSONSCHEMA}\` failed (${(error as Error).message.split('\n')[0]})`, error);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
