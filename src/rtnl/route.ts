// layer: kernel client (rtnetlink)
// job: struct rtmsg + RTA_* codec: route requests (add/delete, with nexthop groups) and the Route a dump returns.
import { isIPv4, isIPv6 } from 'node:net';
import { encodeAddress, formatIPv4, formatIPv6, readS32Host, readU16Host, readU32Host, writeS32Host, writeU16Host, writeU32Host } from '../bytes.js';
import { AttrWriter, decodeAttrs, attrAddress } from '../netlink/attr.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type Policy } from '../netlink/policy.js';
import {
  AF_INET, AF_INET6, ROUTE_TYPES, RTA_DST, RTA_GATEWAY, RTA_MULTIPATH, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_SRC, RTA_TABLE,
  RTNH_F_ONLINK, RTPROT_BOOT, RT_TABLE_MAIN, RT_TABLE_UNSPEC, SCOPES, type RouteType, type Scope,
} from './constants.js';

/** sizeof(struct rtmsg). */
export const RTMSG_LEN = 12;
/** sizeof(struct rtnexthop). */
const RTNEXTHOP_LEN = 8;

/** struct rtmsg. */
export interface RtMsg {
  family: number;
  dstLength: number;
  srcLength: number;
  tos: number;
  /** rtm_table: the table when it is below 256, else RT_TABLE_UNSPEC and RTA_TABLE carries it. */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
}

/** One path of a multipath route (`nexthop via A dev D weight W onlink`). */
export interface Nexthop {
  via?: string;
  ifindex?: number;
  /** 1..256 (`weight`; the kernel keeps weight - 1 in rtnh_hops). Default 1. */
  weight?: number;
  onlink?: boolean;
}

/** A route as lvskit adds, deletes and reads it. */
export interface RouteSpec {
  family: 4 | 6;
  /** Destination network address (`0.0.0.0` with prefix 0 for a default route). */
  dst: string;
  prefixLength: number;
  /** Routing table, 1..2^32-1; default 254 (main). */
  table?: number;
  /** Default unicast. */
  type?: RouteType;
  /** RTPROT_*; default RTPROT_BOOT, as `ip route add`. */
  protocol?: number;
  /** Default `global` (link for a route without gateway is the caller's choice, as with `ip route`). */
  scope?: Scope;
  tos?: number;
  /** Gateway (RTA_GATEWAY). */
  via?: string;
  /** Output link (RTA_OIF). */
  ifindex?: number;
  /** Preferred source address (RTA_PREFSRC; keepalived and `ip route` call it `src`). */
  prefsrc?: string;
  /** Source network (RTA_SRC; IPv6 only, keepalived's `from`). */
  from?: string;
  fromLength?: number;
  /** RTA_PRIORITY (`metric`, `priority`, `preference`). */
  metric?: number;
  /** RTNH_F_ONLINK on the route. */
  onlink?: boolean;
  /** RTA_MULTIPATH. */
  nexthops?: Nexthop[];
}

export function encodeRtMsg(m: RtMsg): Buffer {
  const buf = Buffer.alloc(RTMSG_LEN);
  buf.writeUInt8(m.family, 0);
  buf.writeUInt8(m.dstLength, 1);
  buf.writeUInt8(m.srcLength, 2);
  buf.writeUInt8(m.tos, 3);
  buf.writeUInt8(m.table, 4);
  buf.writeUInt8(m.protocol, 5);
  buf.writeUInt8(m.scope, 6);
  buf.writeUInt8(m.type, 7);
  writeU32Host(buf, m.flags, 8);
  return buf;
}

export function decodeRtMsg(payload: Buffer): RtMsg {
  if (payload.length < RTMSG_LEN) {
    throw new NetlinkDecodeError(0, `rtmsg needs ${RTMSG_LEN} bytes, got ${payload.length}`, { expected: RTMSG_LEN, actual: payload.length });
  }
  return {
    family: payload.readUInt8(0), dstLength: payload.readUInt8(1), srcLength: payload.readUInt8(2), tos: payload.readUInt8(3),
    table: payload.readUInt8(4), protocol: payload.readUInt8(5), scope: payload.readUInt8(6), type: payload.readUInt8(7),
    flags: readU32Host(payload, 8),
  };
}

function checkAddress(field: string, address: string, family: 4 | 6): void {
  if (!(family === 4 ? isIPv4(address) : isIPv6(address) && !address.includes('%'))) throw new TypeError(`${field}: ${JSON.stringify(address)} is not an IPv${family} address`);
}

/** Check a RouteSpec before anything is sent; throws TypeError/RangeError naming the field. */
export function validateRouteSpec(spec: RouteSpec): void {
  const max = spec.family === 4 ? 32 : 128;
  checkAddress('dst', spec.dst, spec.family);
  if (!Number.isInteger(spec.prefixLength) || spec.prefixLength < 0 || spec.prefixLength > max) {
    throw new RangeError(`prefixLength: ${spec.prefixLength} is outside 0..${max} for ${spec.dst}`);
  }
  if (spec.table !== undefined && (!Number.isInteger(spec.table) || spec.table < 1 || spec.table > 0xffffffff)) {
    throw new RangeError(`table: ${spec.table} is outside 1..4294967295`);
  }
  if (spec.via !== undefined) checkAddress('via', spec.via, spec.family);
  if (spec.prefsrc !== undefined) checkAddress('prefsrc', spec.prefsrc, spec.family);
  if (spec.from !== undefined) checkAddress('from', spec.from, spec.family);
  if (spec.metric !== undefined && (!Number.isInteger(spec.metric) || spec.metric < 0 || spec.metric > 0xffffffff)) {
    throw new RangeError(`metric: ${spec.metric} is outside 0..4294967295`);
  }
  if (spec.scope !== undefined && !Object.hasOwn(SCOPES, spec.scope)) throw new TypeError(`scope: unknown scope ${JSON.stringify(spec.scope)}`);
  if (spec.type !== undefined && !ROUTE_TYPES.includes(spec.type)) throw new TypeError(`type: unknown route type ${JSON.stringify(spec.type)}`);
  for (const [i, nh] of (spec.nexthops ?? []).entries()) {
    if (nh.via !== undefined) checkAddress(`nexthops[${i}].via`, nh.via, spec.family);
    if (nh.weight !== undefined && (!Number.isInteger(nh.weight) || nh.weight < 1 || nh.weight > 256)) {
      throw new RangeError(`nexthops[${i}].weight: ${nh.weight} is outside 1..256`);
    }
  }
}

/** RTA_MULTIPATH's payload: struct rtnexthop after struct rtnexthop, each followed by its RTA_GATEWAY. */
function encodeNexthops(nexthops: readonly Nexthop[]): Buffer {
  const parts = nexthops.map((nh) => {
    const attrs = nh.via !== undefined ? new AttrWriter(32).address(RTA_GATEWAY, nh.via).toBuffer() : Buffer.alloc(0);
    const head = Buffer.alloc(RTNEXTHOP_LEN);
    writeU16Host(head, RTNEXTHOP_LEN + attrs.length, 0);
    head.writeUInt8(nh.onlink ? RTNH_F_ONLINK : 0, 2);
    head.writeUInt8((nh.weight ?? 1) - 1, 3);
    writeS32Host(head, nh.ifindex ?? 0, 4);
    return Buffer.concat([head, attrs]);
  });
  return Buffer.concat(parts);
}

function decodeNexthops(buf: Buffer): Nexthop[] {
  const out: Nexthop[] = [];
  let at = 0;
  while (at + RTNEXTHOP_LEN <= buf.length) {
    const len = readU16Host(buf, at);
    if (len < RTNEXTHOP_LEN || at + len > buf.length) throw new NetlinkDecodeError(at, `rtnexthop length ${len} does not fit`);
    const nh: Nexthop = { weight: buf.readUInt8(at + 3) + 1 };
    const ifindex = readS32Host(buf, at + 4);
    if (ifindex !== 0) nh.ifindex = ifindex;
    if (buf.readUInt8(at + 2) & RTNH_F_ONLINK) nh.onlink = true;
    for (const a of decodeAttrs(buf, at + RTNEXTHOP_LEN, at + len)) if (a.type === RTA_GATEWAY) nh.via = attrAddress(a);
    out.push(nh);
    at += (len + 3) & ~3;
  }
  return out;
}

/**
 * Payload of an RTM_NEWROUTE or RTM_DELROUTE for `spec` (validated first), in iproute2's attribute
 * order. A delete sends scope `nowhere` unless a scope is given, as `ip route del` does, so the
 * kernel matches a route of any scope.
 */
export function encodeRouteRequest(spec: RouteSpec, op: 'add' | 'delete' = 'add'): Buffer {
  validateRouteSpec(spec);
  const table = spec.table ?? RT_TABLE_MAIN;
  const header = encodeRtMsg({
    family: spec.family === 4 ? AF_INET : AF_INET6, dstLength: spec.prefixLength, srcLength: spec.from !== undefined ? spec.fromLength ?? (spec.family === 4 ? 32 : 128) : 0,
    tos: spec.tos ?? 0, table: table < 256 ? table : RT_TABLE_UNSPEC, protocol: spec.protocol ?? (op === 'add' ? RTPROT_BOOT : 0),
    scope: SCOPES[spec.scope ?? (op === 'add' ? 'global' : 'nowhere')], type: ROUTE_TYPES.indexOf(spec.type ?? 'unicast'),
    flags: spec.onlink ? RTNH_F_ONLINK : 0,
  });
  const w = new AttrWriter();
  w.address(RTA_DST, spec.dst);
  if (spec.from !== undefined) w.address(RTA_SRC, spec.from);
  if (spec.via !== undefined) w.address(RTA_GATEWAY, spec.via);
  if (spec.metric !== undefined) w.u32(RTA_PRIORITY, spec.metric);
  if (spec.prefsrc !== undefined) w.address(RTA_PREFSRC, spec.prefsrc);
  if (spec.ifindex !== undefined) w.u32(RTA_OIF, spec.ifindex);
  if (table >= 256) w.u32(RTA_TABLE, table);
  if (spec.nexthops && spec.nexthops.length > 0) w.bytes(RTA_MULTIPATH, encodeNexthops(spec.nexthops));
  return Buffer.concat([header, w.toBuffer()]);
}

/** Payload of an RTM_GETROUTE dump of one family (or both). */
export function encodeRouteDump(family?: 4 | 6): Buffer {
  return encodeRtMsg({ family: family === 4 ? AF_INET : family === 6 ? AF_INET6 : 0, dstLength: 0, srcLength: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0 });
}

const routePolicy = {
  [RTA_DST]: { name: 'dst', kind: 'address' },
  [RTA_SRC]: { name: 'src', kind: 'address' },
  [RTA_OIF]: { name: 'oif', kind: 'u32' },
  [RTA_GATEWAY]: { name: 'gateway', kind: 'address' },
  [RTA_PRIORITY]: { name: 'priority', kind: 'u32' },
  [RTA_PREFSRC]: { name: 'prefsrc', kind: 'address' },
  [RTA_MULTIPATH]: { name: 'multipath', kind: 'binary' },
  [RTA_TABLE]: { name: 'table', kind: 'u32' },
} as const satisfies Policy;

/** A route as the kernel describes it: a RouteSpec with every header field filled in. */
export type Route = Omit<RouteSpec, 'scope'> & Required<Pick<RouteSpec, 'table' | 'type' | 'protocol'>> & { scope: Scope | 'other' };

/** Decode the payload of an RTM_NEWROUTE / RTM_DELROUTE message; undefined for families other than IPv4/IPv6. */
export function decodeRoute(payload: Buffer): Route | undefined {
  const m = decodeRtMsg(payload);
  if (m.family !== AF_INET && m.family !== AF_INET6) return undefined;
  const family = m.family === AF_INET ? 4 : 6;
  const a = parseAttrs(payload.subarray(RTMSG_LEN), routePolicy);
  const scopeName = (Object.keys(SCOPES) as Scope[]).find((k) => SCOPES[k] === m.scope);
  const r: Route = {
    family, dst: a.dst ?? (family === 4 ? '0.0.0.0' : '::'), prefixLength: m.dstLength, table: a.table ?? m.table,
    type: ROUTE_TYPES[m.type] ?? 'unspec', protocol: m.protocol, scope: scopeName ?? 'other',
  };
  if (m.tos !== 0) r.tos = m.tos;
  if (a.src !== undefined) { r.from = a.src; r.fromLength = m.srcLength; }
  if (a.prefsrc !== undefined) r.prefsrc = a.prefsrc;
  if (a.gateway !== undefined) r.via = a.gateway;
  if (a.oif !== undefined) r.ifindex = a.oif;
  if (a.priority !== undefined) r.metric = a.priority;
  if (m.flags & RTNH_F_ONLINK) r.onlink = true;
  if (a.multipath !== undefined) r.nexthops = decodeNexthops(a.multipath);
  return r;
}

// networkAddress lives in bytes.ts (the configuration reader uses it without loading this codec).
export { networkAddress } from '../bytes.js';
