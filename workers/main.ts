/**
 * Worker process entry: `tsx workers/main.ts [pipeline|io|cpu|gpu|all ...]` (default all).
 * The per-queue entries (io.ts, cpu.ts, gpu.ts, pipeline.ts, all.ts) call the same code.
 */
import { ConfigError } from '../config/load';
import { EXIT, parseRoles, runWorkerProcess } from './run';

export function main(args: string[]): void {
  let roles;
  try {
    roles = parseRoles(args);
  } catch (error) {
    console.error(`bloomsight worker: ${(error as ConfigError).message}`);
    process.exit(EXIT.badConfig);
  }
  runWorkerProcess(roles).then((code) => process.exit(code));
}

if (require.main === module) main(process.argv.slice(2));
