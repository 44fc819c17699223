// layer: kernel client (ipset)
// job: set elements: text ↔ typed entry, validation, and the element attributes (IPSET_ATTR_DATA) byte for byte as ipset sends them.
import { isIPv6 } from 'node:net';
import { encodeIPv6, formatIPv4, formatIPv6 } from '../bytes.js';
import { writeAttrHeader } from '../netlink/attr.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, nlaAlign } from '../netlink/constants.js';
import {
  IPSET_ATTR_CADT_FLAGS, IPSET_ATTR_CIDR, IPSET_ATTR_COMMENT, IPSET_ATTR_DATA, IPSET_ATTR_IP, IPSET_ATTR_IPADDR_IPV4,
  IPSET_ATTR_IPADDR_IPV6, IPSET_ATTR_LINENO, IPSET_ATTR_PORT, IPSET_ATTR_PROTO, IPSET_ATTR_TIMEOUT, IPSET_FLAG_NOMATCH,
  IPSET_ERR_IPADDR_IPV4, IPSET_ERR_IPADDR_IPV6, IPSET_ERR_TYPE_MISMATCH, IPSET_MAX_COMMENT_SIZE, IPSET_MAX_TIMEOUT_SEC,
} from './constants.js';

/** IP protocols by name, as ipset prints them (numbers are accepted too). */
export const IP_PROTOCOLS = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, sctp: 132, udplite: 136 } as const;
/** A protocol name from IP_PROTOCOLS, `icmpv6` (= ipv6-icmp), or a protocol number. */
export type IpProtocol = keyof typeof IP_PROTOCOLS | 'icmpv6' | number;

/** An element to add, delete or test. Which fields apply depends on the set type. */
export interface IpsetEntry {
  /** IPv4 or IPv6 address; with `cidr`, the network (host bits are masked off by the kernel). */
  address: string;
  /** Prefix length: a network in hash:net (omitted = a single address). */
  cidr?: number;
  /** hash:ip,port: the port; for ICMP, type × 256 + code. */
  port?: number;
  /** hash:ip,port: the protocol of the port. Default `tcp`. */
  protocol?: IpProtocol;
  /** Seconds until the kernel removes the entry (sets created with a timeout); 0 = never. */
  timeoutSec?: number;
  /** Comment (sets created with `comment`), at most 255 bytes. */
  comment?: string;
  /** hash:net: an exception inside a larger network (`nomatch`). */
  nomatch?: boolean;
}

/** An element as the kernel lists it: the entry plus its state. */
export interface IpsetMember extends Omit<IpsetEntry, 'address'> {
  /** Absent only for set types whose elements are not addresses (not managed by lvskit). */
  address?: string;
  /** Counters, for sets created with `counters`. */
  packets?: bigint;
  bytes?: bigint;
}

/** An entry checked and reduced to what goes on the wire. */
export interface WireEntry {
  /** IPv4 address as an unsigned 32-bit number, or -1 for IPv6. */
  v4: number;
  /** IPv6 address bytes (when v4 is -1). */
  v6?: Buffer;
  cidr?: number;
  port?: number;
  proto?: number;
  timeout?: number;
  cadtFlags?: number;
  comment?: Buffer;
}

/** Parse a dotted IPv4 address into a u32; -1 when it is not one (no leading zeros, as node:net). */
export function parseIPv4(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      digits += 1;
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + part : -1;
}

function protocolNumber(protocol: IpProtocol): number {
  if (typeof protocol === 'number') {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`protocol: not 0…255: ${protocol}`);
    return protocol;
  }
  const n = protocol === 'icmpv6' ? 58 : (IP_PROTOCOLS as Record<string, number>)[protocol];
  if (n === undefined) throw new TypeError(`protocol: unknown protocol ${JSON.stringify(protocol)}`);
  return n;
}

/** The protocol's name as ipset prints it, or its number. */
export function protocolName(proto: number): IpProtocol {
  for (const [name, n] of Object.entries(IP_PROTOCOLS)) if (n === proto) return name as IpProtocol;
  return proto;
}

function checkInt(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${field}: not an integer in ${min}…${max}: ${value}`);
  return value;
}

/**
 * Check an entry and reduce it to its wire form. Throws TypeError/RangeError naming the field
 * (`address`, `cidr`, `port`, `protocol`, `timeoutSec`, `comment`).
 */
export function toWireEntry(entry: IpsetEntry): WireEntry {
  const v4 = parseIPv4(entry.address);
  const wire: WireEntry = { v4 };
  if (v4 < 0) {
    if (typeof entry.address !== 'string' || !isIPv6(entry.address) || entry.address.includes('%')) {
      throw new TypeError(`address: not an IPv4 or IPv6 address: ${JSON.stringify(entry.address)}`);
    }
    wire.v6 = encodeIPv6(entry.address, 'address');
  }
  if (entry.cidr !== undefined) wire.cidr = checkInt('cidr', entry.cidr, 0, v4 < 0 ? 128 : 32);
  if (entry.port !== undefined) {
    wire.port = checkInt('port', entry.port, 0, 65535);
    wire.proto = protocolNumber(entry.protocol ?? 'tcp');
  } else if (entry.protocol !== undefined) {
    throw new TypeError('protocol: given without a port');
  }
  if (entry.timeoutSec !== undefined) wire.timeout = checkInt('timeoutSec', entry.timeoutSec, 0, IPSET_MAX_TIMEOUT_SEC);
  if (entry.nomatch) wire.cadtFlags = IPSET_FLAG_NOMATCH;
  if (entry.comment !== undefined) {
    const bytes = Buffer.from(entry.comment, 'utf8');
    if (bytes.length > IPSET_MAX_COMMENT_SIZE) throw new RangeError(`comment: ${bytes.length} bytes, at most ${IPSET_MAX_COMMENT_SIZE}`);
    if (bytes.includes(0)) throw new TypeError('comment: contains a NUL byte');
    wire.comment = bytes;
  }
  return wire;
}

/**
 * Parse an element as ipset writes it: `ADDR`, `ADDR/CIDR`, `ADDR,PORT`, `ADDR,PROTO:PORT`,
 * `ADDR,icmp:TYPE/CODE`. Throws TypeError/RangeError saying what is wrong.
 */
export function parseEntry(text: string): IpsetEntry {
  const comma = text.indexOf(',');
  const first = comma < 0 ? text : text.slice(0, comma);
  const slash = first.indexOf('/');
  const entry: IpsetEntry = { address: slash < 0 ? first : first.slice(0, slash) };
  if (slash >= 0) entry.cidr = parseDecimal('cidr', first.slice(slash + 1));
  if (comma >= 0) Object.assign(entry, parsePortPart(text.slice(comma + 1)));
  toWireEntry(entry);
  return entry;
}

function parseDecimal(field: string, text: string): number {
  if (!/^\d{1,10}$/.test(text)) throw new TypeError(`${field}: not a number: ${JSON.stringify(text)}`);
  return Number(text);
}

function parsePortPart(text: string): Pick<IpsetEntry, 'port' | 'protocol'> {
  const colon = text.indexOf(':');
  if (colon < 0) return { port: parseDecimal('port', text), protocol: 'tcp' };
  const name = text.slice(0, colon);
  const protocol: IpProtocol = /^\d+$/.test(name) ? Number(name) : (name as IpProtocol);
  const value = text.slice(colon + 1);
  const proto = protocolNumber(protocol);
  if ((proto === 1 || proto === 58) && value.includes('/')) {
    const [type = '', code = ''] = value.split('/');
    return { protocol, port: checkInt('icmp type', parseDecimal('icmp type', type), 0, 255) * 256 + checkInt('icmp code', parseDecimal('icmp code', code), 0, 255) };
  }
  return { protocol, port: parseDecimal('port', value) };
}

/** An element as ipset prints it (full-length prefixes omitted; ICMP as TYPE/CODE). */
export function formatEntry(entry: IpsetEntry | IpsetMember): string {
  let text = entry.address ?? '?';
  const full = text.includes(':') ? 128 : 32;
  if (entry.cidr !== undefined && entry.cidr !== full) text += `/${entry.cidr}`;
  if (entry.port !== undefined) {
    const name = protocolName(protocolNumber(entry.protocol ?? 'tcp'));
    const icmp = name === 'icmp' || name === 'ipv6-icmp';
    text += `,${name}:${icmp ? `${entry.port >> 8}/${entry.port & 0xff}` : entry.port}`;
  }
  return text;
}

// ---- wire encoding ---------------------------------------------------------------------------

const IP_NEST = IPSET_ATTR_IP | NLA_F_NESTED;

/** Bytes of the element's attributes (the IPSET_ATTR_DATA payload), with or without LINENO. */
export function wireEntrySize(e: WireEntry, withLineno: boolean): number {
  let size = 4 + 4 + (e.v4 >= 0 ? 4 : 16);
  if (e.cidr !== undefined) size += 8;
  if (e.port !== undefined) size += 16; // PORT and PROTO
  if (e.timeout !== undefined) size += 8;
  if (e.cadtFlags !== undefined) size += 8;
  if (e.comment !== undefined) size += nlaAlign(4 + e.comment.length + 1);
  return withLineno ? size + 8 : size;
}

function u8Attr(buf: Buffer, at: number, type: number, value: number): number {
  writeAttrHeader(buf, at, 5, type);
  buf.writeUInt32BE(0, at + 4);
  buf[at + 4] = value;
  return at + 8;
}

function be32Attr(buf: Buffer, at: number, type: number, value: number): number {
  writeAttrHeader(buf, at, 8, type | NLA_F_NET_BYTEORDER);
  buf.writeUInt32BE(value, at + 4);
  return at + 8;
}

/**
 * Write the element's attributes at `at` in ipset's order (ascending type, LINENO last) and
 * return the end offset. `buf` must have wireEntrySize() bytes free. Integers are network order
 * with NLA_F_NET_BYTEORDER; addresses nest IPSET_ATTR_IPADDR_IPV4/IPV6 in IPSET_ATTR_IP.
 */
export function writeWireEntry(buf: Buffer, at: number, e: WireEntry, lineno?: number): number {
  if (e.v4 >= 0) {
    at = writeAttrHeader(buf, at, 12, IP_NEST);
    at = writeAttrHeader(buf, at, 8, IPSET_ATTR_IPADDR_IPV4 | NLA_F_NET_BYTEORDER);
    buf.writeUInt32BE(e.v4, at);
    at += 4;
  } else {
    at = writeAttrHeader(buf, at, 24, IP_NEST);
    at = writeAttrHeader(buf, at, 20, IPSET_ATTR_IPADDR_IPV6 | NLA_F_NET_BYTEORDER);
    (e.v6 as Buffer).copy(buf, at);
    at += 16;
  }
  if (e.cidr !== undefined) at = u8Attr(buf, at, IPSET_ATTR_CIDR, e.cidr);
  if (e.port !== undefined) {
    writeAttrHeader(buf, at, 6, IPSET_ATTR_PORT | NLA_F_NET_BYTEORDER);
    buf.writeUInt32BE(0, at + 4);
    buf.writeUInt16BE(e.port, at + 4);
    at += 8;
  }
  if (e.timeout !== undefined) at = be32Attr(buf, at, IPSET_ATTR_TIMEOUT, e.timeout);
  if (e.proto !== undefined) at = u8Attr(buf, at, IPSET_ATTR_PROTO, e.proto);
  if (e.cadtFlags !== undefined) at = be32Attr(buf, at, IPSET_ATTR_CADT_FLAGS, e.cadtFlags);
  if (e.comment !== undefined) {
    const len = 4 + e.comment.length + 1;
    writeAttrHeader(buf, at, len, IPSET_ATTR_COMMENT);
    e.comment.copy(buf, at + 4);
    buf.fill(0, at + 4 + e.comment.length, at + nlaAlign(len));
    at += nlaAlign(len);
  }
  if (lineno !== undefined) at = be32Attr(buf, at, IPSET_ATTR_LINENO, lineno);
  return at;
}

/** One IPSET_ATTR_DATA attribute (nested) holding the element, as a buffer. */
export function encodeEntryData(e: WireEntry, lineno?: number): Buffer {
  const size = 4 + wireEntrySize(e, lineno !== undefined);
  const buf = Buffer.alloc(size);
  writeAttrHeader(buf, 0, size, IPSET_ATTR_DATA | NLA_F_NESTED);
  writeWireEntry(buf, 4, e, lineno);
  return buf;
}

/** Text of a wire entry's address (for errors about entries given as wire forms). */
export function wireAddress(e: WireEntry): string {
  if (e.v4 >= 0) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(e.v4);
    return formatIPv4(b);
  }
  return formatIPv6(e.v6 as Buffer);
}

/** Why an entry cannot go into a set of `type` and `family` (undefined when it fits), with the kernel's error code for it. */
export function entryMismatch(type: string, family: string, e: WireEntry): { errno: number; why: string } | undefined {
  if (family === 'inet' && e.v4 < 0) return { errno: IPSET_ERR_IPADDR_IPV4, why: `a ${type} set of family inet holds IPv4 addresses only` };
  if (family === 'inet6' && e.v4 >= 0) return { errno: IPSET_ERR_IPADDR_IPV6, why: `a ${type} set of family inet6 holds IPv6 addresses only` };
  const hasPort = e.port !== undefined;
  if (type === 'hash:ip,port' && !hasPort) return { errno: IPSET_ERR_TYPE_MISMATCH, why: 'hash:ip,port elements need ADDRESS,PROTO:PORT' };
  if ((type === 'hash:ip' || type === 'hash:net') && hasPort) return { errno: IPSET_ERR_TYPE_MISMATCH, why: `${type} elements have no port` };
  if (type === 'hash:ip' && e.cidr !== undefined && e.cidr !== (e.v4 >= 0 ? 32 : 128)) {
    return { errno: IPSET_ERR_TYPE_MISMATCH, why: 'hash:ip holds single addresses; a network needs a hash:net set' };
  }
  return undefined;
}
