import { canonicalAddress, isIpLiteral } from './address';

/**
 * An allow-list: entries `host` or `host:port` that may be fetched although they are, or resolve
 * to, loopback/private addresses — a private image mirror (config `download.allowHosts`), a
 * configured search endpoint, a test fixture server. An entry without a port allows every port of
 * that host. Each purpose has its own list: a host allowed for searches is not allowed for images.
 */
export class AllowList {
  private readonly entries: ReadonlyArray<{ host: string; port?: string }>;

  constructor(entries: readonly string[] = []) {
    this.entries = entries.map(parseEntry);
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** `host` as URL.hostname gives it (IPv6 with or without brackets), `port` as a number. */
  allows(host: string, port: number): boolean {
    const wanted = normaliseHost(host);
    return this.entries.some((entry) => entry.host === wanted && (entry.port === undefined || entry.port === String(port)));
  }
}

/**
 * Hosts no request may reach, whatever an allow-list says, not even through a redirect: the
 * deployment's own services (the store's endpoint, the Temporal frontend). Matched by name and
 * port before connecting, and by every address the names resolve to (so `127.0.0.1:9000` or a
 * DNS alias cannot reach `minio:9000` either).
 */
export class DenyList {
  private readonly entries: ReadonlyArray<{ host: string; port?: string }>;
  private readonly addresses = new Set<string>();
  private loading?: Promise<void>;

  constructor(entries: readonly string[] = []) {
    this.entries = entries.map(parseEntry);
    for (const entry of this.entries) if (isIpLiteral(entry.host)) this.addresses.add(addressKey(entry.host, entry.port));
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The URL's own host and port name a denied service. */
  matchesName(host: string, port: number): boolean {
    const wanted = normaliseHost(host);
    return this.entries.some((entry) => entry.host === wanted && (entry.port === undefined || entry.port === String(port)));
  }

  /** An address (as resolved or connected to) of a denied service; call `load` first. */
  matchesAddress(address: string, port: number): boolean {
    return this.addresses.has(addressKey(address, String(port))) || this.addresses.has(addressKey(address, undefined));
  }

  /** Resolves the named entries once; a name that does not resolve is still matched by name. */
  load(resolve: (hostname: string) => Promise<ReadonlyArray<{ address: string }>>): Promise<void> {
    this.loading ??= Promise.all(
      this.entries
        .filter((entry) => !isIpLiteral(entry.host))
        .map(async (entry) => {
          const resolved = await resolve(entry.host).catch(() => []);
          for (const { address } of resolved) this.addresses.add(addressKey(address, entry.port));
        }),
    ).then(() => undefined);
    return this.loading;
  }
}

function addressKey(address: string, port: string | undefined): string {
  return `${canonicalAddress(address)}|${port ?? '*'}`;
}

/** Thrown for an allow-list entry that is not `host` or `host:port`. */
export class InvalidAllowHostError extends Error {
  override readonly name = 'InvalidAllowHostError';
  constructor(readonly entry: string) {
    super(`invalid host entry ${JSON.stringify(entry)}: expected host or host:port`);
  }
}

function parseEntry(entry: string): { host: string; port?: string } {
  const trimmed = entry.trim();
  // A bare IPv6 address has several colons and no brackets: wrap it so URL can parse it.
  const authority = /^[^[].*:.*:/.test(trimmed) ? `[${trimmed}]` : trimmed;
  let url: URL;
  try {
    url = new URL(`http://${authority}`);
  } catch {
    throw new InvalidAllowHostError(entry);
  }
  if (!url.hostname || url.pathname !== '/' || url.search || url.username) throw new InvalidAllowHostError(entry);
  // URL drops ":80" for http; an explicit port in the entry still means that port.
  const explicitPort = /:(\d+)$/.exec(authority)?.[1];
  return { host: normaliseHost(url.hostname), port: explicitPort === undefined ? undefined : String(Number(explicitPort)) };
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}
