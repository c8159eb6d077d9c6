import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RuntimeConfig } from '../../config/runtime';

const ROOT = join(__dirname, '..', '..');

/** The environment variables that hand a runtime configuration to a worker process. */
export function configEnv(config: RuntimeConfig): Record<string, string> {
  const env: Record<string, string> = {
    BLOOMSIGHT_TEMPORAL__ADDRESS: config.temporal.address,
    BLOOMSIGHT_TEMPORAL__NAMESPACE: config.temporal.namespace,
    BLOOMSIGHT_TEMPORAL__TASK_QUEUES__PIPELINE: config.temporal.taskQueues.pipeline,
    BLOOMSIGHT_TEMPORAL__TASK_QUEUES__IO: config.temporal.taskQueues.io,
    BLOOMSIGHT_TEMPORAL__TASK_QUEUES__CPU: config.temporal.taskQueues.cpu,
    BLOOMSIGHT_TEMPORAL__TASK_QUEUES__GPU: config.temporal.taskQueues.gpu,
    BLOOMSIGHT_DOWNLOAD__ALLOW_HOSTS: config.download.allowHosts.join(','),
    BLOOMSIGHT_STORE__KIND: config.store.kind,
  };
  for (const [name, path] of Object.entries(config.folders)) env[`BLOOMSIGHT_FOLDERS__${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`] = path;
  if (config.store.kind === 'fs') env.BLOOMSIGHT_STORE__ROOT = config.store.root;
  else {
    Object.assign(env, {
      BLOOMSIGHT_STORE__ENDPOINT: config.store.endpoint,
      BLOOMSIGHT_STORE__BUCKET: config.store.bucket,
      BLOOMSIGHT_STORE__ACCESS_KEY: config.store.accessKey,
      BLOOMSIGHT_STORE__SECRET_KEY: config.store.secretKey,
    });
  }
  return env;
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker logs that it polls. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `workers/<role>.ts` as a real process configured for the test's services. */
export function startWorkerProcess(role: string, config: RuntimeConfig, extraEnv: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', `${role}.ts`)], {
    cwd: ROOT,
    env: { ...process.env, ...configEnv(config), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('polling ')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`worker ${role} exited (${code}) before polling:\n${output}`)));
  });
  return {
    child,
    output: () => output,
    ready,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts `workers/<role>.ts` as a real process and returns its exit code and output. */
export function runWorkerToExit(role: string, env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', `${role}.ts`)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}
