// layer: kernel client (IPVS)
// job: the IPVS generic netlink vocabulary, mirroring the enums and flags of linux/ip_vs.h by name.

/** IPVS_GENL_NAME: the generic netlink family name. */
export const IPVS_GENL_NAME = 'IPVS';
/** IPVS_GENL_VERSION: genlmsghdr.version of our requests. */
export const IPVS_GENL_VERSION = 1;

// ---- commands (enum IPVS_CMD_*) ----------------------------------------------------------------
export const IPVS_CMD_NEW_SERVICE = 1;
export const IPVS_CMD_SET_SERVICE = 2;
export const IPVS_CMD_DEL_SERVICE = 3;
export const IPVS_CMD_GET_SERVICE = 4;
export const IPVS_CMD_NEW_DEST = 5;
export const IPVS_CMD_SET_DEST = 6;
export const IPVS_CMD_DEL_DEST = 7;
export const IPVS_CMD_GET_DEST = 8;
export const IPVS_CMD_NEW_DAEMON = 9;
export const IPVS_CMD_DEL_DAEMON = 10;
export const IPVS_CMD_GET_DAEMON = 11;
export const IPVS_CMD_SET_CONFIG = 12;
export const IPVS_CMD_GET_CONFIG = 13;
/** Only used as the command of the GET_INFO reply. */
export const IPVS_CMD_SET_INFO = 14;
export const IPVS_CMD_GET_INFO = 15;
export const IPVS_CMD_ZERO = 16;
export const IPVS_CMD_FLUSH = 17;

/** Command number → kernel name, for errors (`syscall`). */
export const IPVS_CMD_NAMES: Readonly<Record<number, string>> = {
  [IPVS_CMD_NEW_SERVICE]: 'IPVS_CMD_NEW_SERVICE', [IPVS_CMD_SET_SERVICE]: 'IPVS_CMD_SET_SERVICE',
  [IPVS_CMD_DEL_SERVICE]: 'IPVS_CMD_DEL_SERVICE', [IPVS_CMD_GET_SERVICE]: 'IPVS_CMD_GET_SERVICE',
  [IPVS_CMD_NEW_DEST]: 'IPVS_CMD_NEW_DEST', [IPVS_CMD_SET_DEST]: 'IPVS_CMD_SET_DEST',
  [IPVS_CMD_DEL_DEST]: 'IPVS_CMD_DEL_DEST', [IPVS_CMD_GET_DEST]: 'IPVS_CMD_GET_DEST',
  [IPVS_CMD_NEW_DAEMON]: 'IPVS_CMD_NEW_DAEMON', [IPVS_CMD_DEL_DAEMON]: 'IPVS_CMD_DEL_DAEMON',
  [IPVS_CMD_GET_DAEMON]: 'IPVS_CMD_GET_DAEMON', [IPVS_CMD_SET_CONFIG]: 'IPVS_CMD_SET_CONFIG',
  [IPVS_CMD_GET_CONFIG]: 'IPVS_CMD_GET_CONFIG', [IPVS_CMD_SET_INFO]: 'IPVS_CMD_SET_INFO',
  [IPVS_CMD_GET_INFO]: 'IPVS_CMD_GET_INFO', [IPVS_CMD_ZERO]: 'IPVS_CMD_ZERO', [IPVS_CMD_FLUSH]: 'IPVS_CMD_FLUSH',
};

// ---- first-level attributes (enum IPVS_CMD_ATTR_*) -------------------------------------------
export const IPVS_CMD_ATTR_SERVICE = 1;
export const IPVS_CMD_ATTR_DEST = 2;
export const IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
export const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
export const IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

// ---- service attributes (enum IPVS_SVC_ATTR_*, nested in IPVS_CMD_ATTR_SERVICE) ---------------
/** u16 address family (AF_INET / AF_INET6). */
export const IPVS_SVC_ATTR_AF = 1;
/** u16 IP protocol number. */
export const IPVS_SVC_ATTR_PROTOCOL = 2;
/** union nf_inet_addr: 16 bytes, network order (IPv4 in the first 4). */
export const IPVS_SVC_ATTR_ADDR = 3;
/** be16 port. */
export const IPVS_SVC_ATTR_PORT = 4;
/** u32 firewall mark. */
export const IPVS_SVC_ATTR_FWMARK = 5;
/** NUL-terminated scheduler name (at most 15 characters). */
export const IPVS_SVC_ATTR_SCHED_NAME = 6;
/** struct ip_vs_flags { u32 flags; u32 mask; }, host order. */
export const IPVS_SVC_ATTR_FLAGS = 7;
/** u32 persistence timeout in seconds. */
export const IPVS_SVC_ATTR_TIMEOUT = 8;
/** be32 persistence netmask (IPv4), or u32 prefix length in host order (IPv6). */
export const IPVS_SVC_ATTR_NETMASK = 9;
export const IPVS_SVC_ATTR_STATS = 10;
/** NUL-terminated persistence engine name (`sip`). */
export const IPVS_SVC_ATTR_PE_NAME = 11;
export const IPVS_SVC_ATTR_STATS64 = 12;

// ---- destination attributes (enum IPVS_DEST_ATTR_*, nested in IPVS_CMD_ATTR_DEST) -------------
export const IPVS_DEST_ATTR_ADDR = 1;
export const IPVS_DEST_ATTR_PORT = 2;
/** u32 connection flags; only IP_VS_CONN_F_FWD_MASK bits count. */
export const IPVS_DEST_ATTR_FWD_METHOD = 3;
/** u32 weight (the kernel reads it as a signed int and refuses < 0). */
export const IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5;
export const IPVS_DEST_ATTR_L_THRESH = 6;
export const IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8;
export const IPVS_DEST_ATTR_PERSIST_CONNS = 9;
export const IPVS_DEST_ATTR_STATS = 10;
/** u16 address family of the destination (kernel ≥ 3.18; absent means the service's). */
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11;
export const IPVS_DEST_ATTR_STATS64 = 12;
/** u8 tunnel type (kernel ≥ 5.2). */
export const IPVS_DEST_ATTR_TUN_TYPE = 13;
/** be16 tunnel port (kernel ≥ 5.2). */
export const IPVS_DEST_ATTR_TUN_PORT = 14;
/** u16 tunnel flags (kernel ≥ 5.3). */
export const IPVS_DEST_ATTR_TUN_FLAGS = 15;

// ---- sync daemon attributes (enum IPVS_DAEMON_ATTR_*, nested in IPVS_CMD_ATTR_DAEMON) ----------
export const IPVS_DAEMON_ATTR_STATE = 1;
export const IPVS_DAEMON_ATTR_MCAST_IFN = 2;
export const IPVS_DAEMON_ATTR_SYNC_ID = 3;
/** u16 (kernel ≥ 4.3, as are the group, port and TTL). */
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
/** in_addr, network order. */
export const IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
/** in6_addr. */
export const IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
/** u16 in host order on the wire (the kernel calls it be16 but converts with htons() when binding). */
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7;
/** u8. */
export const IPVS_DAEMON_ATTR_MCAST_TTL = 8;

// ---- statistics attributes (enum IPVS_STATS_ATTR_*) ---------------------------------------------
export const IPVS_STATS_ATTR_CONNS = 1;
export const IPVS_STATS_ATTR_INPKTS = 2;
export const IPVS_STATS_ATTR_OUTPKTS = 3;
export const IPVS_STATS_ATTR_INBYTES = 4;
export const IPVS_STATS_ATTR_OUTBYTES = 5;
export const IPVS_STATS_ATTR_CPS = 6;
export const IPVS_STATS_ATTR_INPPS = 7;
export const IPVS_STATS_ATTR_OUTPPS = 8;
export const IPVS_STATS_ATTR_INBPS = 9;
export const IPVS_STATS_ATTR_OUTBPS = 10;
export const IPVS_STATS_ATTR_PAD = 11;

// ---- info attributes (enum IPVS_INFO_ATTR_*) ----------------------------------------------------
export const IPVS_INFO_ATTR_VERSION = 1;
export const IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

// ---- service flags (IP_VS_SVC_F_*) --------------------------------------------------------------
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
/** Set by the kernel on every service in its table; never ours to set. */
export const IP_VS_SVC_F_HASHED = 0x0002;
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008;
export const IP_VS_SVC_F_SCHED2 = 0x0010;
export const IP_VS_SVC_F_SCHED3 = 0x0020;
/** IP_VS_SVC_F_SCHED_SH_FALLBACK = SCHED1; the same bit is IP_VS_SVC_F_SCHED_MH_FALLBACK. */
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1;
/** IP_VS_SVC_F_SCHED_SH_PORT = SCHED2; the same bit is IP_VS_SVC_F_SCHED_MH_PORT. */
export const IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;

// ---- connection (forwarding) flags (IP_VS_CONN_F_*) ----------------------------------------------
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_BYPASS = 0x0004;

// ---- tunnels (IP_VS_CONN_F_TUNNEL_TYPE_*, IP_VS_TUNNEL_ENCAP_FLAG_*) ------------------------------
export const IP_VS_CONN_F_TUNNEL_TYPE_IPIP = 0;
export const IP_VS_CONN_F_TUNNEL_TYPE_GUE = 1;
export const IP_VS_CONN_F_TUNNEL_TYPE_GRE = 2;
export const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0;
export const IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0;
export const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1;

// ---- sync daemon states (IP_VS_STATE_*) -----------------------------------------------------------
export const IP_VS_STATE_NONE = 0;
export const IP_VS_STATE_MASTER = 1;
export const IP_VS_STATE_BACKUP = 2;

// ---- lengths ----------------------------------------------------------------------------------
/** IP_VS_SCHEDNAME_MAXLEN, including the NUL. */
export const IP_VS_SCHEDNAME_MAXLEN = 16;
/** IP_VS_PENAME_MAXLEN, including the NUL. */
export const IP_VS_PENAME_MAXLEN = 16;
/** IP_VS_IFNAME_MAXLEN, including the NUL. */
export const IP_VS_IFNAME_MAXLEN = 16;

// ---- address families and protocols as the kernel numbers them -------------------------------
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
