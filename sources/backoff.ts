/** Exponential backoff with jitter, Retry-After parsing and an abortable sleep, shared by providers and the downloader. */

export interface BackoffOptions {
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Cap on any single delay, including one a server asks for with Retry-After. */
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1-based): base·2^(retry-1), capped, with "equal jitter"
 * (half fixed, half random) so many clients failing together do not retry in lockstep.
 * A server's Retry-After wins when given, still capped.
 */
export function backoffDelay(retry: number, options: BackoffOptions, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), options.maxDelayMs);
  const exponential = Math.min(options.baseDelayMs * 2 ** (retry - 1), options.maxDelayMs);
  return exponential / 2 + Math.random() * (exponential / 2);
}

/** Retry-After is either delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
