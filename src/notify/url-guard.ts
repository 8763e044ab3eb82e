// Webhook, Bark and Gotify URLs are chosen by users, so the gateway must not become a way to reach
// its own network: every address a URL's host resolves to must be public unicast unless the admin
// allows private receivers. The address checked is the one connected to (see http-send.ts).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { NotifyError } from './errors.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses (injectable so tests can play DNS). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** ipaddr.js's range name for an address ('unicast' for public ones); 'invalid' if it is not an IP. */
export function addressRange(ip: string): string {
  try {
    return ipaddr.process(ip).range(); // process() unwraps IPv4-mapped IPv6 (::ffff:127.0.0.1 → loopback)
  } catch {
    return 'invalid';
  }
}

/** Only ordinary public addresses: not loopback, private, link-local, unspecified, CGNAT, NAT64, 6to4… */
export function isPublicAddress(ip: string): boolean {
  return addressRange(ip) === 'unicast';
}

/** Parses a receiver URL: http(s) only, no credentials. Throws a permanent NotifyError naming the field. */
export function parseReceiverUrl(field: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new NotifyError(`${field} is not a valid URL`, { permanent: true });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NotifyError(`${field} must be an http or https URL`, { permanent: true });
  if (url.username || url.password) throw new NotifyError(`${field} must not contain credentials`, { permanent: true });
  return url;
}

/**
 * Resolves the URL's host and checks every address (a name with one private address among public
 * ones is refused too). Returns the first address: the one to connect to.
 */
export async function resolveReceiver(field: string, url: URL, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new NotifyError(`${field}: cannot resolve ${host} (${(err as { code?: string }).code ?? 'lookup failed'})`);
    }
  }
  if (addresses.length === 0) throw new NotifyError(`${field}: ${host} has no address`);
  if (!allowPrivate) {
    for (const a of addresses) {
      const range = addressRange(a.address);
      if (range !== 'unicast') {
        throw new NotifyError(`${field}: ${host} resolves to ${a.address} (${range}); private and loopback receivers are not allowed`, { permanent: true });
      }
    }
  }
  return addresses[0]!;
}
