// layer: kernel client (rtnetlink)
// job: struct ifinfomsg + IFLA_* codec: RTM_GETLINK requests and the Link a RTM_NEWLINK/DELLINK describes (with a macvlan's mode and the IPv4 devconf lvskit writes).
import { readS32Host, readU16Host, readU32Host, writeS32Host, writeU16Host, writeU32Host } from '../bytes.js';
import { AttrWriter } from '../netlink/attr.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type Policy } from '../netlink/policy.js';
import {
  AF_INET, AF_UNSPEC, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, IFLA_ADDRESS, IFLA_AF_SPEC, IFLA_BROADCAST, IFLA_CARRIER, IFLA_IFNAME,
  IFLA_INET_CONF, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_IPVLAN_FLAGS, IFLA_LINK, IFLA_LINKINFO, IFLA_MACVLAN_MODE, IFLA_MASTER, IFLA_MTU,
  IFLA_OPERSTATE, IFLA_PERM_ADDRESS, IPV4_DEVCONF, IPVLAN_FLAGS, MACVLAN_MODES, OPER_STATES, type Ipv4ConfName, type OperState,
} from './constants.js';

/** sizeof(struct ifinfomsg). */
export const IFINFOMSG_LEN = 16;

/** struct ifinfomsg (host byte order). */
export interface IfInfoMsg {
  family: number;
  /** ifi_type: ARPHRD_* (1 Ethernet, 772 loopback, 65534 none). */
  type: number;
  index: number;
  /** ifi_flags: IFF_*. */
  flags: number;
  change: number;
}

/** A network interface as the kernel describes it. */
export interface Link {
  index: number;
  name: string;
  /** IFF_* flags. */
  flags: number;
  /** Administratively up (IFF_UP). */
  adminUp: boolean;
  /** Carrier present (IFF_LOWER_UP). */
  lowerUp: boolean;
  /** Up and running (IFF_UP and IFF_RUNNING): the test keepalived uses for track_interface. */
  up: boolean;
  operState: OperState;
  /** Hardware address as `aa:bb:cc:dd:ee:ff`; undefined for links without one. */
  mac?: string;
  broadcast?: string;
  permanentMac?: string;
  mtu?: number;
  /** ARPHRD_* type. */
  hardwareType: number;
  /** IFLA_INFO_KIND: `veth`, `dummy`, `bridge`, ... (undefined for physical devices). */
  kind?: string;
  /** Index of the bridge/bond master. */
  master?: number;
  /** IFLA_LINK: index of the peer/lower device (may be in another namespace). */
  parent?: number;
  carrier?: boolean;
  /** A macvlan's mode (`private`, `bridge`, ...). */
  macvlanMode?: string;
  /** An ipvlan's flags by keepalived's words (`bridge`, `private`, `vepa`). */
  ipvlanFlags?: string;
  /** The IPv4 settings lvskit writes (`arp_ignore`, `arp_filter`, `rp_filter`, `accept_local`, `promote_secondaries`), from the link's devconf. */
  ipv4Conf?: Partial<Record<Ipv4ConfName, number>>;
}

export function encodeIfInfoMsg(msg: Partial<IfInfoMsg> = {}): Buffer {
  const buf = Buffer.alloc(IFINFOMSG_LEN);
  buf.writeUInt8(msg.family ?? AF_UNSPEC, 0);
  writeU16Host(buf, msg.type ?? 0, 2);
  writeS32Host(buf, msg.index ?? 0, 4);
  writeU32Host(buf, msg.flags ?? 0, 8);
  writeU32Host(buf, msg.change ?? 0, 12);
  return buf;
}

export function decodeIfInfoMsg(payload: Buffer): IfInfoMsg {
  if (payload.length < IFINFOMSG_LEN) {
    throw new NetlinkDecodeError(0, `ifinfomsg needs ${IFINFOMSG_LEN} bytes, got ${payload.length}`,
      { expected: IFINFOMSG_LEN, actual: payload.length });
  }
  return {
    family: payload.readUInt8(0),
    type: readU16Host(payload, 2),
    index: readS32Host(payload, 4),
    flags: readU32Host(payload, 8),
    change: readU32Host(payload, 12),
  };
}

/** Payload of an RTM_GETLINK for one link, by index or by name. */
export function encodeGetLink(which: { index: number } | { name: string }): Buffer {
  if ('index' in which) return encodeIfInfoMsg({ index: which.index });
  return Buffer.concat([encodeIfInfoMsg(), new AttrWriter().string(IFLA_IFNAME, which.name).toBuffer()]);
}

const linkInfoPolicy = {
  [IFLA_INFO_KIND]: { name: 'kind', kind: 'string' },
  [IFLA_INFO_DATA]: { name: 'data', kind: 'binary' },
} as const satisfies Policy;

const afSpecPolicy = {
  [AF_INET]: { name: 'inet', kind: 'nested', policy: { [IFLA_INET_CONF]: { name: 'conf', kind: 'binary' } } },
} as const satisfies Policy;

const macvlanPolicy = { [IFLA_MACVLAN_MODE]: { name: 'mode', kind: 'u32' } } as const satisfies Policy;
const ipvlanPolicy = { [IFLA_IPVLAN_FLAGS]: { name: 'flags', kind: 'u16' } } as const satisfies Policy;

/** The IPv4 settings lvskit writes, read from an IFLA_INET_CONF array (u32 per IPV4_DEVCONF_* index, from 1). */
export function decodeIpv4Conf(conf: Buffer): Partial<Record<Ipv4ConfName, number>> {
  const out: Partial<Record<Ipv4ConfName, number>> = {};
  for (const [name, id] of Object.entries(IPV4_DEVCONF) as Array<[Ipv4ConfName, number]>) {
    const at = (id - 1) * 4;
    if (at + 4 <= conf.length) out[name] = readU32Host(conf, at);
  }
  return out;
}

/** A macvlan's mode or an ipvlan's flags from IFLA_INFO_DATA. */
function kindData(link: Link, kind: string | undefined, data: Buffer | undefined): void {
  if (!data) return;
  if (kind === 'macvlan') {
    const mode = parseAttrs(data, macvlanPolicy).mode;
    const name = Object.entries(MACVLAN_MODES).find(([, v]) => v === mode)?.[0];
    if (name !== undefined) link.macvlanMode = name;
  } else if (kind === 'ipvlan') {
    const flags = parseAttrs(data, ipvlanPolicy).flags ?? 0;
    const name = Object.entries(IPVLAN_FLAGS).find(([, v]) => v === flags)?.[0];
    if (name !== undefined) link.ipvlanFlags = name;
  }
}

const linkPolicy = {
  [IFLA_ADDRESS]: { name: 'address', kind: 'binary' },
  [IFLA_BROADCAST]: { name: 'broadcast', kind: 'binary' },
  [IFLA_IFNAME]: { name: 'name', kind: 'string' },
  [IFLA_MTU]: { name: 'mtu', kind: 'u32' },
  [IFLA_LINK]: { name: 'link', kind: 'u32' },
  [IFLA_MASTER]: { name: 'master', kind: 'u32' },
  [IFLA_OPERSTATE]: { name: 'operState', kind: 'u8' },
  [IFLA_LINKINFO]: { name: 'linkInfo', kind: 'nested', policy: linkInfoPolicy },
  [IFLA_CARRIER]: { name: 'carrier', kind: 'u8' },
  [IFLA_PERM_ADDRESS]: { name: 'permAddress', kind: 'binary' },
  [IFLA_AF_SPEC]: { name: 'afSpec', kind: 'nested', policy: afSpecPolicy },
} as const satisfies Policy;

/** Hardware address bytes as lower-case colon-separated hex; undefined for an empty one. */
export function formatMac(bytes: Buffer | undefined): string | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Decode the payload of an RTM_NEWLINK / RTM_DELLINK message. */
export function decodeLink(payload: Buffer): Link {
  const info = decodeIfInfoMsg(payload);
  const a = parseAttrs(payload.subarray(IFINFOMSG_LEN), linkPolicy);
  if (a.name === undefined) throw new NetlinkDecodeError(IFINFOMSG_LEN, `link ${info.index} has no IFLA_IFNAME`);
  const link: Link = {
    index: info.index,
    name: a.name,
    flags: info.flags,
    adminUp: (info.flags & IFF_UP) !== 0,
    lowerUp: (info.flags & IFF_LOWER_UP) !== 0,
    up: (info.flags & IFF_UP) !== 0 && (info.flags & IFF_RUNNING) !== 0,
    operState: OPER_STATES[a.operState ?? 0] ?? 'unknown',
    hardwareType: info.type,
  };
  const mac = formatMac(a.address);
  if (mac !== undefined) link.mac = mac;
  const brd = formatMac(a.broadcast);
  if (brd !== undefined) link.broadcast = brd;
  const perm = formatMac(a.permAddress);
  if (perm !== undefined) link.permanentMac = perm;
  if (a.mtu !== undefined) link.mtu = a.mtu;
  if (a.linkInfo?.kind !== undefined) link.kind = a.linkInfo.kind;
  if (a.master !== undefined) link.master = a.master;
  if (a.link !== undefined && a.link !== info.index) link.parent = a.link;
  if (a.carrier !== undefined) link.carrier = a.carrier !== 0;
  kindData(link, a.linkInfo?.kind, a.linkInfo?.data);
  if (a.afSpec?.inet?.conf) link.ipv4Conf = decodeIpv4Conf(a.afSpec.inet.conf);
  return link;
}
