/**
 * The download allow-list (config `download.allowHosts`): entries `host` or `host:port` that may
 * be fetched although they are, or resolve to, loopback/private addresses — a local S3 server, a
 * test fixture server. An entry without a port allows every port of that host.
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

/** Thrown for an allow-list entry that is not `host` or `host:port`. */
export class InvalidAllowHostError extends Error {
  override readonly name = 'InvalidAllowHostError';
  constructor(readonly entry: string) {
    super(`invalid download.allowHosts entry ${JSON.stringify(entry)}: expected host or host:port`);
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
