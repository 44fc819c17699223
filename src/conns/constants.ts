// layer: kernel client (IPVS connections)
// job: the kernel's connection flags, protocol numbers, state names and default timeouts (include/uapi/linux/ip_vs.h, net/netfilter/ipvs/ip_vs_proto_*.c).

/** IP_VS_CONN_F_FWD_MASK: the forwarding method bits. */
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
/** IP_VS_CONN_F_SYNC: the entry was created by the sync daemon (set by the receiving kernel). */
export const IP_VS_CONN_F_SYNC = 0x0020;
/** IP_VS_CONN_F_HASHED: kernel-internal; masked off in sync messages. */
export const IP_VS_CONN_F_HASHED = 0x0040;
/** IP_VS_CONN_F_NOOUTPUT. */
export const IP_VS_CONN_F_NOOUTPUT = 0x0080;
/** IP_VS_CONN_F_INACTIVE: not counted as an active connection of its real server. */
export const IP_VS_CONN_F_INACTIVE = 0x0100;
/** IP_VS_CONN_F_OUT_SEQ: outgoing sequence adjustment data present. */
export const IP_VS_CONN_F_OUT_SEQ = 0x0200;
/** IP_VS_CONN_F_IN_SEQ: incoming sequence adjustment data present. */
export const IP_VS_CONN_F_IN_SEQ = 0x0400;
/** IP_VS_CONN_F_SEQ_MASK: either sequence flag; a v0 entry is then followed by 24 bytes of sequence data. */
export const IP_VS_CONN_F_SEQ_MASK = 0x0600;
/** IP_VS_CONN_F_NO_CPORT. */
export const IP_VS_CONN_F_NO_CPORT = 0x0800;
/** IP_VS_CONN_F_TEMPLATE: a persistence template, not a connection. */
export const IP_VS_CONN_F_TEMPLATE = 0x1000;
/** IP_VS_CONN_F_ONE_PACKET: one-packet scheduling; never synced. */
export const IP_VS_CONN_F_ONE_PACKET = 0x2000;

/** IPPROTO_* numbers IPVS knows, and the names `ip_vs_proto_name()` prints for them. */
export const IPPROTO_IP = 0;
/** IPPROTO_ICMP: IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IPPROTO_TCP: IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IPPROTO_UDP: IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** IPPROTO_ESP: IP protocol number of ESP. */
export const IPPROTO_ESP = 50;
/** IPPROTO_AH: IP protocol number of AH. */
export const IPPROTO_AH = 51;
/** IPPROTO_ICMPV6: IP protocol number of ICMPv6. */
export const IPPROTO_ICMPV6 = 58;
/** IPPROTO_SCTP: IP protocol number of SCTP. */
export const IPPROTO_SCTP = 132;

/** The protocol column of /proc/net/ip_vs_conn for a protocol number (`ip_vs_proto_name()`). */
export function protocolName(protocol: number): string {
  switch (protocol) {
    case IPPROTO_IP: return 'IP';
    case IPPROTO_UDP: return 'UDP';
    case IPPROTO_TCP: return 'TCP';
    case IPPROTO_SCTP: return 'SCTP';
    case IPPROTO_ICMP: return 'ICMP';
    case IPPROTO_ICMPV6: return 'ICMPv6';
    default: return `IP_${protocol}`;
  }
}

/** The protocol number of a /proc/net/ip_vs_conn protocol name; undefined for an unknown name. */
export function protocolNumber(name: string): number | undefined {
  const known: Record<string, number> = { IP: 0, UDP: 17, TCP: 6, SCTP: 132, ICMP: 1, ICMPv6: 58 };
  if (name in known) return known[name];
  const m = /^IP_(\d{1,3})$/.exec(name);
  return m && Number(m[1]) < 256 ? Number(m[1]) : undefined;
}

/** tcp_state_name_table (ip_vs_proto_tcp.c), indexed by IP_VS_TCP_S_*. */
export const TCP_STATES = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'] as const;
/** udp_state_name_table (ip_vs_proto_udp.c): one state, IP_VS_UDP_S_NORMAL. */
export const UDP_STATES = ['UDP'] as const;
/** sctp_state_name_table (ip_vs_proto_sctp.c), indexed by IP_VS_SCTP_S_*. */
export const SCTP_STATES = ['NONE', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED', 'ESTABLISHED', 'S-SENT', 'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED'] as const;
/** ip_vs_ctpl_state_name_table (ip_vs_proto.c): persistence template states. */
export const TEMPLATE_STATES = ['NONE', 'ASSURED'] as const;

/** IP_VS_TCP_S_ESTABLISHED. */
export const IP_VS_TCP_S_ESTABLISHED = 1;
/** IP_VS_SCTP_S_ESTABLISHED. */
export const IP_VS_SCTP_S_ESTABLISHED = 8;

/** The state name the kernel shows for a connection, as `ip_vs_state_name()` does. */
export function stateName(protocol: number, state: number, template: boolean): string {
  if (template) return state < TEMPLATE_STATES.length ? TEMPLATE_STATES[state] as string : 'ERR!';
  const table = statesOf(protocol);
  if (!table) return protocol === IPPROTO_IP ? 'NONE' : 'ERR!';
  return table[state] ?? 'ERR!';
}

/** The state table of a protocol IPVS registers (TCP, UDP, SCTP; AH and ESP have one unnamed state). */
function statesOf(protocol: number): readonly string[] | undefined {
  switch (protocol) {
    case IPPROTO_TCP: return TCP_STATES;
    case IPPROTO_UDP: return UDP_STATES;
    case IPPROTO_SCTP: return SCTP_STATES;
    default: return undefined;
  }
}

/**
 * How many states a protocol has (`pp->num_states`); undefined when IPVS has no such protocol.
 * A backup drops a synced connection whose state is not below this.
 */
export function stateCount(protocol: number): number | undefined {
  if (protocol === IPPROTO_AH || protocol === IPPROTO_ESP) return 1;
  return statesOf(protocol)?.length;
}

/** Default TCP timeouts in seconds (tcp_timeouts, ip_vs_proto_tcp.c), indexed by state. */
export const TCP_TIMEOUTS_SEC = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120] as const;
/**
 * Default SCTP timeouts in seconds (sctp_timeouts, ip_vs_proto_sctp.c), indexed by state: INIT1
 * and REJECTED 3 + 1 s, ESTABLISHED 15 min, the others IP_VS_SCTP_MAX_RTO (60 + 1 s).
 */
export const SCTP_TIMEOUTS_SEC = [2, 4, 61, 61, 61, 61, 61, 61, 900, 61, 61, 61, 4, 61] as const;
/** UDP's one timeout (udp_timeouts), seconds. */
export const UDP_TIMEOUT_SEC = 300;
/** AH/ESP's one timeout (ah_esp timeouts: 15 minutes), seconds. */
export const AH_ESP_TIMEOUT_SEC = 900;
/** What a backup uses for templates and unknown timeouts: 3 minutes (ip_vs_proc_conn). */
export const FALLBACK_TIMEOUT_SEC = 180;

/**
 * The timeout a backup gives an entry synced without one (protocol v0, or a v1 timeout of 0):
 * the protocol's default timeout for the state, 3 minutes for templates. Sites that changed
 * timeouts with `ipvsadm --set` get their own values from v1 messages instead.
 */
export function defaultTimeoutSec(protocol: number, state: number, template: boolean): number {
  if (template) return FALLBACK_TIMEOUT_SEC;
  switch (protocol) {
    case IPPROTO_TCP: return TCP_TIMEOUTS_SEC[state] ?? FALLBACK_TIMEOUT_SEC;
    case IPPROTO_SCTP: return SCTP_TIMEOUTS_SEC[state] ?? FALLBACK_TIMEOUT_SEC;
    case IPPROTO_UDP: return UDP_TIMEOUT_SEC;
    case IPPROTO_AH: case IPPROTO_ESP: return AH_ESP_TIMEOUT_SEC;
    default: return FALLBACK_TIMEOUT_SEC;
  }
}

/** IP_VS_SYNC_GROUP: the default sync multicast group, 224.0.0.81. */
export const IP_VS_SYNC_GROUP = '224.0.0.81';
/** IP_VS_SYNC_PORT: the default sync port; sync thread N of `net.ipv4.vs.sync_ports` uses port + N. */
export const IP_VS_SYNC_PORT = 8848;
/** IP_VS_PENAME_MAXLEN: longest persistence-engine name. */
export const IP_VS_PENAME_MAXLEN = 16;
/** IP_VS_PEDATA_MAXLEN: longest persistence-engine data. */
export const IP_VS_PEDATA_MAXLEN = 255;
