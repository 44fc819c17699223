// layer: behaviour (vrrp)
// job: address helpers VRRP needs: family of a text address, the RFC's "greater primary address" comparison, VIP text `ADDR[/LEN]`.
import { isIPv4, isIPv6 } from 'node:net';
import { encodeAddress } from '../bytes.js';
import type { IpFamily } from './packet.js';

/** 4 or 6 for an address text, undefined for anything else (zones are not addresses here). */
export function addressFamily(address: string): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address) && !address.includes('%')) return 6;
  return undefined;
}

/**
 * Compare two addresses of one family as unsigned network-order integers (RFC 5798 §6.4.3: "the
 * primary IPvX address of the sender is greater than the local primary IPvX address"). Negative,
 * zero or positive, as `a` is less than, equal to or greater than `b`.
 */
export function compareAddresses(a: string, b: string): number {
  return Buffer.compare(encodeAddress(a), encodeAddress(b));
}

/** True when both texts name the same address (`fd00::1` and `fd00:0::1` are equal). */
export function sameAddress(a: string, b: string): boolean {
  const fa = addressFamily(a);
  return fa !== undefined && fa === addressFamily(b) && compareAddresses(a, b) === 0;
}

/** `123.30.175.40` or `123.30.175.40/32` → address and prefix length (default /32, /128 as keepalived). */
export function parseAddressWithPrefix(text: string, field: string): { address: string; prefixLength: number; family: IpFamily } {
  const [address = '', prefix, extra] = text.split('/');
  const family = addressFamily(address);
  if (family === undefined || extra !== undefined) throw new TypeError(`${field}: not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
  const max = family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!/^\d+$/.test(prefix ?? String(max)) || prefixLength > max) {
    throw new RangeError(`${field}: prefix length of ${JSON.stringify(text)} must be 0..${max}`);
  }
  return { address, prefixLength, family };
}

/** True for fe80::/10. */
export function isLinkLocalIPv6(address: string): boolean {
  const bytes = encodeAddress(address);
  return bytes.length === 16 && bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80;
}
