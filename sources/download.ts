import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { readFile, realpath, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../storage/checksum';
import { keys } from '../storage/keys';
import type { Store } from '../storage/store';
import { AllowList, DenyList } from './allow-list';
import { backoffDelay, sleep } from './backoff';
import { IMAGE_REJECTIONS, ImageRejectedError, readImageHeader, verifyDecodes } from './image-check';
import { HostLimiter, Semaphore } from './limiter';
import { redactUrl } from './redact';
import { SAFE_FETCH_REASONS, safeFetch, SafeFetchError, type ResolveHost } from './safe-fetch';
import { EXTENSION, type ImageFormat } from './sniff';
import { DOWNLOAD_FAILURE_REASONS, UrlOutcomeSchema, type DownloadedImage, type DownloadFailure, type DownloadFailureReason, type DuplicateImage, type UrlOutcome } from './download-outcomes';

export { DOWNLOAD_FAILURE_REASONS, UrlOutcomeSchema, type DownloadedImage, type DownloadFailure, type DownloadFailureReason, type DuplicateImage, type UrlOutcome };

/**
 * Downloads image URLs (and `file:` URLs from the local-folder provider) into the store, each
 * checked the same way: magic-byte sniffing, a header-only pixel-count check against
 * decompression bombs, a full decode, then content-addressed storage (`images/raw/<sha256>.<ext>`)
 * so every distinct image is stored exactly once. Per-URL problems never throw: they are recorded
 * as failures with a reason. Each URL has a time budget across all its attempts, and a server
 * that stops sending is let go after the idle timeout. Library code: knows nothing of Temporal.
 */

export interface DownloadResult {
  downloaded: DownloadedImage[];
  duplicates: DuplicateImage[];
  failures: DownloadFailure[];
  /** How many outcomes were taken from `known` instead of being fetched again. */
  reused: number;
}

export interface DownloadOptions {
  /** Requests in flight overall. Default 8. */
  concurrency?: number;
  /** Requests in flight to one host. Default 4. */
  perHostConcurrency?: number;
  /** Requests started per second per host. Default unlimited. */
  perHostRequestsPerSecond?: number;
  /** Image decodes at once (CPU-bound). Default: the number of CPUs. */
  decodeConcurrency?: number;
  connectTimeoutMs?: number; // default 10 s
  totalTimeoutMs?: number; // per attempt, redirects included; default 60 s
  /** No bytes for this long once connected ends the attempt. Default 15 s. */
  idleTimeoutMs?: number;
  /** One URL's time across all its attempts and the waits between them, from its first attempt. Default 90 s. */
  urlBudgetMs?: number;
  /** Largest accepted file. Default 25 MiB. */
  maxBytes?: number;
  /** Largest accepted width×height, judged from the header before decoding. Default 50 M. */
  maxPixels?: number;
  maxRedirects?: number; // default 5
  /** Retries after the first attempt, for retryable reasons only. Default 3. */
  retries?: number;
  retryBaseDelayMs?: number; // default 1 s, doubling
  retryMaxDelayMs?: number; // default 30 s, also caps Retry-After
  /** `host` / `host:port` image URLs may name although non-public (config `download.allowHosts`); not through redirects from elsewhere. */
  allowHosts?: readonly string[];
  /** `host` / `host:port` never fetched, whatever the URL or a redirect says: the store's endpoint, Temporal. */
  denyHosts?: readonly string[];
  /** Folders `file:` URLs may read from (the local-folder provider's folder). Default: none, so file URLs are refused. */
  localRoots?: readonly string[];
  /**
   * Outcomes of an earlier attempt, by URL (or as a list). Downloaded and duplicate URLs whose
   * object still exists, and permanent failures, are reused without fetching; retryable
   * failures are tried again.
   */
  known?: ReadonlyMap<string, UrlOutcome> | Iterable<UrlOutcome>;
  /** Check that a known outcome's object still exists in the store (one stat each). Default true. */
  verifyKnown?: boolean;
  userAgent?: string;
  /** Cancels the batch: in-flight requests are aborted and downloadImages rejects with the signal's reason. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Called once per URL as it finishes (reused ones too); awaited, so it may persist a record. */
  onOutcome?: (outcome: UrlOutcome) => void | Promise<void>;
  /** DNS resolution override (tests). */
  resolve?: ResolveHost;
}

export type DownloadItem = string | { url: string };

/**
 * Downloads every distinct URL of `items`. Resolves with one outcome per distinct URL, in input
 * order within each list. Rejects only when the store fails (the error it threw), when
 * `onOutcome` throws, or when `signal` aborts.
 */
export async function downloadImages(store: Store, items: readonly DownloadItem[], options: DownloadOptions = {}): Promise<DownloadResult> {
  const urls = [...new Set(items.map((item) => (typeof item === 'string' ? item : item.url)))];
  const run = new DownloadRun(store, options, urls.length);
  try {
    return await run.all(urls, knownByUrl(options.known));
  } finally {
    run.close();
  }
}

function knownByUrl(known: DownloadOptions['known']): ReadonlyMap<string, UrlOutcome> {
  if (!known) return new Map();
  if (known instanceof Map) return known;
  return new Map([...(known as Iterable<UrlOutcome>)].map((outcome) => [outcome.url, outcome]));
}

/** Who kept the bytes of one sha256 in this run; undefined when that attempt failed. */
type Claim = Promise<{ url: string; key: string } | undefined>;

const CONTENT_TYPE: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heif: 'image/heic',
  tiff: 'image/tiff',
};

class DownloadRun {
  private readonly settings;
  private readonly allow: AllowList;
  private readonly deny: DenyList;
  private readonly requests: Semaphore;
  private readonly decodes: Semaphore;
  private readonly hosts: HostLimiter;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly claims = new Map<string, Claim>();
  private readonly controller = new AbortController();
  private localRoots?: Promise<string[]>;
  private fatal: { error: unknown } | undefined;
  private done = 0;
  private readonly unlinkSignal: () => void;

  constructor(
    private readonly store: Store,
    private readonly options: DownloadOptions,
    private readonly total: number,
  ) {
    this.settings = {
      maxBytes: options.maxBytes ?? 25 * 1024 * 1024,
      maxPixels: options.maxPixels ?? 50_000_000,
      retries: options.retries ?? 3,
      urlBudgetMs: options.urlBudgetMs ?? 90_000,
      backoff: { baseDelayMs: options.retryBaseDelayMs ?? 1000, maxDelayMs: options.retryMaxDelayMs ?? 30_000 },
    };
    const concurrency = options.concurrency ?? 8;
    this.allow = new AllowList(options.allowHosts);
    this.deny = new DenyList(options.denyHosts);
    this.requests = new Semaphore(concurrency);
    this.decodes = new Semaphore(options.decodeConcurrency ?? availableParallelism());
    this.hosts = new HostLimiter(options.perHostConcurrency ?? 4, options.perHostRequestsPerSecond);
    // Pools of this run only: one allow-list per pool (see SafeFetchOptions.agents). The
    // semaphores do the limiting; the pools must never queue a request (its connect timer runs).
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: concurrency }),
      https: new https.Agent({ keepAlive: true, maxSockets: concurrency }),
    };
    // Every in-flight request and backoff sleep listens to this signal: hundreds, by design.
    setMaxListeners(0, this.controller.signal);
    const onAbort = () => this.controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.unlinkSignal = () => options.signal?.removeEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
  }

  async all(urls: string[], known: ReadonlyMap<string, UrlOutcome>): Promise<DownloadResult> {
    const outcomes = new Map<string, UrlOutcome>();
    // Reuse first, so fresh downloads of already-known content are reported as duplicates of it.
    const checks = new Semaphore(16); // a stat each; bounded so an S3 store is not flooded
    const reusable = await this.guarded(urls.filter((url) => known.has(url)), (url) => checks.run(() => this.reuse(known.get(url)!)));
    let reused = 0;
    for (const [url, outcome] of reusable) {
      if (!outcome) continue;
      reused++;
      outcomes.set(url, outcome);
      if (outcome.outcome === 'downloaded' && !this.claims.has(outcome.sha256)) {
        this.claims.set(outcome.sha256, Promise.resolve({ url: outcome.url, key: outcome.key }));
      }
      await this.finish(outcome);
    }
    const fresh = await this.guarded(urls.filter((url) => !outcomes.has(url)), async (url) => {
      const outcome = await this.process(url);
      await this.finish(outcome);
      return outcome;
    });
    for (const [url, outcome] of fresh) if (outcome) outcomes.set(url, outcome);

    const result: DownloadResult = { downloaded: [], duplicates: [], failures: [], reused };
    for (const url of urls) {
      const outcome = outcomes.get(url)!;
      if (outcome.outcome === 'downloaded') result.downloaded.push(outcome);
      else if (outcome.outcome === 'duplicate') result.duplicates.push(outcome);
      else result.failures.push(outcome);
    }
    return result;
  }

  close(): void {
    this.unlinkSignal();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * Runs `task` for every URL at once (the semaphores bound the real concurrency); the first
   * unexpected error aborts the rest and is rethrown once everything has settled.
   */
  private async guarded<T>(urls: string[], task: (url: string) => Promise<T>): Promise<Map<string, T | undefined>> {
    const results = new Map<string, T | undefined>();
    await Promise.all(
      urls.map(async (url) => {
        try {
          this.controller.signal.throwIfAborted();
          results.set(url, await task(url));
        } catch (error) {
          if (!this.controller.signal.aborted) {
            this.fatal = { error };
            this.controller.abort(error);
          }
        }
      }),
    );
    if (this.fatal) throw this.fatal.error;
    this.options.signal?.throwIfAborted();
    return results;
  }

  private async finish(outcome: UrlOutcome): Promise<void> {
    this.done++;
    await this.options.onOutcome?.(outcome);
    this.options.onProgress?.(this.done, this.total);
  }

  /** The earlier outcome if it still holds, else undefined (fetch again). */
  private async reuse(previous: UrlOutcome): Promise<UrlOutcome | undefined> {
    if (previous.outcome === 'failed') return previous.retryable ? undefined : previous;
    if (this.options.verifyKnown === false) return previous;
    return (await this.store.exists(previous.key)) ? previous : undefined;
  }

  private async process(url: string): Promise<UrlOutcome> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return failure(url, 'bad-scheme', 'not a valid URL', 0);
    }
    if (parsed.protocol === 'file:') return this.processFile(url, parsed);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return failure(url, 'bad-scheme', `scheme ${parsed.protocol} is not http, https or file`, 0);
    }
    // Set when the first attempt starts (not while queued behind other URLs of the same host).
    const budget: { deadline?: number } = {};
    for (let attempt = 1; ; attempt++) {
      try {
        const bytes = await this.fetchOnce(parsed, budget);
        return await this.accept(url, bytes);
      } catch (error) {
        // Cancelled: not this URL's outcome, so nothing is recorded for it.
        if (this.controller.signal.aborted) throw this.controller.signal.reason;
        const failed = toFailure(url, error, attempt);
        if (!failed) throw error; // the store or a bug: not this URL's fault
        if (!failed.retryable || attempt > this.settings.retries || this.controller.signal.aborted) return failed;
        const retryAfter = error instanceof SafeFetchError ? error.retryAfterMs : undefined;
        const wait = backoffDelay(attempt, this.settings.backoff, retryAfter);
        if (Date.now() + wait >= (budget.deadline ?? Infinity)) return { ...failed, detail: `${failed.detail}; ${this.budgetSpent()}` };
        await sleep(wait, this.controller.signal);
      }
    }
  }

  private budgetSpent(): string {
    return `gave up: the ${Math.round(this.settings.urlBudgetMs / 100) / 10} s budget for this URL is spent`;
  }

  private async fetchOnce(url: URL, budget: { deadline?: number }): Promise<Buffer> {
    const signal = this.controller.signal;
    const releaseHost = await this.hosts.acquire(url.host, signal);
    try {
      const releaseRequest = await this.requests.acquire();
      try {
        signal.throwIfAborted();
        budget.deadline ??= Date.now() + this.settings.urlBudgetMs;
        const left = budget.deadline - Date.now();
        if (left <= 0) throw new SafeFetchError('timeout', this.budgetSpent(), redactUrl(url));
        const response = await safeFetch(url, {
          connectTimeoutMs: this.options.connectTimeoutMs,
          idleTimeoutMs: this.options.idleTimeoutMs,
          totalTimeoutMs: Math.min(this.options.totalTimeoutMs ?? 60_000, left),
          maxBytes: this.settings.maxBytes,
          maxRedirects: this.options.maxRedirects,
          allowHosts: this.allow,
          denyHosts: this.deny,
          userAgent: this.options.userAgent,
          headers: { accept: 'image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5' },
          signal,
          agents: this.agents,
          resolve: this.options.resolve,
        });
        return response.body;
      } finally {
        releaseRequest();
      }
    } finally {
      releaseHost();
    }
  }

  private async processFile(url: string, parsed: URL): Promise<UrlOutcome> {
    const roots = await (this.localRoots ??= Promise.all((this.options.localRoots ?? []).map((root) => realpath(resolvePath(root)))));
    if (roots.length === 0) return failure(url, 'blocked-path', 'file URLs are refused: no localRoots given', 1);
    let path: string;
    try {
      path = await realpath(fileURLToPath(parsed)); // symlinks resolved before the containment check
    } catch (error) {
      return failure(url, 'file-unreadable', (error as Error).message, 1);
    }
    if (!roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep))) {
      return failure(url, 'blocked-path', `${path} is outside the allowed folders`, 1);
    }
    let bytes: Buffer;
    try {
      const info = await stat(path);
      if (!info.isFile()) return failure(url, 'file-unreadable', `${path} is not a regular file`, 1);
      if (info.size > this.settings.maxBytes) return failure(url, 'too-large', `${info.size} bytes exceeds ${this.settings.maxBytes}`, 1);
      bytes = await readFile(path);
    } catch (error) {
      return failure(url, 'file-unreadable', (error as Error).message, 1);
    }
    try {
      return await this.accept(url, bytes);
    } catch (error) {
      const failed = toFailure(url, error, 1);
      if (failed) return failed;
      throw error;
    }
  }

  /** Sniff, dedupe, header check, decode, store. Throws ImageRejectedError for bad bytes. */
  private async accept(url: string, bytes: Buffer): Promise<UrlOutcome> {
    const sum = sha256(bytes);
    const earlier = this.claims.get(sum);
    if (earlier) {
      const owner = await earlier;
      if (owner) return { outcome: 'duplicate', url, key: owner.key, sha256: sum, duplicateOf: owner.url };
    }
    // Claimed synchronously after the check: a concurrent task with the same bytes waits for us.
    let settle!: (owner: { url: string; key: string } | undefined) => void;
    this.claims.set(sum, new Promise((resolve) => (settle = resolve)));
    try {
      const header = await this.decodes.run(() => readImageHeader(bytes, this.settings.maxPixels));
      const key = keys.rawImage(sum, EXTENSION[header.format]);
      // Objects under images/raw/ were decoded before they were written: no need to decode again.
      const alreadyStored = await this.store.exists(key);
      if (!alreadyStored) {
        await this.decodes.run(() => verifyDecodes(bytes, this.settings.maxPixels));
        await this.store.put(key, bytes, { contentType: CONTENT_TYPE[header.format] });
      }
      settle({ url, key });
      return { outcome: 'downloaded', url, key, sha256: sum, bytes: bytes.length, ...header, alreadyStored };
    } catch (error) {
      settle(undefined);
      this.claims.delete(sum);
      throw error;
    }
  }
}

/** A failed outcome; a `data:` URL is kept only as its media type and length (its payload could be megabytes, or private). */
function failure(url: string, reason: DownloadFailureReason, detail: string, attempts: number, retryable = false): DownloadFailure {
  return { outcome: 'failed', url: /^\s*data:/i.test(url) ? redactUrl(url) : url, reason, detail, attempts, retryable };
}

/** A URL's own failure, or undefined for errors that are not about this URL (store, bugs). */
function toFailure(url: string, error: unknown, attempts: number): DownloadFailure | undefined {
  if (error instanceof SafeFetchError) return failure(url, error.reason, error.message, attempts, error.retryable);
  if (error instanceof ImageRejectedError) return failure(url, error.reason, error.message, attempts);
  return undefined;
}
