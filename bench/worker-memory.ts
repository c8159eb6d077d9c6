/**
 * Memory of each queue's worker process once it polls: RSS after start, with a local Temporal dev
 * server and the local-disk store. `--repo DIR` runs the workers of another checkout (for a before
 * and after), with this checkout's services.
 *
 *   npx tsx bench/worker-memory.ts [--repo DIR] [--roles io,cpu,gpu,pipeline]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalServices } from '../services/local-services';
import { printMachine } from './lib/machine';

const { values: args } = parseArgs({ options: { repo: { type: 'string' }, roles: { type: 'string', default: 'io,cpu,gpu,pipeline' } } });

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function measure(repo: string, role: string, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'workers', `${role}.ts`)], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    await new Promise<void>((done, fail) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('polling ')) done();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => fail(new Error(`${role} worker exited (${code}) before polling:\n${output}`)));
    });
    await new Promise((done) => setTimeout(done, 2000)); // settle: lazy loads after the first poll
    return rssMb(child.pid!);
  } finally {
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  printMachine();
  const repo = resolve(args.repo ?? join(__dirname, '..'));
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-worker-memory-'));
  const services = await startLocalServices({ dir, temporal: true, s3: false });
  try {
    const env = {
      ...process.env,
      BLOOMSIGHT_TEMPORAL__ADDRESS: services.info.temporal!.address,
      BLOOMSIGHT_STORE__ROOT: join(dir, 'store'),
      TF_CPP_MIN_LOG_LEVEL: '2',
    };
    console.log(`workers of ${repo}`);
    for (const role of args.roles!.split(',')) console.log(`  ${role.padEnd(8)} RSS ${(await measure(repo, role, env)).toFixed(0)} MB once polling`);
  } finally {
    await services.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
