// layer: kernel client (rtnetlink)
// job: struct ifaddrmsg + IFA_* codec: address requests (add/delete with label) and the Address a dump returns.
import { isIPv4, isIPv6 } from 'node:net';
import { readU32Host, writeU32Host } from '../bytes.js';
import { AttrWriter } from '../netlink/attr.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type Policy } from '../netlink/policy.js';
import {
  AF_INET, AF_INET6, IFA_ADDRESS, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFNAME_MAX, INFINITY_LIFE_TIME, SCOPES, type Scope,
} from './constants.js';

/** sizeof(struct ifaddrmsg). */
export const IFADDRMSG_LEN = 8;

/** struct ifaddrmsg. */
export interface IfAddrMsg {
  family: number;
  prefixLength: number;
  /** ifa_flags: the low 8 bits of IFA_F_*. */
  flags: number;
  /** RT_SCOPE_*. */
  scope: number;
  index: number;
}

/** An interface address as the kernel describes it. */
export interface Address {
  family: 4 | 6;
  ifindex: number;
  /** The interface's own address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6). */
  address: string;
  prefixLength: number;
  /** IPv4 label, e.g. `eth1:2` (the interface name when none was given). */
  label?: string;
  broadcast?: string;
  /** Peer address of a point-to-point IPv4 link, when it differs from `address`. */
  peer?: string;
  /** RT_SCOPE_* by name; `other` for a numeric scope without one. */
  scope: Scope | 'other';
  /** IFA_F_* (from IFA_FLAGS when present, else ifa_flags). */
  flags: number;
}

/** What identifies an address to add or delete. */
export interface AddressSpec {
  ifindex: number;
  /** IPv4 or IPv6 address text, without prefix. */
  address: string;
  /** Default 32 for IPv4, 128 for IPv6. */
  prefixLength?: number;
  /** IPv4 only: label such as `eth1:2`; must begin with the interface name (checked by the client). */
  label?: string;
  /** IPv4 only. */
  broadcast?: string;
  /** Default `global`. */
  scope?: Scope;
  /** IFA_F_* to set, e.g. IFA_F_NODAD for IPv6 VIPs. */
  flags?: number;
  /**
   * Preferred lifetime in seconds (IFA_CACHEINFO, valid lifetime forever), as `ip addr add ...
   * preferred_lft N`; 0 marks an IPv6 address deprecated (not chosen as a source). Default: forever.
   */
  preferredLifetimeS?: number;
}

export function encodeIfAddrMsg(msg: IfAddrMsg): Buffer {
  const buf = Buffer.alloc(IFADDRMSG_LEN);
  buf.writeUInt8(msg.family, 0);
  buf.writeUInt8(msg.prefixLength, 1);
  buf.writeUInt8(msg.flags & 0xff, 2);
  buf.writeUInt8(msg.scope, 3);
  writeU32Host(buf, msg.index, 4);
  return buf;
}

export function decodeIfAddrMsg(payload: Buffer): IfAddrMsg {
  if (payload.length < IFADDRMSG_LEN) {
    throw new NetlinkDecodeError(0, `ifaddrmsg needs ${IFADDRMSG_LEN} bytes, got ${payload.length}`,
      { expected: IFADDRMSG_LEN, actual: payload.length });
  }
  return {
    family: payload.readUInt8(0),
    prefixLength: payload.readUInt8(1),
    flags: payload.readUInt8(2),
    scope: payload.readUInt8(3),
    index: readU32Host(payload, 4),
  };
}

/**
 * Check an AddressSpec before anything is sent: family, prefix range, label rules as iproute2
 * applies them (IPv4 only, at most 15 bytes). Throws TypeError/RangeError naming the field.
 */
export function validateAddressSpec(spec: AddressSpec): 4 | 6 {
  const family = isIPv4(spec.address) ? 4 : isIPv6(spec.address) && !spec.address.includes('%') ? 6 : undefined;
  if (!family) throw new TypeError(`address: not an IPv4 or IPv6 address: ${JSON.stringify(spec.address)}`);
  const max = family === 4 ? 32 : 128;
  const prefix = spec.prefixLength ?? max;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new RangeError(`prefixLength: ${spec.prefixLength} is outside 0..${max} for ${spec.address}`);
  }
  if (!Number.isInteger(spec.ifindex) || spec.ifindex <= 0) throw new RangeError(`ifindex: ${spec.ifindex} is not a link index`);
  if (spec.label !== undefined) {
    if (family === 6) throw new TypeError(`label: IPv6 addresses have no label (${spec.address} label ${spec.label})`);
    if (Buffer.byteLength(spec.label) > IFNAME_MAX || spec.label === '') {
      throw new RangeError(`label: ${JSON.stringify(spec.label)} must be 1..${IFNAME_MAX} bytes`);
    }
  }
  if (spec.broadcast !== undefined && (family === 6 || !isIPv4(spec.broadcast))) {
    throw new TypeError(`broadcast: ${JSON.stringify(spec.broadcast)} is not an IPv4 broadcast for ${spec.address}`);
  }
  if (spec.scope !== undefined && !Object.hasOwn(SCOPES, spec.scope)) {
    throw new TypeError(`scope: unknown scope ${JSON.stringify(spec.scope)} (${Object.keys(SCOPES).join(', ')})`);
  }
  const lft = spec.preferredLifetimeS;
  if (lft !== undefined && (!Number.isInteger(lft) || lft < 0 || lft > INFINITY_LIFE_TIME)) {
    throw new RangeError(`preferredLifetimeS: ${JSON.stringify(lft)} is not a lifetime in seconds (0..${INFINITY_LIFE_TIME})`);
  }
  return family;
}

/** Payload of an RTM_NEWADDR or RTM_DELADDR for `spec` (validated first). */
export function encodeAddressRequest(spec: AddressSpec): Buffer {
  const family = validateAddressSpec(spec);
  const header = encodeIfAddrMsg({
    family: family === 4 ? AF_INET : AF_INET6,
    prefixLength: spec.prefixLength ?? (family === 4 ? 32 : 128),
    flags: spec.flags ?? 0,
    scope: SCOPES[spec.scope ?? 'global'],
    index: spec.ifindex,
  });
  // Attributes in the order iproute2 sends them (`ip addr add A/N dev D label L brd B`): the
  // address as both IFA_LOCAL and IFA_ADDRESS; IFA_FLAGS only for flags beyond ifa_flags' 8 bits.
  const w = new AttrWriter();
  w.address(IFA_LOCAL, spec.address);
  if (spec.label !== undefined) w.string(IFA_LABEL, spec.label);
  w.address(IFA_ADDRESS, spec.address);
  if (spec.broadcast !== undefined) w.ipv4(IFA_BROADCAST, spec.broadcast);
  if (spec.flags !== undefined && spec.flags > 0xff) w.u32(IFA_FLAGS, spec.flags);
  if (spec.preferredLifetimeS !== undefined) {
    // struct ifa_cacheinfo { ifa_prefered, ifa_valid, cstamp, tstamp }, host order.
    const info = Buffer.alloc(16);
    writeU32Host(info, spec.preferredLifetimeS, 0);
    writeU32Host(info, INFINITY_LIFE_TIME, 4);
    w.bytes(IFA_CACHEINFO, info);
  }
  return Buffer.concat([header, w.toBuffer()]);
}

/** Payload of an RTM_GETADDR dump for one family (or both). */
export function encodeAddressDump(family?: 4 | 6): Buffer {
  return encodeIfAddrMsg({ family: family === 4 ? AF_INET : family === 6 ? AF_INET6 : 0, prefixLength: 0, flags: 0, scope: 0, index: 0 });
}

const addressPolicy = {
  [IFA_ADDRESS]: { name: 'address', kind: 'address' },
  [IFA_LOCAL]: { name: 'local', kind: 'address' },
  [IFA_LABEL]: { name: 'label', kind: 'string' },
  [IFA_BROADCAST]: { name: 'broadcast', kind: 'address' },
  [IFA_FLAGS]: { name: 'flags', kind: 'u32' },
} as const satisfies Policy;

/** Decode the payload of an RTM_NEWADDR / RTM_DELADDR message; undefined for families other than IPv4/IPv6. */
export function decodeAddress(payload: Buffer): Address | undefined {
  const msg = decodeIfAddrMsg(payload);
  if (msg.family !== AF_INET && msg.family !== AF_INET6) return undefined;
  const a = parseAttrs(payload.subarray(IFADDRMSG_LEN), addressPolicy);
  const own = a.local ?? a.address;
  if (own === undefined) throw new NetlinkDecodeError(IFADDRMSG_LEN, `address on link ${msg.index} has neither IFA_LOCAL nor IFA_ADDRESS`);
  const scopeName = (Object.keys(SCOPES) as Scope[]).find((k) => SCOPES[k] === msg.scope);
  const out: Address = {
    family: msg.family === AF_INET ? 4 : 6,
    ifindex: msg.index,
    address: own,
    prefixLength: msg.prefixLength,
    scope: scopeName ?? 'other',
    flags: a.flags ?? msg.flags,
  };
  if (a.label !== undefined) out.label = a.label;
  if (a.broadcast !== undefined) out.broadcast = a.broadcast;
  if (a.local !== undefined && a.address !== undefined && a.address !== a.local) out.peer = a.address;
  return out;
}
