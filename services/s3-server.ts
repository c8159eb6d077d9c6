import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { minioBinary, versitygwBinary } from './binaries';
import { freePort, startProcess, waitUntilHealthy, type RunningProcess } from './process';

export interface S3Server {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * Starts versitygw: a real S3 API over a local folder, with signature auth enforced.
 * Metadata goes to a sidecar folder so the data filesystem needs no user xattrs.
 * Credentials are generated per start unless given (tests must not depend on fixed keys).
 */
export async function startS3Server(options: { dir: string; port?: number; accessKey?: string; secretKey?: string; timeoutMs?: number }): Promise<S3Server> {
  const binary = await versitygwBinary();
  const data = join(options.dir, 'data');
  const sidecar = join(options.dir, 'meta');
  await mkdir(data, { recursive: true });
  await mkdir(sidecar, { recursive: true });
  const port = options.port ?? (await freePort());
  const accessKey = options.accessKey ?? `bs${randomBytes(8).toString('hex')}`;
  const secretKey = options.secretKey ?? randomBytes(24).toString('base64url');
  const region = 'us-east-1';
  const env = { ...process.env, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey, VGW_REGION: region };
  const args = ['--port', `127.0.0.1:${port}`, '--health', '/health', '--quiet', 'posix', '--sidecar', sidecar, data];
  const server = startProcess('S3 server (versitygw)', binary, args, { env, logFile: join(options.dir, 'versitygw.log') });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilHealthy(server, async () => (await fetch(`${endpoint}/health`)).ok, options.timeoutMs ?? 30_000);
  return { endpoint, accessKey, secretKey, region, process: server, stop: () => server.stop() };
}

/**
 * Starts MinIO's server, the store the design names for production, on a folder. The console is off
 * (nothing here uses it). Credentials are generated per start unless given; MinIO wants a secret of 8+ characters.
 */
export async function startMinioServer(options: { dir: string; port?: number; accessKey?: string; secretKey?: string; timeoutMs?: number }): Promise<S3Server> {
  const binary = await minioBinary();
  const data = join(options.dir, 'data');
  await mkdir(data, { recursive: true });
  const port = options.port ?? (await freePort());
  const accessKey = options.accessKey ?? `bs${randomBytes(8).toString('hex')}`;
  const secretKey = options.secretKey ?? randomBytes(24).toString('base64url');
  const region = 'us-east-1';
  const env = {
    ...process.env,
    MINIO_ROOT_USER: accessKey,
    MINIO_ROOT_PASSWORD: secretKey,
    MINIO_REGION: region,
    MINIO_BROWSER: 'off',
    // No phoning home and no update checks on machines without internet.
    MINIO_UPDATE: 'off',
    MINIO_CALLHOME_ENABLE: 'off',
  };
  const args = ['server', data, '--address', `127.0.0.1:${port}`, '--quiet', '--anonymous'];
  const server = startProcess('S3 server (MinIO)', binary, args, { env, logFile: join(options.dir, 'minio.log') });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilHealthy(server, async () => (await fetch(`${endpoint}/minio/health/ready`)).ok, options.timeoutMs ?? 60_000);
  return { endpoint, accessKey, secretKey, region, process: server, stop: () => server.stop() };
}
