/**
 * The processes of a chaos run, each its own OS process so that SIGKILL means what it means in
 * production: the Temporal dev server (SQLite on disk), the S3 server (versitygw, behind the
 * recording proxy), and one worker per queue. Any of them can be killed with SIGKILL and started
 * again on the same port, data and credentials, as a supervisor (systemd, Kubernetes) would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../../config/load';
import type { RuntimeConfig } from '../../../config/runtime';
import { freePort } from '../../../services/process';
import { startS3Server, type S3Server } from '../../../services/s3-server';
import { startTemporalDevServer, type TemporalDevServer } from '../../../services/temporal-server';
import { S3Store } from '../../../storage';
import { configEnv } from '../worker-process';
import { S3Proxy } from './s3-proxy';

export const WORKER_KINDS = ['pipeline', 'io', 'cpu', 'gpu'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];
export const PROCESS_KINDS = ['temporal', 's3', ...WORKER_KINDS] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];

const ROOT = resolve(__dirname, '..', '..', '..');

interface WorkerHandle {
  child: ChildProcess;
  exited: Promise<void>;
}

export class Cluster {
  temporal!: TemporalDevServer;
  s3!: S3Server;
  proxy!: S3Proxy;
  private temporalPort = 0;
  private s3Port = 0;
  private readonly workers = new Map<WorkerKind, WorkerHandle>();
  private workerConfig: RuntimeConfig | undefined;
  private workerEnv: Record<string, string> = {};
  private starts = 0;

  constructor(
    readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    await mkdir(join(this.dir, 'logs'), { recursive: true });
    this.temporalPort = await freePort();
    this.s3Port = await freePort();
    [this.temporal, this.s3] = await Promise.all([
      startTemporalDevServer({ dir: join(this.dir, 'temporal'), port: this.temporalPort }),
      startS3Server({ dir: join(this.dir, 's3'), port: this.s3Port }),
    ]);
    this.proxy = new S3Proxy({ host: '127.0.0.1', port: this.s3Port });
    await this.proxy.listen();
  }

  /** A store on `bucket` reached directly (not through the proxy): what the checks read with. */
  directStore(bucket: string): S3Store {
    return new S3Store({ endpoint: this.s3.endpoint, accessKey: this.s3.accessKey, secretKey: this.s3.secretKey, region: this.s3.region, bucket });
  }

  /** Runtime configuration of the workers: the store through the proxy, queues named after `label`. */
  config(bucket: string, label: string, allowHosts: string[]): RuntimeConfig {
    return parseConfig({
      temporal: { address: this.temporal.address, taskQueues: { pipeline: `${label}`, io: `${label}-io`, cpu: `${label}-cpu`, gpu: `${label}-gpu` } },
      store: { kind: 's3', endpoint: this.proxy.endpoint, accessKey: this.s3.accessKey, secretKey: this.s3.secretKey, region: this.s3.region, bucket },
      download: { allowHosts },
    });
  }

  /** Starts one worker process per queue for `config`; resolves when all poll. */
  async startWorkers(config: RuntimeConfig, extraEnv: Record<string, string> = {}): Promise<void> {
    this.workerConfig = config;
    this.workerEnv = extraEnv;
    await Promise.all(WORKER_KINDS.map((kind) => this.startWorker(kind)));
  }

  /** Stops the workers gracefully (SIGTERM), e.g. between the reference run and the chaos run. */
  async stopWorkers(): Promise<void> {
    await Promise.all(
      [...this.workers.values()].map(async ({ child, exited }) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await Promise.race([exited, sleep(40_000).then(() => child.kill('SIGKILL'))]);
      }),
    );
    this.workers.clear();
  }

  pid(kind: ProcessKind): number | undefined {
    if (kind === 'temporal') return this.temporal.process.pid;
    if (kind === 's3') return this.s3.process.pid;
    return this.workers.get(kind)?.child.pid;
  }

  /** SIGKILL, and wait until the process is gone. Returns its pid. */
  async kill(kind: ProcessKind): Promise<number> {
    const child = kind === 'temporal' ? this.temporal.process.child : kind === 's3' ? this.s3.process.child : this.workers.get(kind)?.child;
    if (!child?.pid) throw new Error(`no ${kind} process to kill`);
    const gone = new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())));
    child.kill('SIGKILL');
    await gone;
    return child.pid;
  }

  /** Starts the process again on the same port, data and credentials; retries until it is up. */
  async restart(kind: ProcessKind): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (kind === 'temporal') this.temporal = await startTemporalDevServer({ dir: join(this.dir, 'temporal'), port: this.temporalPort });
        else if (kind === 's3') this.s3 = await startS3Server({ dir: join(this.dir, 's3'), port: this.s3Port, accessKey: this.s3.accessKey, secretKey: this.s3.secretKey });
        else await this.startWorker(kind);
        return;
      } catch (error) {
        // A worker exits at start while the store or Temporal is away (exit 3): a supervisor tries again.
        if (attempt >= 20) throw error;
        this.log(`restart of ${kind} failed (${(error as Error).message.split('\n')[0]}); again in 1 s`);
        await sleep(1000);
      }
    }
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    await this.proxy?.close();
    await Promise.all([this.temporal?.stop(), this.s3?.stop()]);
  }

  private async startWorker(kind: WorkerKind): Promise<void> {
    if (!this.workerConfig) throw new Error('startWorkers first');
    const logFile = join(this.dir, 'logs', `${kind}-${++this.starts}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', `${kind}.ts`)], {
      cwd: ROOT,
      env: { ...process.env, ...configEnv(this.workerConfig), ...this.workerEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    this.workers.set(kind, { child, exited });
    let output = '';
    await new Promise<void>((ready, fail) => {
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        if (output.length < 100_000) output += chunk.toString();
        if (output.includes('polling ')) ready();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then(() => fail(new Error(`${kind} worker exited (${child.exitCode ?? child.signalCode}) before polling: ${output.trim().split('\n').slice(-2).join(' | ')} (log ${logFile})`)));
    });
  }
}
