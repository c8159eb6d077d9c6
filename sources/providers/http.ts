import { backoffDelay, sleep } from '../backoff';
import { redactText } from '../redact';
import { safeFetch, SafeFetchError } from '../safe-fetch';
import { ProviderAuthError, ProviderRequestError, ProviderResponseError, ProviderUnavailableError } from './errors';
import type { ProviderContext } from './types';

export interface JsonClientPolicy {
  /** Spacing between requests when the context does not say. */
  requestIntervalMs?: number;
  /** Strings to scrub from anything that could reach an error message (API keys). */
  secrets?: ReadonlyArray<string | undefined>;
  /** Extra auth-failure detection beyond 401/403 (Google answers a bad key with 400). */
  isAuthFailure?: (status: number, body: unknown) => boolean;
  /** Refuse redirects to another origin: the request carries a key meant for this endpoint only. */
  sameOriginRedirectsOnly?: boolean;
}

/**
 * GETs JSON for one search: paced, retried with backoff on 429/5xx/timeouts (honouring
 * Retry-After), and counting every HTTP request made. The endpoint comes from worker
 * configuration, so it is trusted even on loopback or a private network (self-hosted mirrors,
 * tests) — for searches only; redirects away from it get the usual address checks, and the
 * deployment's own services (denyHosts) are never reached.
 */
export class JsonClient {
  requests = 0;
  private lastStart = 0;

  constructor(
    private readonly provider: string,
    private readonly context: ProviderContext,
    private readonly policy: JsonClientPolicy = {},
  ) {}

  async get(url: URL): Promise<unknown> {
    const http = this.context.http ?? {};
    const attempts = http.attempts ?? 4;
    const backoff = { baseDelayMs: http.baseDelayMs ?? 1000, maxDelayMs: http.maxDelayMs ?? 60_000 };
    for (let attempt = 1; ; attempt++) {
      await this.pace(http.requestIntervalMs ?? this.policy.requestIntervalMs ?? 0);
      this.requests++;
      try {
        const response = await safeFetch(url, {
          allowHosts: [url.host],
          denyHosts: this.context.denyHosts,
          sameOriginRedirectsOnly: this.policy.sameOriginRedirectsOnly,
          totalTimeoutMs: http.timeoutMs ?? 30_000,
          connectTimeoutMs: http.connectTimeoutMs,
          idleTimeoutMs: http.idleTimeoutMs,
          maxBytes: http.maxBytes ?? 16 * 1024 * 1024,
          userAgent: http.userAgent,
          headers: { accept: 'application/json' },
          signal: this.context.signal,
        });
        return this.parse(response.body);
      } catch (error) {
        if (!(error instanceof SafeFetchError)) throw error;
        if (error.reason === 'aborted') throw this.context.signal?.reason ?? error;
        const failure = this.classify(error);
        if (failure) throw failure;
        const wait = backoffDelay(attempt, backoff, error.retryAfterMs);
        if (attempt >= attempts || (error.retryAfterMs ?? 0) > backoff.maxDelayMs) {
          const retryAfter = error.retryAfterMs === undefined ? '' : ` (server asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s)`;
          throw new ProviderUnavailableError(this.provider, `${this.describe(error)} after ${attempt} attempt(s)${retryAfter}`, error.retryAfterMs, {
            cause: error,
          });
        }
        await sleep(wait, this.context.signal);
      }
    }
  }

  /** Scrubs secrets, query values and `data:` payloads out of text that came from the server or the URL. */
  redact(text: string): string {
    return redactText(text, this.policy.secrets);
  }

  /** The non-retryable error for this failure, or undefined when it is worth retrying. */
  private classify(error: SafeFetchError): Error | undefined {
    if (error.retryable) return undefined;
    if (error.reason !== 'http-status' || error.status === undefined) {
      return new ProviderRequestError(this.provider, this.describe(error));
    }
    const body = parseQuietly(error.body);
    const apiMessage = this.redact(apiMessageOf(body, error.body));
    if (error.status === 401 || error.status === 403 || this.policy.isAuthFailure?.(error.status, body)) {
      return new ProviderAuthError(this.provider, error.status, apiMessage);
    }
    return new ProviderRequestError(this.provider, `HTTP ${error.status}${apiMessage ? `: ${apiMessage}` : ''}`, error.status, apiMessage);
  }

  private describe(error: SafeFetchError): string {
    const apiMessage = error.reason === 'http-status' ? apiMessageOf(parseQuietly(error.body), error.body) : '';
    return this.redact(`${error.reason}: ${error.message}${apiMessage ? ` — ${apiMessage}` : ''}`);
  }

  private parse(body: Buffer): unknown {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new ProviderResponseError(this.provider, `response is not JSON (${(error as Error).message})`);
    }
  }

  private async pace(intervalMs: number): Promise<void> {
    const wait = this.lastStart + intervalMs - Date.now();
    if (this.lastStart > 0 && wait > 0) await sleep(wait, this.context.signal);
    this.lastStart = Date.now();
  }
}

function parseQuietly(body: Buffer | undefined): unknown {
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The explanation an API put in its error body (Google: error.message, Openverse: detail), else a short text excerpt. */
function apiMessageOf(json: unknown, raw: Buffer | undefined): string {
  const record = json as { error?: { message?: unknown; info?: unknown } | string; detail?: unknown; message?: unknown } | undefined;
  const candidate =
    (typeof record?.error === 'object' ? (record.error.message ?? record.error.info) : record?.error) ?? record?.detail ?? record?.message;
  if (candidate !== undefined) return (typeof candidate === 'string' ? candidate : JSON.stringify(candidate)).slice(0, 300);
  return raw ? raw.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200) : '';
}
