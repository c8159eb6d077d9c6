/**
 * Errors of search providers. `retryable` tells the caller (the search activity) whether trying
 * the whole search again later can help. Messages never contain API keys.
 */
export abstract class ProviderError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider}: ${message}`, options);
  }
}

/** Thrown when the provider refuses our credentials (HTTP 401/403, Google's API_KEY_INVALID). Not retryable: fix the configuration. */
export class ProviderAuthError extends ProviderError {
  override readonly name = 'ProviderAuthError';
  readonly retryable = false;
  constructor(
    provider: string,
    readonly status: number,
    apiMessage: string,
  ) {
    super(provider, `credentials refused (HTTP ${status})${apiMessage ? `: ${apiMessage}` : ''}`);
  }
}

/** Thrown when the provider rejects the request itself (other 4xx: a bad parameter, a page beyond its limit), or a redirect/size rule refused the response. Not retryable. */
export class ProviderRequestError extends ProviderError {
  override readonly name = 'ProviderRequestError';
  readonly retryable = false;
  constructor(
    provider: string,
    message: string,
    readonly status?: number,
    readonly apiMessage?: string,
  ) {
    super(provider, message);
  }
}

/** Thrown when the provider kept failing (429, 5xx, timeouts, dropped connections) through the bounded retries, or asked us to wait longer than we will. Retryable later. */
export class ProviderUnavailableError extends ProviderError {
  override readonly name = 'ProviderUnavailableError';
  readonly retryable = true;
  constructor(
    provider: string,
    message: string,
    /** The server's Retry-After, when it gave one. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(provider, message, options);
  }
}

/** Thrown when a response is not the JSON the provider documents. Not retryable. */
export class ProviderResponseError extends ProviderError {
  override readonly name = 'ProviderResponseError';
  readonly retryable = false;
}

/** Thrown for an unknown provider, invalid options, a missing secret (Google key or cx), or an unreadable list/folder. Not retryable. */
export class ProviderConfigError extends ProviderError {
  override readonly name = 'ProviderConfigError';
  readonly retryable = false;
}
