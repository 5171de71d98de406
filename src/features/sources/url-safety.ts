import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../../errors.ts';

/**
 * A feed URL is tenant input: without this check a tenant could make the server fetch its own
 * loopback services, the cloud metadata endpoint (169.254.169.254) or anything on the private
 * network. Every address a name resolves to must be public; the same check runs again when the
 * fetch connects (see feed-fetch.ts), so a name that resolves differently later is caught too.
 */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** IPv4 addresses carried inside IPv6 ones: v4-mapped, v4-compatible, NAT64, 6to4. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const groups = expandIpv6(lower);
  if (!groups) return undefined;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!); // ::ffff:a.b.c.d
  if (zeros(0, 6) && (groups[6] !== 0 || groups[7]! > 1)) return v4(groups[6]!, groups[7]!); // ::a.b.c.d
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  if (isIP(address) !== 6 || address.includes('.')) return undefined;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : new Array(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  return groups.length === 8 ? groups : undefined;
}

/** Whether an IP address (v4 or v6) is loopback, private, link-local, unique-local or otherwise not public. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return BLOCKED.check(v4, 'ipv4');
    return BLOCKED.check(bare, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

export interface UrlPolicy {
  /** The operator setting SYNC_MANAGER_ALLOW_PRIVATE_URLS. */
  allowPrivate: boolean;
}

/** Syntax of a feed URL: http or https, a host, no credentials in it (use headers for those). */
export function parseFeedUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', `"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('validation_failed', 'A feed URL must be http or https');
  }
  if (url.username || url.password) {
    throw new AppError('validation_failed', 'Put upstream credentials in headers, not in the URL');
  }
  return url;
}

/**
 * Resolves the URL's host (every address) and refuses it when any address is not public, unless the
 * operator allows private addresses. Throws `feed_url_refused`.
 */
export async function assertFeedUrlAllowed(raw: string, policy: UrlPolicy): Promise<URL> {
  const url = parseFeedUrl(raw);
  if (policy.allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch (error) {
      throw new AppError(
        'feed_url_refused',
        `The host "${host}" does not resolve (${(error as Error).message})`,
      );
    }
  }
  const blocked = addresses.find(isBlockedAddress);
  if (blocked !== undefined || addresses.length === 0) {
    throw new AppError(
      'feed_url_refused',
      `The host "${host}" resolves to ${blocked ?? 'nothing'}, a loopback, private or link-local address; ` +
        'such feed URLs need the operator setting SYNC_MANAGER_ALLOW_PRIVATE_URLS=true',
    );
  }
  return url;
}
