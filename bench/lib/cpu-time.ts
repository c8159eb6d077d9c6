import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ; 100 on every Linux this runs on). */
const USER_HZ = 100;

export interface CpuTime {
  /** ms of CPU used by this process's threads (main, workers, libtensorflow's pool). */
  self: number;
  /** ms of CPU used by child processes that have exited and been reaped (ffmpeg); undefined off Linux. */
  children?: number;
}

/** CPU used so far; subtract two readings to get a stage's CPU. */
export function cpuTime(): CpuTime {
  const { user, system } = process.cpuUsage();
  return { self: (user + system) / 1000, children: childrenCpu() };
}

export function cpuSince(start: CpuTime): CpuTime {
  const now = cpuTime();
  return { self: now.self - start.self, children: now.children !== undefined && start.children !== undefined ? now.children - start.children : undefined };
}

function childrenCpu(): number | undefined {
  try {
    // Fields after the command name: state is field 3; cutime and cstime are fields 16 and 17.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}
