import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses an IP or CIDR entry; returns null if it is neither. A bare IP is a /32 (or /128). */
export function parseIpRange(entry: string): Range | null {
  const text = entry.trim();
  try {
    if (text.includes('/')) return ipaddr.parseCIDR(text) as Range;
    const addr = ipaddr.process(text);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return null;
  }
}

/** The matcher of an empty allow-list; callers may skip finding the client's address for it. */
export const ALLOW_ALL = (_ip: string) => true;

/** Builds a matcher for an allow-list; an empty list allows every address. */
export function ipMatcher(entries: string[]): (ip: string) => boolean {
  if (entries.length === 0) return ALLOW_ALL;
  const ranges = entries.map(parseIpRange).filter((r): r is Range => r !== null);
  return (ip: string) => {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.process(ip); // unwraps IPv4-mapped IPv6 (::ffff:1.2.3.4)
    } catch {
      return false;
    }
    return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
  };
}

/** The caller's IP: the first X-Forwarded-For hop when TRUST_PROXY is on, else the socket's peer. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = req.headers['x-forwarded-for'];
    const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? '';
}
