import { describe, expect, it } from 'vitest';
import { classifyAddress, isIpLiteral, isPublicAddress } from '../sources/address';
import { AllowList, InvalidAllowHostError } from '../sources/allow-list';

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['100.128.0.1', 'public'],
    ['100.63.255.255', 'public'],
    ['8.8.8.8', 'public'],
    ['151.101.1.69', 'public'],
  ])('IPv4 %s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fd00:ec2::254', 'private'], // the AWS IPv6 metadata address
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:81c::200e', 'public'],
    ['[::1]', 'loopback'],
  ])('IPv6 %s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::FFFF:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:192.168.0.10', 'private'],
    ['::ffff:100.64.0.1', 'cgnat'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:0:127.0.0.1', 'loopback'], // IPv4-translated
    ['::127.0.0.1', 'loopback'], // deprecated IPv4-compatible
    ['64:ff9b::169.254.169.254', 'link-local'], // NAT64
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::1', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:a9fe:a9fe::', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::8.8.8.8', 'public'],
  ])('IPv4 inside IPv6 %s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it('treats the metadata address as non-public in every spelling', () => {
    for (const ip of ['169.254.169.254', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe']) {
      expect(isPublicAddress(ip)).toBe(false);
    }
  });

  it('reports host names as invalid, not public', () => {
    expect(classifyAddress('example.com')).toBe('invalid');
    expect(classifyAddress('127.0.0.1.nip.io')).toBe('invalid');
    expect(isPublicAddress('example.com')).toBe(false);
  });

  it('recognises literals', () => {
    expect(isIpLiteral('127.0.0.1')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('localhost')).toBe(false);
  });

  it('agrees with the URL parser on the odd IPv4 spellings it normalises', () => {
    for (const spelling of ['http://2130706433/', 'http://0x7f.1/', 'http://127.1/', 'http://017700000001/']) {
      const host = new URL(spelling).hostname;
      expect(host).toBe('127.0.0.1');
      expect(classifyAddress(host)).toBe('loopback');
    }
    expect(classifyAddress(new URL('http://[::ffff:127.0.0.1]/').hostname)).toBe('loopback');
  });
});

describe('AllowList', () => {
  it('matches host:port exactly and host alone on any port', () => {
    const list = new AllowList(['127.0.0.1:8080', 'minio.local', '[::1]:9000', 'Example.COM:443']);
    expect(list.allows('127.0.0.1', 8080)).toBe(true);
    expect(list.allows('127.0.0.1', 8081)).toBe(false);
    expect(list.allows('minio.local', 1)).toBe(true);
    expect(list.allows('MINIO.local', 9000)).toBe(true);
    expect(list.allows('::1', 9000)).toBe(true);
    expect(list.allows('[::1]', 9000)).toBe(true);
    expect(list.allows('::1', 9001)).toBe(false);
    expect(list.allows('example.com', 443)).toBe(true);
    expect(list.allows('10.0.0.1', 80)).toBe(false);
  });

  it('keeps an explicit default port and accepts a bare IPv6 address', () => {
    const list = new AllowList(['localhost:80', 'fd00::5']);
    expect(list.allows('localhost', 80)).toBe(true);
    expect(list.allows('localhost', 8080)).toBe(false);
    expect(list.allows('fd00::5', 1234)).toBe(true);
  });

  it('refuses entries that are not host or host:port', () => {
    expect(() => new AllowList(['http://x/y'])).toThrow(InvalidAllowHostError);
    expect(() => new AllowList(['host/path'])).toThrow(InvalidAllowHostError);
  });
});
