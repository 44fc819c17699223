// layer: shared (all layers)
// job: bytes as the kernel lays them out: host-order integers and IP addresses as text ↔ network-order bytes.
import { endianness } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';

// ---- host byte order primitives (netlink headers and most attributes are host order) --------

/** True when this machine is little-endian; netlink's "host order" follows it. */
export const HOST_IS_LE = endianness() === 'LE';

/** Read a u16 in host byte order. */
export function readU16Host(buf: Buffer, offset: number): number {
  return HOST_IS_LE ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset);
}
/** Read a u32 in host byte order. */
export function readU32Host(buf: Buffer, offset: number): number {
  return HOST_IS_LE ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
}
/** Read an s32 in host byte order. */
export function readS32Host(buf: Buffer, offset: number): number {
  return HOST_IS_LE ? buf.readInt32LE(offset) : buf.readInt32BE(offset);
}
/**
 * Copy `src` into `dst` at `at`. Short sources byte by byte in JavaScript: Buffer#copy crosses into
 * C++ and costs more than it copies for the few-byte headers and nests of netlink requests.
 */
export function copyInto(src: Buffer, dst: Buffer, at: number): number {
  const n = src.length;
  if (n > 64) return src.copy(dst, at);
  for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
  return n;
}

/** Zero `dst[from, to)`; short ranges in JavaScript, for the same reason as copyInto. */
export function zeroRange(dst: Buffer, from: number, to: number): void {
  if (to - from > 64) {
    dst.fill(0, from, to);
    return;
  }
  for (let i = from; i < to; i++) dst[i] = 0;
}

/** Write a u16 in host byte order. */
export function writeU16Host(buf: Buffer, value: number, offset: number): void {
  if (HOST_IS_LE) buf.writeUInt16LE(value, offset); else buf.writeUInt16BE(value, offset);
}
/** Write a u32 in host byte order. */
export function writeU32Host(buf: Buffer, value: number, offset: number): void {
  if (HOST_IS_LE) buf.writeUInt32LE(value, offset); else buf.writeUInt32BE(value, offset);
}
/** Write an s32 in host byte order. */
export function writeS32Host(buf: Buffer, value: number, offset: number): void {
  if (HOST_IS_LE) buf.writeInt32LE(value, offset); else buf.writeInt32BE(value, offset);
}

// ---- addresses: text ↔ network-order bytes -------------------------------------------------

/** Encode a dotted IPv4 address as 4 bytes (network order). Throws TypeError (naming `field`) if it is not one. */
export function encodeIPv4(address: string, field?: string): Buffer {
  if (!isIPv4(address)) throw new TypeError(`${field ? `${field} is ` : ''}not an IPv4 address: ${JSON.stringify(address)}`);
  return Buffer.from(address.split('.').map(Number));
}

/** Encode an IPv6 address (any valid text form, no zone) as 16 bytes. Throws TypeError (naming `field`) if it is not one. */
export function encodeIPv6(address: string, field?: string): Buffer {
  if (!isIPv6(address) || address.includes('%')) {
    throw new TypeError(`${field ? `${field} is ` : ''}not an IPv6 address (zones are not accepted): ${JSON.stringify(address)}`);
  }
  const out = Buffer.alloc(16);
  let text = address;
  let groupCount = 8;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) { // trailing dotted IPv4, e.g. ::ffff:192.0.2.1
    encodeIPv4(text.slice(lastColon + 1)).copy(out, 12);
    text = text.slice(0, lastColon + (text[lastColon - 1] === ':' ? 1 : 0));
    groupCount = 6;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(groupCount - headGroups.length - tailGroups.length).fill('0');
  [...headGroups, ...zeros, ...tailGroups].forEach((group, i) => out.writeUInt16BE(Number.parseInt(group, 16), i * 2));
  return out;
}

/** Encode an IPv4 or IPv6 address as 4 or 16 bytes. */
export function encodeAddress(address: string): Buffer {
  return isIPv4(address) ? encodeIPv4(address) : encodeIPv6(address);
}

/** Format 4 bytes as a dotted IPv4 address. */
export function formatIPv4(bytes: Buffer): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Format 16 bytes as an IPv6 address in RFC 5952 form: lower-case hex without leading zeros,
 * the first longest run of two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** The network address of `address/prefixLength` (host bits cleared), as the kernel requires of a route's destination. */
export function networkAddress(address: string, prefixLength: number): string {
  const bytes = encodeAddress(address);
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return bytes.length === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}
