import { sleep } from './backoff';

/** Counts free slots; `acquire` waits (FIFO) until one is free. */
export class Semaphore {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`semaphore needs at least 1 slot, got ${slots}`);
    this.free = slots;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // hand the slot straight over
      else this.free++;
    };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}

/**
 * Politeness per host: at most `concurrency` requests in flight to one host, and optionally at
 * most `requestsPerSecond` started per host (requests are spaced evenly, not burst).
 */
export class HostLimiter {
  private readonly slots = new Map<string, Semaphore>();
  private readonly nextStart = new Map<string, number>();

  constructor(
    private readonly concurrency: number,
    private readonly requestsPerSecond?: number,
  ) {}

  /** Waits for a slot (and the rate limit) for `host`; returns the release function. */
  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    let semaphore = this.slots.get(host);
    if (!semaphore) this.slots.set(host, (semaphore = new Semaphore(this.concurrency)));
    const release = await semaphore.acquire();
    if (this.requestsPerSecond && this.requestsPerSecond > 0) {
      const now = Date.now();
      const start = Math.max(now, this.nextStart.get(host) ?? 0);
      this.nextStart.set(host, start + 1000 / this.requestsPerSecond);
      try {
        if (start > now) await sleep(start - now, signal);
      } catch (error) {
        release();
        throw error;
      }
    }
    return release;
  }
}
