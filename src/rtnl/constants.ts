// layer: kernel client (rtnetlink)
// job: the rtnetlink constants lvskit uses, mirroring linux/rtnetlink.h, if_link.h, if_addr.h, if.h.

/** NETLINK_ROUTE, the rtnetlink protocol number. */
export const NETLINK_ROUTE = 0;

/** Message types (enum in linux/rtnetlink.h). */
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

/** Multicast groups (enum rtnetlink_groups). */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;

/** Link attributes (enum in linux/if_link.h). */
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKMODE = 17;
export const IFLA_LINKINFO = 18;
export const IFLA_CARRIER = 33;
export const IFLA_PERM_ADDRESS = 54;
/** IFLA_AF_SPEC: per-family settings of a link (nested by address family). */
export const IFLA_AF_SPEC = 26;
/** Nested in IFLA_LINKINFO. */
export const IFLA_INFO_KIND = 1;
/** IFLA_INFO_DATA: the kind's own attributes (nested in IFLA_LINKINFO). */
export const IFLA_INFO_DATA = 2;
/** IFLA_MACVLAN_MODE (u32, in IFLA_INFO_DATA of a macvlan). */
export const IFLA_MACVLAN_MODE = 1;
/** MACVLAN_MODE_* (linux/if_link.h). */
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
/** IFLA_IPVLAN_MODE and IFLA_IPVLAN_FLAGS (u16 each, in IFLA_INFO_DATA of an ipvlan). */
export const IFLA_IPVLAN_MODE = 1;
export const IFLA_IPVLAN_FLAGS = 2;
/** IPVLAN_MODE_L2: the ipvlan mode keepalived uses. */
export const IPVLAN_MODE_L2 = 0;
/** IPVLAN_F_* flags by keepalived's words: `bridge` 0, `private` IPVLAN_F_PRIVATE, `vepa` IPVLAN_F_VEPA. */
export const IPVLAN_FLAGS = { bridge: 0, private: 1, vepa: 2 } as const;
/** IFLA_INET_CONF: the IPv4 devconf array (nested in IFLA_AF_SPEC / AF_INET), u32 per IPV4_DEVCONF_* index. */
export const IFLA_INET_CONF = 1;
/** IFLA_INET6_ADDR_GEN_MODE (u8, nested in IFLA_AF_SPEC / AF_INET6) and IN6_ADDR_GEN_MODE_NONE: no automatic link-local address. */
export const IFLA_INET6_ADDR_GEN_MODE = 8;
export const IN6_ADDR_GEN_MODE_NONE = 1;
/** IPV4_DEVCONF_* indexes (linux/ip.h) of the settings lvskit writes over rtnetlink. */
export const IPV4_DEVCONF = { rp_filter: 8, arp_filter: 13, arp_ignore: 19, promote_secondaries: 20, accept_local: 23 } as const;
/** An IPv4 per-interface setting lvskit can write over rtnetlink (`net.ipv4.conf.IF.NAME`). */
export type Ipv4ConfName = keyof typeof IPV4_DEVCONF;

/** Address attributes (enum in linux/if_addr.h). */
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
/** INFINITY_LIFE_TIME (include/net/addrconf.h): an address lifetime that never ends (`forever`). */
export const INFINITY_LIFE_TIME = 0xffffffff;
export const IFA_FLAGS = 8;

/** Address flags (IFA_F_*). */
export const IFA_F_SECONDARY = 0x01;
/** IFA_F_NODAD: no duplicate address detection (IPv6). */
export const IFA_F_NODAD = 0x02;
/** IFA_F_DADFAILED: duplicate address detection failed. */
export const IFA_F_DADFAILED = 0x08;
/** IFA_F_DEPRECATED: the address is deprecated (IPv6). */
export const IFA_F_DEPRECATED = 0x20;
/** IFA_F_TENTATIVE: duplicate address detection has not finished (IPv6). */
export const IFA_F_TENTATIVE = 0x40;
/** IFA_F_PERMANENT: a configured address, not one from autoconfiguration. */
export const IFA_F_PERMANENT = 0x80;
/** IFA_F_NOPREFIXROUTE: no prefix route is added for the address. */
export const IFA_F_NOPREFIXROUTE = 0x200;

/** Interface flags (IFF_* in linux/if.h). */
export const IFF_UP = 0x1;
/** IFF_BROADCAST: the link has a broadcast address. */
export const IFF_BROADCAST = 0x2;
/** IFF_LOOPBACK: a loopback link. */
export const IFF_LOOPBACK = 0x8;
/** IFF_POINTOPOINT: a point-to-point link. */
export const IFF_POINTOPOINT = 0x10;
/** IFF_RUNNING: the link is operationally up. */
export const IFF_RUNNING = 0x40;
/** IFF_NOARP: no ARP on the link. */
export const IFF_NOARP = 0x80;
/** IFF_PROMISC: the link receives all packets. */
export const IFF_PROMISC = 0x100;
/** IFF_MULTICAST: the link supports multicast. */
export const IFF_MULTICAST = 0x1000;
/** IFF_LOWER_UP: the driver reports carrier. */
export const IFF_LOWER_UP = 0x10000;

/** RFC 2863 operational states (IF_OPER_* in linux/if.h), by value. */
export const OPER_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
/** A link's operational state (RFC 2863, as `ip link` prints it). */
export type OperState = (typeof OPER_STATES)[number];

/** Address scopes (RT_SCOPE_*). */
export const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
/** An address's scope (`ip addr ... scope`). */
export type Scope = keyof typeof SCOPES;

/** Address families as the kernel numbers them. */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** IFNAMSIZ - 1: the longest interface name or address label. */
export const IFNAME_MAX = 15;

/** Route and rule message types (enum in linux/rtnetlink.h). */
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

/** Route attributes (enum rtattr_type_t). */
export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_MULTIPATH = 9;
export const RTA_FLOW = 11;
export const RTA_TABLE = 15;

/** Route types (RTN_*), by value. */
export const ROUTE_TYPES = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

/** Route origins (RTPROT_*): `boot` is what `ip route add` sets; `keepalived` what keepalived 2 sets on its routes and rules. */
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RTPROT_KEEPALIVED = 18;

/** Reserved routing tables (RT_TABLE_*). */
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

/** struct rtnexthop flags (RTNH_F_*). */
export const RTNH_F_ONLINK = 4;

/** Rule attributes (enum in linux/fib_rules.h). */
export const FRA_DST = 1;
export const FRA_SRC = 2;
export const FRA_IIFNAME = 3;
export const FRA_GOTO = 4;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_FLOW = 11;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_PROTOCOL = 21;

/** Rule actions (FR_ACT_*), by name. */
export const RULE_ACTIONS = { table: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
export type RuleAction = keyof typeof RULE_ACTIONS;

/** fib_rule_hdr flags: FIB_RULE_INVERT (`not`). */
export const FIB_RULE_INVERT = 0x2;
