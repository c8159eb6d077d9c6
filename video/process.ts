// Child-process plumbing shared by probe, decode and encode: spawn with a bounded stderr tail,
// SIGKILL on abort, and always wait for the exit so no ffmpeg outlives its caller.
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { FfmpegError } from './errors';

const STDERR_TAIL_BYTES = 4096;

export interface ToolProcess {
  readonly child: ChildProcess;
  /** Resolves on exit (never rejects); `error` is set when the process could not be spawned. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  /** The last few KiB of stderr. */
  stderrTail(): string;
  /** SIGKILL if still running, then wait for the exit. */
  kill(): Promise<void>;
}

/** Starts `binary args`; the abort signal kills it. stdin is a pipe only when `stdin` is true. */
export function startTool(binary: string, args: string[], options: { signal?: AbortSignal; stdin?: boolean } = {}): ToolProcess {
  const child = spawn(binary, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL_BYTES);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const onAbort = () => void kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  void exited.then(() => options.signal?.removeEventListener('abort', onAbort));
  if (options.signal?.aborted) onAbort();
  return { child, exited, stderrTail: () => tail, kill };
}

/** Throws the abort reason when aborted, else FfmpegError when the exit was unsuccessful. */
export function checkExit(tool: ToolProcess, exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error }, signal?: AbortSignal): void {
  signal?.throwIfAborted();
  if (exit.error) throw new FfmpegError(basename(tool.child.spawnfile), null, null, exit.error.message);
  if (exit.code !== 0) throw new FfmpegError(basename(tool.child.spawnfile), exit.code, exit.signal, tool.stderrTail());
}

/** Runs to completion and returns stdout; throws like checkExit. */
export async function runTool(binary: string, args: string[], signal?: AbortSignal): Promise<string> {
  const tool = startTool(binary, args, { signal });
  let stdout = '';
  tool.child.stdout!.setEncoding('utf8');
  tool.child.stdout!.on('data', (text: string) => {
    stdout += text;
  });
  checkExit(tool, await tool.exited, signal);
  return stdout;
}
