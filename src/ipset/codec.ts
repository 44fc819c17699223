// layer: kernel client (ipset)
// job: ipset messages: nfgenmsg + command attributes encoded as `ipset` sends them, and the kernel's replies decoded.
import { AttrWriter, decodeAttrs, requiredAttr } from '../netlink/attr.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER } from '../netlink/constants.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type ParsedAttrs, type Policy } from '../netlink/policy.js';
import {
  IPSET_ATTR_CADT_FLAGS, IPSET_ATTR_DATA, IPSET_ATTR_FAMILY, IPSET_ATTR_FLAGS, IPSET_ATTR_HASHSIZE, IPSET_ATTR_LINENO,
  IPSET_ATTR_MAXELEM, IPSET_ATTR_PROTOCOL, IPSET_ATTR_REVISION, IPSET_ATTR_SETNAME, IPSET_ATTR_SETNAME2,
  IPSET_ATTR_TIMEOUT, IPSET_ATTR_TYPENAME, IPSET_FLAG_NOMATCH, IPSET_FLAG_WITH_COMMENT, IPSET_FLAG_WITH_COUNTERS,
  IPSET_FLAG_WITH_FORCEADD, IPSET_FLAG_WITH_SKBINFO, IPSET_MAXNAMELEN, NFGENMSG_LEN, NFNETLINK_V0, NFPROTO_IPV4,
  NFPROTO_IPV6,
} from './constants.js';
import { encodeEntryData, protocolName, type IpsetMember, type WireEntry } from './entry.js';

/** Set families: `inet` (IPv4) and `inet6` (IPv6). */
export type IpsetFamily = 'inet' | 'inet6';
/** The set types lvskit creates. */
export type IpsetType = 'hash:ip' | 'hash:net' | 'hash:ip,port';

/** NFPROTO_* number of a family. */
export function familyNumber(family: IpsetFamily): number {
  return family === 'inet6' ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/** Family name of an NFPROTO_* number (`unspec` for list:set). */
export function familyName(n: number): IpsetFamily | 'unspec' {
  return n === NFPROTO_IPV6 ? 'inet6' : n === NFPROTO_IPV4 ? 'inet' : 'unspec';
}

/** Throws RangeError unless `name` is a set name the kernel accepts (1…31 bytes, no NUL). */
export function checkSetName(name: string, field = 'name'): string {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (typeof name !== 'string' || bytes === 0 || bytes >= IPSET_MAXNAMELEN || name.includes('\0')) {
    throw new RangeError(`${field}: a set name is 1…${IPSET_MAXNAMELEN - 1} bytes without NUL: ${JSON.stringify(name)}`);
  }
  return name;
}

/** struct nfgenmsg as ipset sends it: family AF_INET, version 0, res_id 0 (big-endian). */
export function encodeNfgenmsg(family = NFPROTO_IPV4): Buffer {
  const buf = Buffer.alloc(NFGENMSG_LEN);
  buf[0] = family;
  buf[1] = NFNETLINK_V0;
  buf.writeUInt16BE(0, 2);
  return buf;
}

/** Every ipset request: nfgenmsg, IPSET_ATTR_PROTOCOL, then what `build` writes. */
function request(protocol: number, build?: (w: AttrWriter) => void): Buffer {
  const w = new AttrWriter(64);
  w.u8(IPSET_ATTR_PROTOCOL, protocol);
  build?.(w);
  return Buffer.concat([encodeNfgenmsg(), w.toBuffer()]);
}

/** IPSET_CMD_PROTOCOL: ask the kernel for its protocol range. */
export function encodeProtocolRequest(protocol: number): Buffer {
  return request(protocol);
}

/** IPSET_CMD_TYPE: ask the kernel for the revisions of a set type in a family. */
export function encodeTypeRequest(protocol: number, type: string, family: IpsetFamily): Buffer {
  return request(protocol, (w) => w.string(IPSET_ATTR_TYPENAME, type).u8(IPSET_ATTR_FAMILY, familyNumber(family)));
}

/** IPSET_CMD_DESTROY, _FLUSH, _HEADER, _LIST or _SAVE of one set (or all, for list/save without a name). */
export function encodeNameRequest(protocol: number, name?: string, listFlags?: number): Buffer {
  return request(protocol, (w) => {
    if (name !== undefined) w.string(IPSET_ATTR_SETNAME, checkSetName(name));
    if (listFlags !== undefined && listFlags !== 0) w.be32(IPSET_ATTR_FLAGS | NLA_F_NET_BYTEORDER, listFlags);
  });
}

/** IPSET_CMD_RENAME (from → to) and IPSET_CMD_SWAP (a ↔ b). */
export function encodeTwoNameRequest(protocol: number, name: string, name2: string): Buffer {
  return request(protocol, (w) => w.string(IPSET_ATTR_SETNAME, checkSetName(name)).string(IPSET_ATTR_SETNAME2, checkSetName(name2, 'name2')));
}

/** What a new set looks like. */
export interface CreateSpec {
  name: string;
  type: string;
  family: IpsetFamily;
  /** Type revision; the client asks the kernel for the newest (IPSET_CMD_TYPE). */
  revision: number;
  /** Initial hash size (a power of two; the kernel rounds). */
  hashSize?: number;
  /** Maximal number of elements. */
  maxElements?: number;
  /** Default entry timeout in seconds; 0 = entries may carry timeouts but none by default. */
  timeoutSec?: number;
  /** Per-element packet and byte counters. */
  counters?: boolean;
  /** Per-element comments. */
  comment?: boolean;
}

/** IPSET_CMD_CREATE: name, type, revision, family, and IPSET_ATTR_DATA with the options. */
export function encodeCreateRequest(protocol: number, spec: CreateSpec): Buffer {
  const flags = (spec.counters ? IPSET_FLAG_WITH_COUNTERS : 0) | (spec.comment ? IPSET_FLAG_WITH_COMMENT : 0);
  return request(protocol, (w) => {
    w.string(IPSET_ATTR_SETNAME, checkSetName(spec.name)).string(IPSET_ATTR_TYPENAME, spec.type)
      .u8(IPSET_ATTR_REVISION, spec.revision).u8(IPSET_ATTR_FAMILY, familyNumber(spec.family));
    w.nest(IPSET_ATTR_DATA, (d) => {
      if (spec.timeoutSec !== undefined) d.be32(IPSET_ATTR_TIMEOUT | NLA_F_NET_BYTEORDER, spec.timeoutSec);
      if (flags !== 0) d.be32(IPSET_ATTR_CADT_FLAGS | NLA_F_NET_BYTEORDER, flags);
      if (spec.hashSize !== undefined) d.be32(IPSET_ATTR_HASHSIZE | NLA_F_NET_BYTEORDER, spec.hashSize);
      if (spec.maxElements !== undefined) d.be32(IPSET_ATTR_MAXELEM | NLA_F_NET_BYTEORDER, spec.maxElements);
    });
  });
}

/**
 * IPSET_CMD_ADD, _DEL or _TEST of one element in IPSET_ATTR_DATA. `ipset` sends IPSET_ATTR_LINENO
 * 0 inside the element for add and del, none for test.
 */
export function encodeEntryRequest(protocol: number, name: string, entry: WireEntry, lineno?: number): Buffer {
  return request(protocol, (w) => w.string(IPSET_ATTR_SETNAME, checkSetName(name)).bytes(IPSET_ATTR_DATA | NLA_F_NESTED, encodeEntryData(entry, lineno).subarray(4)));
}

/** The bytes of a batch message before its elements: nfgenmsg, PROTOCOL, SETNAME, LINENO, ADT header. */
export function adtBatchHead(protocol: number, name: string, firstLineno: number): Buffer {
  return request(protocol, (w) => w.string(IPSET_ATTR_SETNAME, checkSetName(name)).be32(IPSET_ATTR_LINENO | NLA_F_NET_BYTEORDER, firstLineno));
}

// ---- replies ---------------------------------------------------------------------------------

const ipPolicy = {
  1: { name: 'ipv4', kind: 'address' },
  2: { name: 'ipv6', kind: 'address' },
} as const satisfies Policy;

/** Element attributes in listings (IPSET_ATTR_ADT → IPSET_ATTR_DATA). */
const memberPolicy = {
  1: { name: 'ip', kind: 'nested', policy: ipPolicy },
  3: { name: 'cidr', kind: 'u8' },
  4: { name: 'port', kind: 'u16' },
  6: { name: 'timeout', kind: 'u32' },
  7: { name: 'proto', kind: 'u8' },
  8: { name: 'cadtFlags', kind: 'u32' },
  24: { name: 'bytes', kind: 'u64' },
  25: { name: 'packets', kind: 'u64' },
  26: { name: 'comment', kind: 'string' },
} as const satisfies Policy;

/** Create data in listings (IPSET_ATTR_DATA at command level). */
const headerDataPolicy = {
  6: { name: 'timeout', kind: 'u32' },
  8: { name: 'cadtFlags', kind: 'u32' },
  17: { name: 'initval', kind: 'u32' },
  18: { name: 'hashSize', kind: 'u32' },
  19: { name: 'maxElements', kind: 'u32' },
  20: { name: 'netmask', kind: 'u8' },
  21: { name: 'bucketSize', kind: 'u8' },
  23: { name: 'size', kind: 'u32' },
  24: { name: 'elements', kind: 'u32' },
  25: { name: 'references', kind: 'u32' },
  26: { name: 'memsize', kind: 'u32' },
} as const satisfies Policy;

/** Command-level attributes of every ipset reply. */
const replyPolicy = {
  1: { name: 'protocol', kind: 'u8' },
  2: { name: 'setName', kind: 'string' },
  3: { name: 'typeName', kind: 'string' },
  4: { name: 'revision', kind: 'u8' },
  5: { name: 'family', kind: 'u8' },
  7: { name: 'data', kind: 'nested', policy: headerDataPolicy },
  8: { name: 'adt', kind: 'nestedArray', policy: memberPolicy },
  9: { name: 'lineno', kind: 'u32' },
  10: { name: 'min', kind: 'u8' },
  11: { name: 'index', kind: 'u16' },
} as const satisfies Policy;

type Reply = ParsedAttrs<typeof replyPolicy>;

function decodeReply(payload: Buffer, what: string): Reply {
  if (payload.length < NFGENMSG_LEN) {
    throw new NetlinkDecodeError(0, `${what}: ${payload.length} bytes, too short for nfgenmsg`, { expected: NFGENMSG_LEN, actual: payload.length });
  }
  return parseAttrs(payload.subarray(NFGENMSG_LEN), replyPolicy);
}

/** A command-level attribute the kernel's reply to `what` must carry (NetlinkDecodeError naming both). */
function required<T>(value: T | undefined, what: string, attr: string): T {
  return requiredAttr(value, attr, 0, what);
}

/** The kernel's protocol range (reply to IPSET_CMD_PROTOCOL). */
export interface ProtocolRange { protocol: number; protocolMin: number }

export function decodeProtocolReply(payload: Buffer): ProtocolRange {
  const r = decodeReply(payload, 'IPSET_CMD_PROTOCOL');
  const protocol = required(r.protocol, 'IPSET_CMD_PROTOCOL', 'IPSET_ATTR_PROTOCOL');
  return { protocol, protocolMin: r.min ?? protocol };
}

/** A set type as the kernel supports it (reply to IPSET_CMD_TYPE). */
export interface IpsetTypeInfo { type: string; family: IpsetFamily | 'unspec'; revision: number; revisionMin: number }

export function decodeTypeReply(payload: Buffer): IpsetTypeInfo {
  const r = decodeReply(payload, 'IPSET_CMD_TYPE');
  const revision = required(r.revision, 'IPSET_CMD_TYPE', 'IPSET_ATTR_REVISION');
  return {
    type: required(r.typeName, 'IPSET_CMD_TYPE', 'IPSET_ATTR_TYPENAME'),
    family: familyName(required(r.family, 'IPSET_CMD_TYPE', 'IPSET_ATTR_FAMILY')), revision, revisionMin: r.min ?? revision,
  };
}

/** A set's identity (reply to IPSET_CMD_HEADER). */
export interface IpsetSetHeader { name: string; type: string; family: IpsetFamily | 'unspec'; revision: number }

export function decodeHeaderReply(payload: Buffer): IpsetSetHeader {
  const r = decodeReply(payload, 'IPSET_CMD_HEADER');
  return {
    name: required(r.setName, 'IPSET_CMD_HEADER', 'IPSET_ATTR_SETNAME'),
    type: required(r.typeName, 'IPSET_CMD_HEADER', 'IPSET_ATTR_TYPENAME'),
    family: familyName(required(r.family, 'IPSET_CMD_HEADER', 'IPSET_ATTR_FAMILY')),
    revision: required(r.revision, 'IPSET_CMD_HEADER', 'IPSET_ATTR_REVISION'),
  };
}

/** A set as listed: identity, options and state (`ipset list -t`). */
export interface IpsetSetInfo extends IpsetSetHeader {
  /** Kernel index (protocol ≥ 7). */
  index?: number;
  hashSize?: number;
  maxElements?: number;
  bucketSize?: number;
  /** Hash seed. */
  initval?: number;
  netmask?: number;
  /** Default timeout in seconds, present when the set supports timeouts. */
  timeoutSec?: number;
  counters: boolean;
  comment: boolean;
  forceadd: boolean;
  skbinfo: boolean;
  /** Kernel memory of the set, bytes. */
  memoryBytes?: number;
  /** References from the kernel, e.g. iptables rules using the set. */
  references?: number;
  /** Number of entries (including expired ones not yet collected). */
  entryCount?: number;
}

/** A set with its members (`ipset list`). */
export interface IpsetListing extends IpsetSetInfo { members: IpsetMember[] }

/** One message of a LIST/SAVE dump: a set's header (first message of the set) and/or some members. */
export interface ListChunk { name: string; info?: IpsetSetInfo; members: IpsetMember[] }

function decodeInfo(r: Reply, name: string): IpsetSetInfo {
  const d = r.data ?? { unknown: [] };
  const flags = d.cadtFlags ?? 0;
  const info: IpsetSetInfo = {
    name, type: required(r.typeName, 'IPSET_CMD_LIST', 'IPSET_ATTR_TYPENAME'),
    family: familyName(required(r.family, 'IPSET_CMD_LIST', 'IPSET_ATTR_FAMILY')),
    revision: required(r.revision, 'IPSET_CMD_LIST', 'IPSET_ATTR_REVISION'),
    counters: (flags & IPSET_FLAG_WITH_COUNTERS) !== 0, comment: (flags & IPSET_FLAG_WITH_COMMENT) !== 0,
    forceadd: (flags & IPSET_FLAG_WITH_FORCEADD) !== 0, skbinfo: (flags & IPSET_FLAG_WITH_SKBINFO) !== 0,
  };
  const optional: [keyof IpsetSetInfo, number | undefined][] = [
    ['index', r.index], ['hashSize', d.hashSize], ['maxElements', d.maxElements], ['bucketSize', d.bucketSize],
    ['initval', d.initval], ['netmask', d.netmask], ['timeoutSec', d.timeout], ['memoryBytes', d.memsize],
    ['references', d.references], ['entryCount', d.elements ?? d.size],
  ];
  for (const [key, value] of optional) if (value !== undefined) (info as unknown as Record<string, number>)[key] = value;
  return info;
}

function decodeMember(m: ParsedAttrs<typeof memberPolicy>): IpsetMember {
  const member: IpsetMember = {};
  const address = m.ip?.ipv4 ?? m.ip?.ipv6;
  if (address !== undefined) member.address = address;
  if (m.cidr !== undefined) member.cidr = m.cidr;
  if (m.port !== undefined) {
    member.port = m.port;
    member.protocol = protocolName(m.proto ?? 6);
  }
  if (m.timeout !== undefined) member.timeoutSec = m.timeout;
  if (m.cadtFlags !== undefined && (m.cadtFlags & IPSET_FLAG_NOMATCH) !== 0) member.nomatch = true;
  if (m.packets !== undefined) member.packets = m.packets;
  if (m.bytes !== undefined) member.bytes = m.bytes;
  if (m.comment !== undefined) member.comment = m.comment;
  return member;
}

/** Decode one IPSET_CMD_LIST/SAVE dump message. */
export function decodeListMessage(payload: Buffer): ListChunk {
  const r = decodeReply(payload, 'IPSET_CMD_LIST');
  const name = required(r.setName, 'IPSET_CMD_LIST', 'IPSET_ATTR_SETNAME');
  const chunk: ListChunk = { name, members: (r.adt ?? []).map(decodeMember) };
  if (r.typeName !== undefined) chunk.info = decodeInfo(r, name);
  return chunk;
}

/**
 * The line number the kernel wrote into the echoed request of a failed batch (IPSET_ATTR_LINENO
 * at command level: the failing element's own line number). `request` is the echoed nfgenmsg and
 * attributes; undefined when absent.
 */
export function decodeEchoedLineno(request: Buffer): number | undefined {
  if (request.length < NFGENMSG_LEN) return undefined;
  let attrs;
  try {
    attrs = decodeAttrs(request, NFGENMSG_LEN);
  } catch {
    return undefined; // a truncated echo: the line number is unknown, the error itself stands
  }
  const lineno = attrs.find((a) => a.type === IPSET_ATTR_LINENO && a.value.length === 4);
  return lineno?.value.readUInt32BE(0);
}
