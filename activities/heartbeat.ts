import { Context } from '@temporalio/activity';

/**
 * Heartbeats at most every `everyMs` (Temporal throttles too, but building details costs time in
 * hot loops), and exposes the activity's cancellation signal for library code.
 */
export function heartbeater(everyMs = 1000) {
  const context = Context.current();
  let last = 0;
  return {
    signal: context.cancellationSignal,
    beat(details?: unknown, force = false) {
      const now = Date.now();
      if (!force && now - last < everyMs) return;
      last = now;
      context.heartbeat(details);
    },
    /** Heartbeats every `everyMs` (at least every second) while `work` runs: for waits on a child process, where no loop reports progress. */
    async during<T>(work: Promise<T>, details?: unknown): Promise<T> {
      const timer = setInterval(() => this.beat(details, true), Math.max(1000, everyMs));
      try {
        return await work;
      } finally {
        clearInterval(timer);
      }
    },
    /** What the previous attempt last reported (undefined on a first attempt or after a reset). */
    previous<T>(): T | undefined {
      return context.info.heartbeatDetails as T | undefined;
    },
  };
}
