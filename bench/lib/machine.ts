/**
 * The machine a figure was measured on: every bench prints this line first, because machines of
 * one kind differ (a training ratio of 1.2 on an AVX-512 host came out at 1.0 on an AVX2 one).
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const SIMD = /^(sse4_1|sse4_2|avx|avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512dq|avx512_vnni|avx512_bf16|avx_vnni|amx_tile|amx_bf16|amx_int8|asimd|sve|sve2)$/;

/** 'AMD EPYC 9B14, 2 logical cores, 23.5 GiB; SIMD: avx avx2 fma avx512f ...' */
export function describeMachine(): string {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    flags = (line?.split(':')[1] ?? '').trim().split(/\s+/).filter((f) => SIMD.test(f));
  } catch {
    flags = ['(no /proc/cpuinfo)'];
  }
  return `${model}, ${cpus().length} logical cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; SIMD: ${flags.join(' ') || 'none listed'}`;
}

/** Prints the machine line (call first thing in every bench). */
export function printMachine(): void {
  console.log(`[machine] ${describeMachine()}`);
}
