import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalServicesInfo } from '../../services/local-services';
import { CliError } from '../context';

export const SERVICES_HELP = `Usage: bloomsight services up|down|status [--dir DIR]

Starts (in the background) or stops a local Temporal dev server and a local S3 server (versitygw),
the same ones the tests use. \`up\` prints the environment variables that point workers and the CLI at them.
DIR defaults to .bloomsight/services (state, logs, the Temporal database and the S3 data).`;

type Info = LocalServicesInfo & { pid: number };

export async function servicesCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const dirFlag = rest.indexOf('--dir');
  const dir = resolve(dirFlag >= 0 ? rest[dirFlag + 1]! : '.bloomsight/services');
  const infoFile = join(dir, 'services.json');
  const current = await readInfo(infoFile);
  const alive = current ? isAlive(current.pid) : false;
  switch (sub) {
    case 'up': {
      if (current && alive) {
        printEnv(current);
        return 0;
      }
      await mkdir(dir, { recursive: true });
      const log = openSync(join(dir, 'supervisor.log'), 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'services', 'supervisor.ts'), dir], { detached: true, stdio: ['ignore', log, log] });
      child.unref();
      for (let i = 0; i < 600; i++) {
        await sleep(200);
        const info = await readInfo(infoFile);
        if (info && info.pid === child.pid) {
          printEnv(info);
          return 0;
        }
        if (child.exitCode !== null) break;
      }
      throw new CliError(`local services did not start; see ${join(dir, 'supervisor.log')}`, 3);
    }
    case 'down':
      if (!current || !alive) {
        console.log('local services are not running');
        return 0;
      }
      process.kill(current.pid, 'SIGTERM');
      for (let i = 0; i < 150 && isAlive(current.pid); i++) await sleep(200);
      console.log('local services stopped');
      return 0;
    case 'status':
      console.log(current && alive ? `running (pid ${current.pid}): Temporal ${current.temporal?.address} (Web UI ${current.temporal?.uiUrl ?? 'off'}), S3 ${current.s3?.endpoint}` : 'not running');
      return current && alive ? 0 : 1;
    default:
      throw new CliError(`unknown services command "${sub ?? ''}"\n${SERVICES_HELP}`, 2);
  }
}

function printEnv(info: Info): void {
  console.log(`# local services (pid ${info.pid}); paste into your shell:`);
  if (info.temporal) console.log(`export BLOOMSIGHT_TEMPORAL__ADDRESS=${info.temporal.address}`);
  if (info.temporal?.uiUrl) console.log(`# Temporal Web UI: ${info.temporal.uiUrl}`);
  if (info.s3) {
    console.log(`export BLOOMSIGHT_STORE__KIND=s3 BLOOMSIGHT_STORE__ENDPOINT=${info.s3.endpoint} BLOOMSIGHT_STORE__BUCKET=${info.s3.bucket}`);
    console.log(`export BLOOMSIGHT_STORE__ACCESS_KEY=${info.s3.accessKey} BLOOMSIGHT_STORE__SECRET_KEY=${info.s3.secretKey}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running supervisor's services.json, or undefined while there is none (or none written whole yet). */
async function readInfo(file: string): Promise<Info | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Info;
  } catch {
    return undefined;
  }
}
