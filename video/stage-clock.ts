/** Wall milliseconds spent per named stage, on one thread. */
export type StageTimes = Record<string, number>;

/** Adds up the time spent in each stage of a loop (for benches and the render's breakdown). */
export class StageClock {
  readonly times: StageTimes = {};

  add(stage: string, ms: number): void {
    this.times[stage] = (this.times[stage] ?? 0) + ms;
  }

  async time<T>(stage: string, run: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  timeSync<T>(stage: string, run: () => T): T {
    const t0 = performance.now();
    try {
      return run();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }
}
