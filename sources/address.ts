import { isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of address an IP is, for deciding whether the downloader may connect to it.
 * Only 'public' is fetchable without an allow-list entry; everything else could reach this
 * machine, its network, or a cloud metadata service (169.254.169.254) — the SSRF targets.
 */
export type AddressClass =
  | 'public'
  | 'unspecified' // 0.0.0.0/8, :: (0.0.0.0 connects to this host on Linux)
  | 'loopback' // 127/8, ::1
  | 'private' // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  | 'link-local' // 169.254/16 (cloud metadata), fe80::/10
  | 'cgnat' // 100.64/10
  | 'multicast' // 224/4, ff00::/8
  | 'reserved' // 240/4 incl. broadcast, benchmarking, documentation, IETF, Teredo, discard-only
  | 'invalid'; // not an IP address at all

/** Classifies an IPv4 or IPv6 address (zone ids like `fe80::1%eth0` allowed). Pure; no DNS. */
export function classifyAddress(ip: string): AddressClass {
  const address = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(address)) return classifyIPv4(parseIPv4(address));
  if (isIPv6(address)) return classifyIPv6(parseIPv6(address));
  return 'invalid';
}

export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === 'public';
}

/** True for IPv4/IPv6 literals (brackets allowed), the forms that skip DNS entirely. */
export function isIpLiteral(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  return isIPv4(bare) || isIPv6(bare);
}

/**
 * One spelling per address, for comparing them: IPv4 dotted, IPv4-mapped IPv6 as IPv4, other IPv6
 * as eight lowercase hex groups; brackets and zone ids dropped. Anything else is lowercased.
 */
export function canonicalAddress(ip: string): string {
  const address = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address.toLowerCase();
  const groups = parseIPv6(address);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const v4 = embeddedIPv4(groups, 6);
    return [v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff].join('.');
  }
  return groups.map((group) => group.toString(16)).join(':');
}

function parseIPv4(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** [prefix, mask length, class], checked in order. */
const IPV4_RANGES: ReadonlyArray<readonly [string, number, AddressClass]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV4_TABLE = IPV4_RANGES.map(([prefix, bits, kind]) => ({ base: parseIPv4(prefix), bits, kind }));

function classifyIPv4(value: number): AddressClass {
  for (const { base, bits, kind } of IPV4_TABLE) {
    const size = 2 ** (32 - bits);
    if (value >= base && value < base + size) return kind;
  }
  return 'public';
}

/** Eight 16-bit groups; handles `::` and a trailing dotted quad (`::ffff:127.0.0.1`). */
function parseIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return groups.map((group) => parseInt(group, 16));
}

/** The IPv4 address in groups[i], groups[i+1]. */
function embeddedIPv4(groups: number[], index: number): number {
  return groups[index]! * 0x10000 + groups[index + 1]!;
}

function classifyIPv6(g: number[]): AddressClass {
  const zeroUpTo = (n: number) => g.slice(0, n).every((group) => group === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d — the form a dual-stack socket reports for IPv4 peers.
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyIPv4(embeddedIPv4(g, 6));
  // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765).
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return classifyIPv4(embeddedIPv4(g, 6));
  // Deprecated IPv4-compatible ::a.b.c.d.
  if (zeroUpTo(6)) return classifyIPv4(embeddedIPv4(g, 6));
  // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((group) => group === 0)) return classifyIPv4(embeddedIPv4(g, 6));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private'; // local-use NAT64, RFC 8215
  // 6to4 2002:a.b.c.d::/48 routes to the embedded IPv4 address.
  if (g[0] === 0x2002) return classifyIPv4(embeddedIPv4(g, 1));
  if (g[0] === 0x2001 && g[1] === 0) return 'reserved'; // Teredo: the real peer is obfuscated
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  if (g[0] === 0x100 && zeroUpTo(4)) return 'reserved'; // discard-only 100::/64
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((first & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 deprecated site-local
  if ((first & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}
