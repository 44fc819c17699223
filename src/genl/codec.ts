// layer: generic netlink
// job: struct genlmsghdr codec and the controller's (nlctrl) family description, per linux/genetlink.h.
import { AttrWriter } from '../netlink/attr.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type Policy } from '../netlink/policy.js';

/** NETLINK_GENERIC, the protocol number of generic netlink sockets. */
export const NETLINK_GENERIC = 16;
/** GENL_ID_CTRL: the controller family's fixed id (NLMSG_MIN_TYPE). */
export const GENL_ID_CTRL = 0x10;
/** GENL_HDRLEN: sizeof(struct genlmsghdr), aligned. */
export const GENL_HDRLEN = 4;
/** CTRL_CMD_GETFAMILY. */
export const CTRL_CMD_GETFAMILY = 3;
/** genlmsghdr.version of our requests to the controller: 0, as iproute2's `genl` sends (the kernel does not check it). */
export const CTRL_VERSION = 0;

/** CTRL_ATTR_* (enum in linux/genetlink.h). */
export const CTRL_ATTR_FAMILY_ID = 1;
/** CTRL_ATTR_FAMILY_NAME: the family's name. */
export const CTRL_ATTR_FAMILY_NAME = 2;
/** CTRL_ATTR_VERSION: the family's version. */
export const CTRL_ATTR_VERSION = 3;
/** CTRL_ATTR_HDRSIZE: the family's user header size. */
export const CTRL_ATTR_HDRSIZE = 4;
/** CTRL_ATTR_MAXATTR: the family's highest attribute number. */
export const CTRL_ATTR_MAXATTR = 5;
/** CTRL_ATTR_OPS: the family's operations (nested). */
export const CTRL_ATTR_OPS = 6;
/** CTRL_ATTR_MCAST_GROUPS: the family's multicast groups (nested). */
export const CTRL_ATTR_MCAST_GROUPS = 7;
/** CTRL_ATTR_OP_* (nested in CTRL_ATTR_OPS). */
export const CTRL_ATTR_OP_ID = 1;
/** CTRL_ATTR_OP_FLAGS: an operation's flags. */
export const CTRL_ATTR_OP_FLAGS = 2;
/** CTRL_ATTR_MCAST_GRP_* (nested in CTRL_ATTR_MCAST_GROUPS). */
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
/** CTRL_ATTR_MCAST_GRP_ID: a multicast group's id. */
export const CTRL_ATTR_MCAST_GRP_ID = 2;

/** struct genlmsghdr. */
export interface GenlHeader {
  cmd: number;
  version: number;
}

/** A generic netlink family as the controller describes it. */
export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  /** Size of the family's own header after genlmsghdr (0 for most). */
  headerSize: number;
  maxAttr: number;
  /** Commands the family implements, with their GENL_* flags. */
  ops: { id: number; flags: number }[];
  /** Multicast groups: name → group id (for NETLINK_ADD_MEMBERSHIP). */
  groups: Map<string, number>;
}

/** genlmsghdr followed by `attrs`: the payload of a generic netlink request. */
export function encodeGenl(header: GenlHeader, attrs: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(GENL_HDRLEN);
  head.writeUInt8(header.cmd, 0);
  head.writeUInt8(header.version, 1);
  return Buffer.concat([head, attrs]);
}

/** Split a generic netlink payload into its header and the attribute bytes that follow. */
export function decodeGenl(payload: Buffer): GenlHeader & { attrs: Buffer } {
  if (payload.length < GENL_HDRLEN) {
    throw new NetlinkDecodeError(0, `genlmsghdr needs ${GENL_HDRLEN} bytes, got ${payload.length}`,
      { expected: GENL_HDRLEN, actual: payload.length });
  }
  return { cmd: payload.readUInt8(0), version: payload.readUInt8(1), attrs: payload.subarray(GENL_HDRLEN) };
}

/** Payload of CTRL_CMD_GETFAMILY for one family by name. */
export function encodeGetFamily(name: string): Buffer {
  return encodeGenl({ cmd: CTRL_CMD_GETFAMILY, version: CTRL_VERSION },
    new AttrWriter().string(CTRL_ATTR_FAMILY_NAME, name).toBuffer());
}

const familyPolicy = {
  [CTRL_ATTR_FAMILY_ID]: { name: 'id', kind: 'u16' },
  [CTRL_ATTR_FAMILY_NAME]: { name: 'name', kind: 'string' },
  [CTRL_ATTR_VERSION]: { name: 'version', kind: 'u32' },
  [CTRL_ATTR_HDRSIZE]: { name: 'headerSize', kind: 'u32' },
  [CTRL_ATTR_MAXATTR]: { name: 'maxAttr', kind: 'u32' },
  [CTRL_ATTR_OPS]: {
    name: 'ops', kind: 'nestedArray',
    policy: { [CTRL_ATTR_OP_ID]: { name: 'id', kind: 'u32' }, [CTRL_ATTR_OP_FLAGS]: { name: 'flags', kind: 'u32' } },
  },
  [CTRL_ATTR_MCAST_GROUPS]: {
    name: 'groups', kind: 'nestedArray',
    policy: { [CTRL_ATTR_MCAST_GRP_NAME]: { name: 'name', kind: 'string' }, [CTRL_ATTR_MCAST_GRP_ID]: { name: 'id', kind: 'u32' } },
  },
} as const satisfies Policy;

/** Decode the controller's CTRL_CMD_NEWFAMILY reply. */
export function decodeFamily(payload: Buffer): GenlFamily {
  const { attrs } = decodeGenl(payload);
  const a = parseAttrs(attrs, familyPolicy);
  if (a.id === undefined || a.name === undefined) {
    throw new NetlinkDecodeError(GENL_HDRLEN, 'family description without CTRL_ATTR_FAMILY_ID or CTRL_ATTR_FAMILY_NAME');
  }
  const groups = new Map<string, number>();
  for (const g of a.groups ?? []) {
    if (g.name !== undefined && g.id !== undefined) groups.set(g.name, g.id);
  }
  return {
    id: a.id,
    name: a.name,
    version: a.version ?? 0,
    headerSize: a.headerSize ?? 0,
    maxAttr: a.maxAttr ?? 0,
    ops: (a.ops ?? []).filter((o) => o.id !== undefined).map((o) => ({ id: o.id ?? 0, flags: o.flags ?? 0 })),
    groups,
  };
}
