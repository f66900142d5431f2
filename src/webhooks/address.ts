// Where webhooks may point. A webhook makes the gateway send requests wherever its URL says,
// so by default nothing inside the gateway's own networks is reachable: loopback, private,
// link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and reserved
// ranges are refused, for IPv4 and IPv6 (IPv4-mapped and NAT64 forms included).
// WEBHOOK_ALLOW_PRIVATE=true lifts this for tests and on-premise receivers.
//
// The URL is checked when it is set (fast feedback), and the addresses are checked again on
// every connection, after DNS resolution (`guardedLookup`), so that a name that later
// resolves to a private address (DNS rebinding) is still refused.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { badInput } from '../domain/errors.ts';

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address a NAT64 (64:ff9b::/96) address stands for, else null. */
function nat64Target(address: string): string | null {
  const match = /^64:ff9b::(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address) ?? /^64:ff9b::(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (!match) return null;
  if (match[2] === undefined) return match[1]!;
  const high = parseInt(match[1]!, 16);
  const low = parseInt(match[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether an IP address is one webhooks may not reach by default. Anything not an IP address is refused too. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const embedded = nat64Target(address);
  if (embedded) return blocked.check(embedded, 'ipv4');
  // BlockList matches IPv4-mapped IPv6 (::ffff:a.b.c.d) against the IPv4 rules itself.
  return blocked.check(address, 'ipv6');
}

export class RefusedAddressError extends Error {
  readonly code = 'EWEBHOOKADDRESS';
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE is off)`);
  }
}

const MAX_URL_LENGTH = 2048;

/** The host of a URL as an IP literal (IPv6 without brackets), or null for a name. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? host : null;
}

/**
 * A webhook URL as given to createWebhook/updateWebhook: absolute http(s), no credentials,
 * at most 2048 characters; a literal or resolved private address is refused unless allowed.
 * Answers the normalised URL. Names that do not resolve (yet) are accepted: delivery will
 * report it.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, field = 'input.url'): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw badInput(field, 'The URL must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(field, 'The URL must use http or https');
  if (url.username || url.password) throw badInput(field, 'The URL may not carry credentials; receivers verify the signature instead');
  if (url.href.length > MAX_URL_LENGTH) throw badInput(field, `The URL may be at most ${MAX_URL_LENGTH} characters`);
  url.hash = '';
  if (allowPrivate) return url.href;
  const literal = literalAddress(url);
  const addresses = literal ? [literal] : await resolveAll(url.hostname);
  const refused = addresses.find(isPrivateAddress);
  if (refused) {
    throw badInput(field, `The URL points at ${refused}, a private, loopback or link-local address; such receivers are refused`);
  }
  return url.href;
}

/** The addresses of a name; none when it does not resolve within 2 s (delivery will report it). */
function resolveAll(hostname: string): Promise<string[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([]), 2000);
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      clearTimeout(timer);
      resolve(error ? [] : addresses.map((a) => a.address));
    });
  });
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that refuses names resolving to a private address (any of
 * them: the connection could pick that one). IP literals never reach `lookup`; the sender
 * checks those with `isPrivateAddress` itself.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = allowPrivate ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused) return callback(new RefusedAddressError(hostname, refused.address) as NodeJS.ErrnoException, []);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
