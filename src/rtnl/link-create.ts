// layer: kernel client (rtnetlink)
// job: RTM_NEWLINK/SETLINK payloads that change links: create a macvlan or ipvlan on a parent (as `ip link add ... type macvlan|ipvlan`), set IFF_UP, IPv4 devconf values, IPv6 addrgenmode.
import { AttrWriter } from '../netlink/attr.js';
import {
  AF_INET, AF_INET6, IFF_UP, IFLA_ADDRESS, IFLA_AF_SPEC, IFLA_IFNAME, IFLA_INET6_ADDR_GEN_MODE, IFLA_INET_CONF, IFLA_INFO_DATA,
  IFLA_INFO_KIND, IFLA_IPVLAN_FLAGS, IFLA_IPVLAN_MODE, IFLA_LINK, IFLA_LINKINFO, IFLA_MACVLAN_MODE, IN6_ADDR_GEN_MODE_NONE,
  IPV4_DEVCONF, IPVLAN_FLAGS, IPVLAN_MODE_L2, MACVLAN_MODES, type Ipv4ConfName,
} from './constants.js';
import { encodeIfInfoMsg } from './link.js';

/** macvlan modes by their `ip link` names. */
export type MacvlanMode = keyof typeof MACVLAN_MODES;
/** ipvlan (L2) flags by keepalived's `use_ipvlan` words. */
export type IpvlanFlags = keyof typeof IPVLAN_FLAGS;

/** A link to create on a parent link: a macvlan (keepalived's VMAC) or an L2 ipvlan. */
export type NewLinkSpec = {
  /** The new link's name (1..15 bytes). */
  name: string;
  /** Index of the parent (lower) link. */
  parent: number;
  /** Hardware address `aa:bb:cc:dd:ee:ff`; default: the kernel's (a random one for a macvlan, the parent's for an ipvlan). */
  mac?: string;
} & ({ kind: 'macvlan'; mode: MacvlanMode } | { kind: 'ipvlan'; flags: IpvlanFlags });

/** `aa:bb:cc:dd:ee:ff` as 6 bytes; TypeError naming `field` otherwise. */
export function parseMac(mac: string, field = 'mac'): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new TypeError(`${field}: ${JSON.stringify(mac)} is not a MAC address aa:bb:cc:dd:ee:ff`);
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/**
 * Payload of the RTM_NEWLINK (with NLM_F_CREATE | NLM_F_EXCL) that creates the link, attributes in
 * iproute2's order: IFLA_ADDRESS, IFLA_LINK, IFLA_IFNAME, IFLA_LINKINFO { IFLA_INFO_KIND (no NUL,
 * as iproute2 and keepalived send it), IFLA_INFO_DATA { the mode } }.
 */
export function encodeNewLink(spec: NewLinkSpec): Buffer {
  if (typeof spec.name !== 'string' || spec.name === '' || Buffer.byteLength(spec.name) > 15 || /[\s/:]/.test(spec.name)) {
    throw new TypeError(`name: ${JSON.stringify(spec.name)} is not an interface name (1..15 bytes, no spaces, slashes or colons)`);
  }
  if (!Number.isInteger(spec.parent) || spec.parent <= 0) throw new TypeError(`parent: ${JSON.stringify(spec.parent)} is not a link index`);
  const w = new AttrWriter();
  if (spec.mac !== undefined) w.bytes(IFLA_ADDRESS, parseMac(spec.mac));
  w.u32(IFLA_LINK, spec.parent).string(IFLA_IFNAME, spec.name);
  w.nest(IFLA_LINKINFO, (info) => {
    info.bytes(IFLA_INFO_KIND, Buffer.from(spec.kind));
    info.nest(IFLA_INFO_DATA, (data) => {
      if (spec.kind === 'macvlan') {
        const mode = MACVLAN_MODES[spec.mode];
        if (mode === undefined) throw new TypeError(`mode: ${JSON.stringify(spec.mode)} is not one of ${Object.keys(MACVLAN_MODES).join(', ')}`);
        data.u32(IFLA_MACVLAN_MODE, mode);
      } else {
        const flags = IPVLAN_FLAGS[spec.flags];
        if (flags === undefined) throw new TypeError(`flags: ${JSON.stringify(spec.flags)} is not one of ${Object.keys(IPVLAN_FLAGS).join(', ')}`);
        data.u16(IFLA_IPVLAN_MODE, IPVLAN_MODE_L2).u16(IFLA_IPVLAN_FLAGS, flags);
      }
    });
  });
  return Buffer.concat([encodeIfInfoMsg(), w.toBuffer()]);
}

/** Payload of the RTM_NEWLINK that sets a link up or down (`ip link set IF up|down`). */
export function encodeSetLinkUp(index: number, up: boolean): Buffer {
  return encodeIfInfoMsg({ index, flags: up ? IFF_UP : 0, change: IFF_UP });
}

/**
 * Payload of the RTM_NEWLINK that writes IPv4 per-interface settings (`net.ipv4.conf.IF.*`) through
 * IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { IPV4_DEVCONF_x: u32 } } }, as keepalived does for its
 * VMACs: it works in any namespace the socket is in, which /proc/sys does not.
 */
export function encodeSetIpv4Conf(index: number, values: Partial<Record<Ipv4ConfName, number>>): Buffer {
  const entries = Object.entries(values) as Array<[Ipv4ConfName, number]>;
  if (entries.length === 0) throw new TypeError('values: no IPv4 setting to write');
  const w = new AttrWriter().nest(IFLA_AF_SPEC, (spec) => spec.nest(AF_INET, (inet) => inet.nest(IFLA_INET_CONF, (conf) => {
    for (const [name, value] of entries) {
      const id = IPV4_DEVCONF[name];
      if (id === undefined) throw new TypeError(`values.${name}: not an IPv4 setting lvskit writes (${Object.keys(IPV4_DEVCONF).join(', ')})`);
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new TypeError(`values.${name}: ${JSON.stringify(value)} is not a u32`);
      conf.u32(id, value);
    }
  })));
  return Buffer.concat([encodeIfInfoMsg({ index }), w.toBuffer()]);
}

/** Payload of the RTM_NEWLINK that sets IPv6 addrgenmode none: no automatic link-local address (RFC 5798 §7.4, as keepalived). */
export function encodeAddrGenModeNone(index: number): Buffer {
  const w = new AttrWriter().nest(IFLA_AF_SPEC, (spec) => spec.nest(AF_INET6, (inet6) => inet6.u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE)));
  return Buffer.concat([encodeIfInfoMsg({ index }), w.toBuffer()]);
}
