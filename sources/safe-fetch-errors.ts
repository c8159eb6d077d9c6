/** How safeFetch fails: a reason code for every failure, and the error that carries it. Imports nothing. */

export const SAFE_FETCH_REASONS = [
  'timeout', // connect, idle or total deadline passed
  'too-large', // Content-Length or the body itself exceeded maxBytes
  'too-many-redirects', // more than maxRedirects hops
  'redirect-loop', // a redirect led back to a URL already visited
  'blocked-address', // the host is or resolves to a non-public address not on the allow-list, or to a denied service
  'blocked-redirect', // a redirect to another origin from a request that must stay on its origin (it carries a key)
  'http-status', // the final response was not 2xx (status and Retry-After on the error)
  'bad-scheme', // not http/https, or an unusable URL / Location
  'connection', // DNS failure, refused, reset before a response, TLS failure
  'truncated', // the body ended before Content-Length, or the connection dropped mid-body
  'aborted', // the caller's AbortSignal fired
] as const;
export type SafeFetchReason = (typeof SAFE_FETCH_REASONS)[number];

/**
 * Thrown by safeFetch for every failure, with a `reason` code. The message and `url` carry the
 * URL redacted (query values, user info and `data:` payloads removed), so API keys in queries
 * never reach logs or error records.
 */
export class SafeFetchError extends Error {
  override readonly name = 'SafeFetchError';
  /** HTTP status, for 'http-status'. */
  readonly status?: number;
  /** What the server asked for in Retry-After, for 'http-status'. */
  readonly retryAfterMs?: number;
  /** Up to 64 KiB of an error response's body (APIs explain themselves there), for 'http-status'. */
  readonly body?: Buffer;

  constructor(
    readonly reason: SafeFetchReason,
    message: string,
    readonly url: string,
    extra: { status?: number; retryAfterMs?: number; body?: Buffer; cause?: unknown } = {},
  ) {
    super(`${message} (${url})`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.status = extra.status;
    this.retryAfterMs = extra.retryAfterMs;
    this.body = extra.body;
  }

  /** Worth trying again later: timeouts, dropped connections, 408/429 and 5xx. */
  get retryable(): boolean {
    if (this.reason === 'timeout' || this.reason === 'connection' || this.reason === 'truncated') return true;
    if (this.reason !== 'http-status' || this.status === undefined) return false;
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}
