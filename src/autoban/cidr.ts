// layer: behaviour (autoban), pure
// job: address ranges (CIDRs) that are never banned: parse once, match addresses of either family.
import { isIP } from 'node:net';
import { encodeAddress } from '../bytes.js';

/** A parsed range: network bytes (4 or 16) and prefix length. */
export interface AddressRange {
  text: string;
  network: Buffer;
  prefixLength: number;
}

/** Parse `ADDR` or `ADDR/LEN` (IPv4 or IPv6); throws TypeError naming the text when it is not one. */
export function parseRange(text: string): AddressRange {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || address.includes('%')) throw new TypeError(`not an address or CIDR: ${JSON.stringify(text)}`);
  const full = family === 4 ? 32 : 128;
  const lengthText = slash < 0 ? String(full) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > full) throw new TypeError(`prefix length must be 0…${full}: ${JSON.stringify(text)}`);
  const prefixLength = Number(lengthText);
  const network = encodeAddress(address);
  for (let bit = prefixLength; bit < full; bit++) network[bit >> 3] = (network[bit >> 3] as number) & ~(0x80 >> (bit & 7));
  return { text, network, prefixLength };
}

/** Whether `address` (text) lies in `range`; false for the other family. */
export function inRange(address: Buffer, range: AddressRange): boolean {
  if (address.length !== range.network.length) return false;
  const whole = range.prefixLength >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== range.network[i]) return false;
  const rest = range.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[whole] as number) & mask) === range.network[whole];
}

/** A list of ranges; `match(address)` returns the first range holding it. */
export class RangeList {
  readonly ranges: readonly AddressRange[];

  constructor(texts: readonly string[]) {
    this.ranges = texts.map(parseRange);
  }

  match(address: string): AddressRange | undefined {
    if (this.ranges.length === 0) return undefined;
    const bytes = encodeAddress(address);
    return this.ranges.find((r) => inRange(bytes, r));
  }
}
