// layer: kernel client (ipset)
// job: the kernel's ipset protocol numbers, mirroring linux/netfilter/ipset/ip_set.h and ip_set_hash.h.

/** NETLINK_NETFILTER: the netlink protocol of nfnetlink (ipset, conntrack, nftables). */
export const NETLINK_NETFILTER = 12;
/** NFNL_SUBSYS_IPSET: nfnetlink subsystem id; nlmsg_type = (NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_*. */
export const NFNL_SUBSYS_IPSET = 6;
/** NFNETLINK_V0: struct nfgenmsg version. */
export const NFNETLINK_V0 = 0;
/** sizeof(struct nfgenmsg): family u8, version u8, res_id be16 (0 for ipset). */
export const NFGENMSG_LEN = 4;

/** NFPROTO_UNSPEC: set family of list:set. */
export const NFPROTO_UNSPEC = 0;
/** NFPROTO_IPV4: family `inet`. */
export const NFPROTO_IPV4 = 2;
/** NFPROTO_IPV6: family `inet6`. */
export const NFPROTO_IPV6 = 10;

/** IPSET_PROTOCOL: the protocol version this client speaks by preference. */
export const IPSET_PROTOCOL = 7;
/** IPSET_PROTOCOL_MIN: the oldest protocol version the kernel may accept. */
export const IPSET_PROTOCOL_MIN = 6;
/** IPSET_MAXNAMELEN: set and type names, including the NUL. */
export const IPSET_MAXNAMELEN = 32;
/** IPSET_MAX_COMMENT_SIZE: the longest comment the kernel accepts, in bytes. */
export const IPSET_MAX_COMMENT_SIZE = 255;
/** The longest timeout ipset accepts: (UINT_MAX >> 1) / MSEC_PER_SEC seconds. */
export const IPSET_MAX_TIMEOUT_SEC = 2147483;

// ---- enum ipset_cmd ----------------------------------------------------------------------------

/** IPSET_CMD_PROTOCOL: return the protocol version. */
export const IPSET_CMD_PROTOCOL = 1;
/** IPSET_CMD_CREATE: create a new (empty) set. */
export const IPSET_CMD_CREATE = 2;
/** IPSET_CMD_DESTROY: destroy a set. */
export const IPSET_CMD_DESTROY = 3;
/** IPSET_CMD_FLUSH: remove all elements from a set. */
export const IPSET_CMD_FLUSH = 4;
/** IPSET_CMD_RENAME: rename a set. */
export const IPSET_CMD_RENAME = 5;
/** IPSET_CMD_SWAP: swap two sets. */
export const IPSET_CMD_SWAP = 6;
/** IPSET_CMD_LIST: list sets (dump). */
export const IPSET_CMD_LIST = 7;
/** IPSET_CMD_SAVE: save sets (dump; same messages as LIST). */
export const IPSET_CMD_SAVE = 8;
/** IPSET_CMD_ADD: add elements to a set. */
export const IPSET_CMD_ADD = 9;
/** IPSET_CMD_DEL: delete elements from a set. */
export const IPSET_CMD_DEL = 10;
/** IPSET_CMD_TEST: test an element in a set. */
export const IPSET_CMD_TEST = 11;
/** IPSET_CMD_HEADER: get a set's type, family and revision. */
export const IPSET_CMD_HEADER = 12;
/** IPSET_CMD_TYPE: get the revisions of a set type. */
export const IPSET_CMD_TYPE = 13;

/** The command names, for error messages (`syscall`). */
export const IPSET_CMD_NAMES: Readonly<Record<number, string>> = {
  1: 'IPSET_CMD_PROTOCOL', 2: 'IPSET_CMD_CREATE', 3: 'IPSET_CMD_DESTROY', 4: 'IPSET_CMD_FLUSH',
  5: 'IPSET_CMD_RENAME', 6: 'IPSET_CMD_SWAP', 7: 'IPSET_CMD_LIST', 8: 'IPSET_CMD_SAVE', 9: 'IPSET_CMD_ADD',
  10: 'IPSET_CMD_DEL', 11: 'IPSET_CMD_TEST', 12: 'IPSET_CMD_HEADER', 13: 'IPSET_CMD_TYPE',
};

/** nlmsg_type of an ipset command: (NFNL_SUBSYS_IPSET << 8) | cmd. */
export function ipsetMessageType(cmd: number): number {
  return (NFNL_SUBSYS_IPSET << 8) | cmd;
}

// ---- attributes at command level ----------------------------------------------------------------

/** IPSET_ATTR_PROTOCOL: u8 protocol version (in every message). */
export const IPSET_ATTR_PROTOCOL = 1;
/** IPSET_ATTR_SETNAME: NUL-terminated set name. */
export const IPSET_ATTR_SETNAME = 2;
/** IPSET_ATTR_TYPENAME: NUL-terminated type name, e.g. `hash:ip`. */
export const IPSET_ATTR_TYPENAME = 3;
/** IPSET_ATTR_SETNAME2: the second set name of rename/swap (same number as TYPENAME). */
export const IPSET_ATTR_SETNAME2 = 3;
/** IPSET_ATTR_REVISION: u8 set type revision. */
export const IPSET_ATTR_REVISION = 4;
/** IPSET_ATTR_FAMILY: u8 set family (NFPROTO_*). */
export const IPSET_ATTR_FAMILY = 5;
/** IPSET_ATTR_FLAGS: u32 (network order) IPSET_FLAG_* at command level. */
export const IPSET_ATTR_FLAGS = 6;
/** IPSET_ATTR_DATA: nested create data or one element. */
export const IPSET_ATTR_DATA = 7;
/** IPSET_ATTR_ADT: nested list of IPSET_ATTR_DATA elements. */
export const IPSET_ATTR_ADT = 8;
/** IPSET_ATTR_LINENO: u32 restore line number; the kernel echoes the failing one back. */
export const IPSET_ATTR_LINENO = 9;
/** IPSET_ATTR_PROTOCOL_MIN: u8 minimal supported protocol version (reply to PROTOCOL). */
export const IPSET_ATTR_PROTOCOL_MIN = 10;
/** IPSET_ATTR_REVISION_MIN: u8 minimal type revision (reply to TYPE; same number as PROTOCOL_MIN). */
export const IPSET_ATTR_REVISION_MIN = 10;
/** IPSET_ATTR_INDEX: u16 (network order) kernel index of the set (protocol ≥ 7 listings). */
export const IPSET_ATTR_INDEX = 11;

// ---- CADT attributes (create and add/del/test data) ---------------------------------------------

/** IPSET_ATTR_IP: nested address (IPSET_ATTR_IPADDR_IPV4/IPV6). */
export const IPSET_ATTR_IP = 1;
/** IPSET_ATTR_IP_TO: nested end address of a range. */
export const IPSET_ATTR_IP_TO = 2;
/** IPSET_ATTR_CIDR: u8 prefix length. */
export const IPSET_ATTR_CIDR = 3;
/** IPSET_ATTR_PORT: u16 (network order) port. */
export const IPSET_ATTR_PORT = 4;
/** IPSET_ATTR_PORT_TO: u16 (network order) end port of a range. */
export const IPSET_ATTR_PORT_TO = 5;
/** IPSET_ATTR_TIMEOUT: u32 (network order) seconds. */
export const IPSET_ATTR_TIMEOUT = 6;
/** IPSET_ATTR_PROTO: u8 IP protocol number. */
export const IPSET_ATTR_PROTO = 7;
/** IPSET_ATTR_CADT_FLAGS: u32 (network order) IPSET_FLAG_* at element/create level. */
export const IPSET_ATTR_CADT_FLAGS = 8;
/** IPSET_ATTR_CADT_LINENO: the element's line number (= IPSET_ATTR_LINENO). */
export const IPSET_ATTR_CADT_LINENO = 9;
/** IPSET_ATTR_MARK: u32 mark. */
export const IPSET_ATTR_MARK = 10;
/** IPSET_ATTR_MARKMASK: u32 mark mask. */
export const IPSET_ATTR_MARKMASK = 11;
/** IPSET_ATTR_INITVAL: u32 hash seed (create). */
export const IPSET_ATTR_INITVAL = 17;
/** IPSET_ATTR_HASHSIZE: u32 initial hash size (create). */
export const IPSET_ATTR_HASHSIZE = 18;
/** IPSET_ATTR_MAXELEM: u32 maximal number of elements (create). */
export const IPSET_ATTR_MAXELEM = 19;
/** IPSET_ATTR_NETMASK: u8 netmask (create, hash:ip). */
export const IPSET_ATTR_NETMASK = 20;
/** IPSET_ATTR_BUCKETSIZE: u8 bucket size (create). */
export const IPSET_ATTR_BUCKETSIZE = 21;
/** IPSET_ATTR_RESIZE: u8 resize percentage (create, obsolete). */
export const IPSET_ATTR_RESIZE = 22;
/** IPSET_ATTR_SIZE: u32 size (create, list types). */
export const IPSET_ATTR_SIZE = 23;
/** IPSET_ATTR_ELEMENTS: u32 number of elements (kernel-only, listings). */
export const IPSET_ATTR_ELEMENTS = 24;
/** IPSET_ATTR_REFERENCES: u32 references from the kernel (iptables rules, list:set). */
export const IPSET_ATTR_REFERENCES = 25;
/** IPSET_ATTR_MEMSIZE: u32 memory used by the set, in bytes. */
export const IPSET_ATTR_MEMSIZE = 26;

// ---- ADT attributes (element level) -----------------------------------------------------------

/** IPSET_ATTR_ETHER: 6-byte MAC address. */
export const IPSET_ATTR_ETHER = 17;
/** IPSET_ATTR_NAME: set name (list:set). */
export const IPSET_ATTR_NAME = 18;
/** IPSET_ATTR_NAMEREF: before/after reference (list:set). */
export const IPSET_ATTR_NAMEREF = 19;
/** IPSET_ATTR_IP2: second address. */
export const IPSET_ATTR_IP2 = 20;
/** IPSET_ATTR_CIDR2: second prefix length. */
export const IPSET_ATTR_CIDR2 = 21;
/** IPSET_ATTR_IP2_TO: end of the second address range. */
export const IPSET_ATTR_IP2_TO = 22;
/** IPSET_ATTR_IFACE: interface name. */
export const IPSET_ATTR_IFACE = 23;
/** IPSET_ATTR_BYTES: u64 (network order) byte counter. */
export const IPSET_ATTR_BYTES = 24;
/** IPSET_ATTR_PACKETS: u64 (network order) packet counter. */
export const IPSET_ATTR_PACKETS = 25;
/** IPSET_ATTR_COMMENT: NUL-terminated comment. */
export const IPSET_ATTR_COMMENT = 26;
/** IPSET_ATTR_SKBMARK: u64 skb mark/mask. */
export const IPSET_ATTR_SKBMARK = 27;
/** IPSET_ATTR_SKBPRIO: u32 skb priority. */
export const IPSET_ATTR_SKBPRIO = 28;
/** IPSET_ATTR_SKBQUEUE: u16 skb queue. */
export const IPSET_ATTR_SKBQUEUE = 29;

// ---- IP address attributes (nested in IPSET_ATTR_IP) ------------------------------------------

/** IPSET_ATTR_IPADDR_IPV4: 4 bytes, network order (sent with NLA_F_NET_BYTEORDER). */
export const IPSET_ATTR_IPADDR_IPV4 = 1;
/** IPSET_ATTR_IPADDR_IPV6: 16 bytes, network order (sent with NLA_F_NET_BYTEORDER). */
export const IPSET_ATTR_IPADDR_IPV6 = 2;

// ---- enum ipset_errno (and the hash types' own codes) --------------------------------------------

/** IPSET_ERR_PROTOCOL: the message breaks the ipset protocol (missing or malformed attribute). */
export const IPSET_ERR_PROTOCOL = 4097;
/** IPSET_ERR_FIND_TYPE: the kernel does not know the set type (or revision). */
export const IPSET_ERR_FIND_TYPE = 4098;
/** IPSET_ERR_MAX_SETS: the kernel's maximal number of sets is reached. */
export const IPSET_ERR_MAX_SETS = 4099;
/** IPSET_ERR_BUSY: the set is in use by a kernel component (e.g. an iptables rule). */
export const IPSET_ERR_BUSY = 4100;
/** IPSET_ERR_EXIST_SETNAME2: rename: the new name exists; swap: the second set does not. */
export const IPSET_ERR_EXIST_SETNAME2 = 4101;
/** IPSET_ERR_TYPE_MISMATCH: the two sets of a swap are of different types or families. */
export const IPSET_ERR_TYPE_MISMATCH = 4102;
/** IPSET_ERR_EXIST: add: already added; del/test: not added. */
export const IPSET_ERR_EXIST = 4103;
/** IPSET_ERR_INVALID_CIDR: prefix length out of range for the set. */
export const IPSET_ERR_INVALID_CIDR = 4104;
/** IPSET_ERR_INVALID_NETMASK: netmask out of range. */
export const IPSET_ERR_INVALID_NETMASK = 4105;
/** IPSET_ERR_INVALID_FAMILY: the set type does not support the family. */
export const IPSET_ERR_INVALID_FAMILY = 4106;
/** IPSET_ERR_TIMEOUT: timeout given, but the set was created without timeout support. */
export const IPSET_ERR_TIMEOUT = 4107;
/** IPSET_ERR_REFERENCED: the set is referenced (rename/swap refused). */
export const IPSET_ERR_REFERENCED = 4108;
/** IPSET_ERR_IPADDR_IPV4: an IPv4 address was expected (the set is `inet`). */
export const IPSET_ERR_IPADDR_IPV4 = 4109;
/** IPSET_ERR_IPADDR_IPV6: an IPv6 address was expected (the set is `inet6`). */
export const IPSET_ERR_IPADDR_IPV6 = 4110;
/** IPSET_ERR_COUNTER: counters given, but the set was created without counters. */
export const IPSET_ERR_COUNTER = 4111;
/** IPSET_ERR_COMMENT: comment given, but the set was created without comment support. */
export const IPSET_ERR_COMMENT = 4112;
/** IPSET_ERR_INVALID_MARKMASK: markmask out of range. */
export const IPSET_ERR_INVALID_MARKMASK = 4113;
/** IPSET_ERR_SKBINFO: skbinfo given, but the set was created without it. */
export const IPSET_ERR_SKBINFO = 4114;
/** IPSET_ERR_TYPE_SPECIFIC: first set-type-specific code. */
export const IPSET_ERR_TYPE_SPECIFIC = 4352;
/** IPSET_ERR_HASH_FULL: the hash reached maxelem. */
export const IPSET_ERR_HASH_FULL = 4352;
/** IPSET_ERR_HASH_ELEM: a null-valued element cannot be stored. */
export const IPSET_ERR_HASH_ELEM = 4353;
/** IPSET_ERR_INVALID_PROTO: invalid protocol. */
export const IPSET_ERR_INVALID_PROTO = 4354;
/** IPSET_ERR_MISSING_PROTO: the protocol is missing but required. */
export const IPSET_ERR_MISSING_PROTO = 4355;
/** IPSET_ERR_HASH_RANGE_UNSUPPORTED: range not supported in the `net` component. */
export const IPSET_ERR_HASH_RANGE_UNSUPPORTED = 4356;
/** IPSET_ERR_HASH_RANGE: invalid range, covers the whole address space. */
export const IPSET_ERR_HASH_RANGE = 4357;

// ---- flags ---------------------------------------------------------------------------------------

/** IPSET_FLAG_EXIST (command level; in practice the absence of NLM_F_EXCL). */
export const IPSET_FLAG_EXIST = 1 << 0;
/** IPSET_FLAG_LIST_SETNAME: list only the names of the sets. */
export const IPSET_FLAG_LIST_SETNAME = 1 << 1;
/** IPSET_FLAG_LIST_HEADER: list the headers, not the members. */
export const IPSET_FLAG_LIST_HEADER = 1 << 2;
/** IPSET_FLAG_NOMATCH (element): a hash:net entry that excludes its network. */
export const IPSET_FLAG_NOMATCH = 1 << 2;
/** IPSET_FLAG_WITH_COUNTERS (create): per-element packet and byte counters. */
export const IPSET_FLAG_WITH_COUNTERS = 1 << 3;
/** IPSET_FLAG_WITH_COMMENT (create): per-element comments. */
export const IPSET_FLAG_WITH_COMMENT = 1 << 4;
/** IPSET_FLAG_WITH_FORCEADD (create): evict a random element when full. */
export const IPSET_FLAG_WITH_FORCEADD = 1 << 5;
/** IPSET_FLAG_WITH_SKBINFO (create): per-element skb mark/priority/queue. */
export const IPSET_FLAG_WITH_SKBINFO = 1 << 6;
