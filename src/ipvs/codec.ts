// layer: kernel client (IPVS)
// job: encode/decode pairs for the service attribute group and statistics; the field codecs real servers share.
import { encodeIPv6, formatIPv4, formatIPv6, writeU16Host, writeU32Host, zeroRange } from '../bytes.js';
import { AttrWriter, findAttr, findNest as findNestAt, forEachAttr, requiredAttr as required, writeAttrHeader as header, type Attr } from '../netlink/attr.js';
import { GENL_HDRLEN } from '../genl/codec.js';
import { NLA_F_NESTED, NLA_HDRLEN, nlaAlign } from '../netlink/constants.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { be16At, stringAt, u16At, u32At, u64At } from './reader.js';
import * as K from './constants.js';
import {
  isFwmarkKey, serviceFamily, type Family, type Persistence,
  type Protocol, type ReportedForwardingMethod, type SchedulerFlag, type ServiceKey, type ServiceSettings,
  type ServiceState, type Stats, type Tunnel, type Scheduler,
} from './model.js';

// ---- small field codecs --------------------------------------------------------------------------

export const PROTOCOLS: Record<Protocol, number> = { tcp: K.IPPROTO_TCP, udp: K.IPPROTO_UDP, sctp: K.IPPROTO_SCTP };
export const FORWARD_CODES: Record<ReportedForwardingMethod, number> = {
  nat: K.IP_VS_CONN_F_MASQ, local: K.IP_VS_CONN_F_LOCALNODE, tun: K.IP_VS_CONN_F_TUNNEL, dr: K.IP_VS_CONN_F_DROUTE,
  bypass: K.IP_VS_CONN_F_BYPASS,
};
export const TUNNEL_TYPES: Record<Tunnel['type'], number> = {
  ipip: K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP, gue: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE, gre: K.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
export const CHECKSUMS: Record<NonNullable<Tunnel['checksum']>, number> = {
  none: K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, csum: K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM, remcsum: K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};

export function byValue<T extends string>(table: Record<T, number>, value: number): T | undefined {
  return (Object.keys(table) as T[]).find((k) => table[k] === value);
}

/** AF_INET / AF_INET6 for 4 / 6. */
export function afOf(family: Family): number {
  return family === 6 ? K.AF_INET6 : K.AF_INET;
}

export function familyOfAf(af: number, offset: number): Family {
  if (af === K.AF_INET) return 4;
  if (af === K.AF_INET6) return 6;
  throw new NetlinkDecodeError(offset, `unknown address family ${af}`);
}

/**
 * Write an address as union nf_inet_addr (16 bytes, network order, an IPv4 address in the first
 * 4 and zeros after, as ipvsadm sends it) at `at`. `address` must be valid (validated) text.
 */
export function writeInetAddr(buf: Buffer, at: number, address: string): void {
  if (address.includes(':')) {
    encodeIPv6(address).copy(buf, at);
    return;
  }
  writeIPv4(buf, at, address);
  zeroRange(buf, at + 4, at + 16);
}

/** Write valid (validated) dotted IPv4 text as 4 bytes, network order, at `at`. */
function writeIPv4(buf: Buffer, at: number, address: string): void {
  let octet = 0;
  let i = at;
  for (let c = 0; c < address.length; c++) {
    const code = address.charCodeAt(c);
    if (code === 46) { buf[i++] = octet; octet = 0; } else { octet = octet * 10 + (code - 48); }
  }
  buf[i] = octet;
}

/** union nf_inet_addr as a new 16-byte buffer. */
export function encodeInetAddr(address: string): Buffer {
  const out = Buffer.alloc(16);
  writeInetAddr(out, 0, address);
  return out;
}

/** Contiguous IPv4 mask → prefix length, or undefined when the mask has holes. */
export function maskToPrefix(mask: number): number | undefined {
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}

/** Prefix length → IPv4 mask as an unsigned 32-bit number. */
export function prefixToMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

function schedulerFlagBits(flags: readonly SchedulerFlag[]): number {
  let bits = 0;
  for (const f of flags) {
    if (f === 'sh-fallback' || f === 'mh-fallback' || f === 'flag-1') bits |= K.IP_VS_SVC_F_SCHED1;
    else if (f === 'sh-port' || f === 'mh-port' || f === 'flag-2') bits |= K.IP_VS_SVC_F_SCHED2;
    else if (f === 'flag-3') bits |= K.IP_VS_SVC_F_SCHED3;
  }
  return bits;
}

function schedulerFlagNames(scheduler: string, bits: number): SchedulerFlag[] {
  const names: SchedulerFlag[] = [];
  const named = scheduler === 'sh' || scheduler === 'mh' ? scheduler : undefined;
  if (bits & K.IP_VS_SVC_F_SCHED1) names.push(named ? `${named}-fallback` : 'flag-1');
  if (bits & K.IP_VS_SVC_F_SCHED2) names.push(named ? `${named}-port` : 'flag-2');
  if (bits & K.IP_VS_SVC_F_SCHED3) names.push('flag-3');
  return names;
}

/** The IP_VS_SVC_F_* bits of service settings. */
export function serviceFlags(settings: ServiceSettings): number {
  return (settings.persistence ? K.IP_VS_SVC_F_PERSISTENT : 0) | (settings.onePacket ? K.IP_VS_SVC_F_ONEPACKET : 0)
    | schedulerFlagBits(settings.schedulerFlags ?? []);
}

// ---- service --------------------------------------------------------------------------------------

/** Write a service's identity (AF, then protocol/address/port or fwmark) into the current nest. */
function writeServiceKey(w: AttrWriter, key: ServiceKey): void {
  w.u16(K.IPVS_SVC_ATTR_AF, afOf(serviceFamily(key)));
  if (isFwmarkKey(key)) {
    w.u32(K.IPVS_SVC_ATTR_FWMARK, key.fwmark);
  } else {
    w.u16(K.IPVS_SVC_ATTR_PROTOCOL, PROTOCOLS[key.protocol]);
    w.bytes(K.IPVS_SVC_ATTR_ADDR, encodeInetAddr(key.address));
    w.be16(K.IPVS_SVC_ATTR_PORT, key.port);
  }
}

/** IPVS_CMD_ATTR_SERVICE with the identity only: enough for delete, get, zero and the destination commands. */
export function encodeServiceKey(w: AttrWriter, key: ServiceKey): AttrWriter {
  return w.bytes(K.IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, encodeServiceKeyNest(key).subarray(NLA_HDRLEN));
}

/**
 * IPVS_CMD_ATTR_SERVICE with the identity only, as one exact-size buffer (the hot path of
 * apply: no writer, one small pooled allocation). Same bytes as encodeServiceKey.
 */
export function encodeServiceKeyNest(key: ServiceKey): Buffer {
  const fwmark = isFwmarkKey(key);
  const size = fwmark ? 20 : 48;
  const b = Buffer.allocUnsafe(size).fill(0);
  header(b, 0, size, K.IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED);
  header(b, 4, 6, K.IPVS_SVC_ATTR_AF);
  writeU16Host(b, afOf(serviceFamily(key)), 8);
  if (isFwmarkKey(key)) {
    header(b, 12, 8, K.IPVS_SVC_ATTR_FWMARK);
    writeU32Host(b, key.fwmark, 16);
  } else {
    header(b, 12, 6, K.IPVS_SVC_ATTR_PROTOCOL);
    writeU16Host(b, PROTOCOLS[key.protocol], 16);
    header(b, 20, 20, K.IPVS_SVC_ATTR_ADDR);
    writeInetAddr(b, 24, key.address);
    header(b, 40, 6, K.IPVS_SVC_ATTR_PORT);
    b.writeUInt16BE(key.port, 44);
  }
  return b;
}

/**
 * IPVS_CMD_ATTR_SERVICE in full, for new/set: identity, scheduler, persistence engine, flags (with
 * mask ~0, so every flag is set as given), timeout and netmask, in ipvsadm's order.
 */
export function encodeService(w: AttrWriter, svc: ServiceKey & ServiceSettings): AttrWriter {
  return w.bytes(K.IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, encodeServiceNest(svc).subarray(NLA_HDRLEN));
}

/** IPVS_CMD_ATTR_SERVICE in full as one exact-size buffer; same bytes as encodeService. */
export function encodeServiceNest(svc: ServiceKey & ServiceSettings): Buffer {
  const b = Buffer.allocUnsafe(serviceNestBytes(svc));
  writeServiceNest(b, 0, svc);
  return b;
}

/** A NUL-terminated string attribute's bytes, padded. */
function stringAttrBytes(value: string): number {
  return nlaAlign(NLA_HDRLEN + Buffer.byteLength(value) + 1);
}

/** Bytes of IPVS_CMD_ATTR_SERVICE as writeServiceNest writes it. */
export function serviceNestBytes(svc: ServiceKey & ServiceSettings): number {
  const engine = svc.persistence?.engine;
  return NLA_HDRLEN + 8 + (isFwmarkKey(svc) ? 8 : 8 + 20 + 8) + stringAttrBytes(svc.scheduler)
    + (engine === undefined ? 0 : stringAttrBytes(engine)) + 12 + 8 + 8;
}

/** Write a string attribute (NUL-terminated, zero-padded) at `at`; returns where the next attribute goes. */
function writeStringAttr(b: Buffer, at: number, type: number, value: string): number {
  const length = NLA_HDRLEN + Buffer.byteLength(value) + 1;
  header(b, at, length, type);
  const end = at + NLA_HDRLEN + b.write(value, at + NLA_HDRLEN, 'utf8');
  zeroRange(b, end, at + nlaAlign(length));
  return at + nlaAlign(length);
}

/**
 * encodeServiceNest's bytes written into `b` at `at` (serviceNestBytes(svc) of them, every byte:
 * the attributes, then each one's padding), without a writer or a buffer per attribute.
 */
export function writeServiceNest(b: Buffer, at: number, svc: ServiceKey & ServiceSettings): void {
  const p = svc.persistence;
  const family = serviceFamily(svc);
  header(b, at, serviceNestBytes(svc), K.IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED);
  let i = at + NLA_HDRLEN;
  header(b, i, 6, K.IPVS_SVC_ATTR_AF);
  writeU16Host(b, afOf(family), i + 4);
  b[i + 6] = 0;
  b[i + 7] = 0;
  i += 8;
  if (isFwmarkKey(svc)) {
    header(b, i, 8, K.IPVS_SVC_ATTR_FWMARK);
    writeU32Host(b, svc.fwmark, i + 4);
    i += 8;
  } else {
    header(b, i, 6, K.IPVS_SVC_ATTR_PROTOCOL);
    writeU16Host(b, PROTOCOLS[svc.protocol], i + 4);
    b[i + 6] = 0;
    b[i + 7] = 0;
    header(b, i + 8, 20, K.IPVS_SVC_ATTR_ADDR);
    writeInetAddr(b, i + 12, svc.address);
    header(b, i + 28, 6, K.IPVS_SVC_ATTR_PORT);
    b.writeUInt16BE(svc.port, i + 32);
    b[i + 34] = 0;
    b[i + 35] = 0;
    i += 36;
  }
  i = writeStringAttr(b, i, K.IPVS_SVC_ATTR_SCHED_NAME, svc.scheduler);
  if (p?.engine !== undefined) i = writeStringAttr(b, i, K.IPVS_SVC_ATTR_PE_NAME, p.engine);
  // struct ip_vs_flags { u32 flags; u32 mask; }, host order; mask ~0 sets every flag as given.
  header(b, i, 12, K.IPVS_SVC_ATTR_FLAGS);
  writeU32Host(b, serviceFlags(svc) >>> 0, i + 4);
  writeU32Host(b, 0xffffffff, i + 8);
  header(b, i + 12, 8, K.IPVS_SVC_ATTR_TIMEOUT);
  writeU32Host(b, p?.timeoutSec ?? 0, i + 16);
  // The netmask: be32 mask for IPv4, host-order u32 prefix length for IPv6.
  header(b, i + 20, 8, K.IPVS_SVC_ATTR_NETMASK);
  if (family === 6) writeU32Host(b, p?.prefixLength ?? 128, i + 24);
  else if (p?.netmask !== undefined) writeIPv4(b, i + 24, p.netmask);
  else b.writeUInt32BE(prefixToMask(p?.prefixLength ?? 32), i + 24);
}

const STATS_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'connsPerSec', 'inPktsPerSec', 'outPktsPerSec',
  'inBytesPerSec', 'outBytesPerSec'] as const;
type StatsField = (typeof STATS_FIELDS)[number];

/**
 * Decode the payload `buf[start, end)` of IPVS_*_ATTR_STATS (width 32: u32 counters, u64 bytes)
 * or IPVS_*_ATTR_STATS64 (all u64). A counter the kernel did not send is an error, not a zero.
 */
export function decodeStats(buf: Buffer, start: number, end: number, width: 32 | 64): Stats {
  const out: Partial<Record<StatsField, bigint>> = {};
  forEachAttr(buf, start, end, (type, at, length) => {
    const field = type >= 1 && type <= 10 ? STATS_FIELDS[type - 1] : undefined;
    if (!field) return; // IPVS_STATS_ATTR_PAD
    const wide = width === 64 || field === 'inBytes' || field === 'outBytes';
    out[field] = wide ? u64At(buf, type, at, length) : BigInt(u32At(buf, type, at, length));
  });
  const missing = STATS_FIELDS.filter((f) => out[f] === undefined);
  if (missing.length > 0) throw new NetlinkDecodeError(start, `statistics without ${missing.join(', ')}`);
  return { width, ...(out as Record<StatsField, bigint>) };
}

/** Encode statistics as the kernel does (for tests): STATS (32) or STATS64 (64). */
export function encodeStats(w: AttrWriter, type: number, stats: Stats): AttrWriter {
  return w.nest(type, () => {
    STATS_FIELDS.forEach((f, i) => {
      if (stats.width === 64 || f === 'inBytes' || f === 'outBytes') w.u64(i + 1, stats[f]);
      else w.u32(i + 1, Number(stats[f]));
    });
  });
}

// The attribute helpers are the netlink layer's (written once there); re-exported under the names this module has always exported.
export { findAttr, header, required };

/** What decoders read: statistics cost most of a dump's decoding, and plan() needs none. */
export interface DecodeOptions {
  /** Decode the statistics (default true). */
  stats?: boolean;
}

export interface Span { at: number; length: number }

export function statsFrom(buf: Buffer, s32: Span | undefined, s64: Span | undefined): Stats | undefined {
  if (s64) return decodeStats(buf, s64.at, s64.at + s64.length, 64);
  return s32 ? decodeStats(buf, s32.at, s32.at + s32.length, 32) : undefined;
}

/**
 * Decode the payload of IPVS_CMD_ATTR_SERVICE (`buf[start, end)`) as the kernel reports a service.
 * The HASHED flag (the kernel's bookkeeping) is dropped; flag bits lvskit does not know are kept
 * in `unknownFlags`. `destinations` is empty: real servers come from their own dump.
 */
export function decodeService(buf: Buffer, start = 0, end = buf.length, options: DecodeOptions = {}): ServiceState {
  let af: number | undefined; let protocol: number | undefined; let addr: Span | undefined; let port: number | undefined;
  let fwmark: number | undefined; let scheduler: string | undefined; let flags: number | undefined; let timeout: number | undefined;
  let netmask: Span | undefined; let pe: string | undefined; let s32: Span | undefined; let s64: Span | undefined;
  forEachAttr(buf, start, end, (type, at, length) => {
    switch (type) {
      case K.IPVS_SVC_ATTR_AF: af = u16At(buf, type, at, length); break;
      case K.IPVS_SVC_ATTR_PROTOCOL: protocol = u16At(buf, type, at, length); break;
      case K.IPVS_SVC_ATTR_ADDR: addr = { at, length }; break;
      case K.IPVS_SVC_ATTR_PORT: port = be16At(buf, type, at, length); break;
      case K.IPVS_SVC_ATTR_FWMARK: fwmark = u32At(buf, type, at, length); break;
      case K.IPVS_SVC_ATTR_SCHED_NAME: scheduler = stringAt(buf, at, length); break;
      case K.IPVS_SVC_ATTR_FLAGS: flags = u32At(buf, type, at, Math.min(length, 4)); break;
      case K.IPVS_SVC_ATTR_TIMEOUT: timeout = u32At(buf, type, at, length); break;
      case K.IPVS_SVC_ATTR_NETMASK: netmask = { at, length }; break;
      case K.IPVS_SVC_ATTR_PE_NAME: pe = stringAt(buf, at, length); break;
      case K.IPVS_SVC_ATTR_STATS: s32 = { at, length }; break;
      case K.IPVS_SVC_ATTR_STATS64: s64 = { at, length }; break;
      default: break;
    }
  });
  const family = familyOfAf(required(af, 'IPVS_SVC_ATTR_AF', start), start);
  const name = required(scheduler, 'IPVS_SVC_ATTR_SCHED_NAME', start) as Scheduler;
  const bits = required(flags, 'IPVS_SVC_ATTR_FLAGS', start) & ~K.IP_VS_SVC_F_HASHED;
  let key: ServiceKey;
  if (fwmark !== undefined && fwmark !== 0) {
    key = { fwmark, family };
  } else {
    const number = required(protocol, 'IPVS_SVC_ATTR_PROTOCOL', start);
    const proto = byValue(PROTOCOLS, number);
    if (!proto) throw new NetlinkDecodeError(start, `unknown service protocol ${number}`);
    const a = required(addr, 'IPVS_SVC_ATTR_ADDR', start);
    key = { protocol: proto, address: inetAddrAt(buf, a, family), port: required(port, 'IPVS_SVC_ATTR_PORT', start) };
  }
  const svc: ServiceState = { ...key, family, scheduler: name, destinations: [] };
  const schedulerFlags = schedulerFlagNames(name, bits);
  if (schedulerFlags.length > 0) svc.schedulerFlags = schedulerFlags;
  if (bits & K.IP_VS_SVC_F_PERSISTENT) svc.persistence = persistenceAt(buf, required(timeout, 'IPVS_SVC_ATTR_TIMEOUT', start), required(netmask, 'IPVS_SVC_ATTR_NETMASK', start), pe, family);
  if (bits & K.IP_VS_SVC_F_ONEPACKET) svc.onePacket = true;
  const known = K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_ONEPACKET | K.IP_VS_SVC_F_SCHED1 | K.IP_VS_SVC_F_SCHED2 | K.IP_VS_SVC_F_SCHED3;
  if (bits & ~known) svc.unknownFlags = bits & ~known;
  if (options.stats ?? true) {
    const stats = statsFrom(buf, s32, s64);
    if (stats) svc.stats = stats;
  }
  return svc;
}

export function inetAddrAt(buf: Buffer, span: Span, family: Family): string {
  const need = family === 6 ? 16 : 4;
  if (span.length < need) {
    throw new NetlinkDecodeError(span.at - NLA_HDRLEN, `address of ${span.length} bytes for IPv${family}`, { expected: need, actual: span.length });
  }
  return family === 6 ? formatIPv6(buf.subarray(span.at, span.at + 16)) : `${buf[span.at]}.${buf[span.at + 1]}.${buf[span.at + 2]}.${buf[span.at + 3]}`;
}

function persistenceAt(buf: Buffer, timeoutSec: number, netmask: Span, pe: string | undefined, family: Family): Persistence {
  const p: Persistence = { timeoutSec };
  const raw = u32At(buf, K.IPVS_SVC_ATTR_NETMASK, netmask.at, netmask.length);
  if (family === 6) {
    p.prefixLength = raw;
  } else {
    const mask = buf.readUInt32BE(netmask.at);
    const prefix = maskToPrefix(mask);
    if (prefix === undefined) p.netmask = formatIPv4(buf.subarray(netmask.at, netmask.at + 4));
    else p.prefixLength = prefix;
  }
  if (pe !== undefined && pe !== '') p.engine = pe;
  return p;
}

/**
 * Find the nest of `type` among the top-level attributes of a genl payload (after the 4-byte
 * genlmsghdr) and return its payload span, or undefined.
 */
export function findNest(payload: Buffer, type: number): { start: number; end: number } | undefined {
  return findNestAt(payload, type, GENL_HDRLEN);
}

/** Decode IPVS_CMD_ATTR_SERVICE among a reply's top-level attributes. */
export function decodeServiceReply(attrs: readonly Attr[], options: DecodeOptions = {}): ServiceState {
  const nest = required(findAttr(attrs, K.IPVS_CMD_ATTR_SERVICE), 'IPVS_CMD_ATTR_SERVICE', 0);
  return decodeService(nest.value, 0, nest.value.length, options);
}
