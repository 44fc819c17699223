// layer: kernel client (IPVS)
// job: the typed model of IPVS state: virtual services, real servers, sync daemons, timeouts, stats.

/** Transport protocol of an address+port service. */
export type Protocol = 'tcp' | 'udp' | 'sctp';

/** Every scheduler IPVS has (`twos` only on kernels ≥ 5.5). */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
/** A scheduler name (`lb_algo` in keepalived). */
export type Scheduler = (typeof SCHEDULERS)[number];

/**
 * Scheduler flags, as `ipvsadm -b` names them: `sh-fallback`/`sh-port` for sh, `mh-fallback`/
 * `mh-port` for mh (the same kernel bits, IP_VS_SVC_F_SCHED1/2), and `flag-1`..`flag-3` for the
 * raw bits under any other scheduler.
 */
export type SchedulerFlag = 'sh-fallback' | 'sh-port' | 'mh-fallback' | 'mh-port' | 'flag-1' | 'flag-2' | 'flag-3';

/** IPv4 or IPv6. */
export type Family = 4 | 6;

/** A service identified by protocol, virtual address and port. */
export interface AddressServiceKey {
  protocol: Protocol;
  /** Virtual IP, IPv4 or IPv6 text (the family follows from it). */
  address: string;
  /** 0…65535 (0: all ports, for persistent services). */
  port: number;
}

/** A service identified by firewall mark (IPv4 and IPv6 fwmark services are distinct). */
export interface FwmarkServiceKey {
  /** 1…2³²−1. */
  fwmark: number;
  /** Default 4. */
  family?: Family;
}

/** What identifies a virtual service in the kernel. */
export type ServiceKey = AddressServiceKey | FwmarkServiceKey;

/** Client affinity (`persistence_timeout` in keepalived, `-p` in ipvsadm). */
export interface Persistence {
  /** Seconds a client sticks to its real server (IPVS_SVC_ATTR_TIMEOUT); ≥ 1. */
  timeoutSec: number;
  /**
   * Granularity: clients in one prefix of this length share a real server. Default 32 (IPv4) or
   * 128 (IPv6). For IPv4 a dotted `netmask` may be given instead (it may be non-contiguous).
   */
  prefixLength?: number;
  /** IPv4 only: the persistence netmask as dotted text (what `ipvsadm -M` takes). */
  netmask?: string;
  /** Persistence engine (IPVS_SVC_ATTR_PE_NAME); the kernel has `sip` (UDP). */
  engine?: string;
}

/** How a virtual service behaves (everything but its identity and real servers). */
export interface ServiceSettings {
  scheduler: Scheduler;
  schedulerFlags?: SchedulerFlag[];
  persistence?: Persistence;
  /** One-packet scheduling (IP_VS_SVC_F_ONEPACKET, `ipvsadm -o`); UDP only. */
  onePacket?: boolean;
}

/** Forwarding method (`lb_kind`): DR, NAT (masquerading) or tunnelling. */
export type ForwardingMethod = 'dr' | 'nat' | 'tun';
/** What the kernel may report beyond the three one can set: local node, cache bypass. */
export type ReportedForwardingMethod = ForwardingMethod | 'local' | 'bypass';

/** Tunnel encapsulation of a `tun` real server. */
export interface Tunnel {
  /** Default `ipip`. */
  type: 'ipip' | 'gue' | 'gre';
  /** UDP port of the GUE receiver (required for gue; 0 otherwise). */
  port?: number;
  /** Encapsulation checksum: none (default), csum, or remcsum (GUE remote checksum offload). */
  checksum?: 'none' | 'csum' | 'remcsum';
}

/** A real server (destination) of a virtual service. */
export interface Destination {
  /** IPv4 or IPv6; may differ from the service's family only with `tun` forwarding. */
  address: string;
  /** 0…65535. */
  port: number;
  forward: ForwardingMethod;
  /** 0…2³¹−1; 0 quiesces the server (no new connections). */
  weight: number;
  /** Stop scheduling new connections at this many (0: no limit). */
  upperThreshold?: number;
  /** Resume below this many (0: no limit); ≤ upperThreshold. */
  lowerThreshold?: number;
  /** Tunnel settings for `tun` (ignored otherwise). */
  tunnel?: Tunnel;
}

/** A virtual service as one declares it: identity, settings and (for plans) its real servers. */
export type VirtualService = ServiceKey & ServiceSettings & { destinations?: Destination[] };

/**
 * Traffic counters. From IPVS_*_ATTR_STATS64 when the kernel sends it (`width` 64), else from the
 * 32-bit IPVS_*_ATTR_STATS (`width` 32: conns and packets wrap at 2³²). Rates are the kernel's
 * estimator, per second.
 */
export interface Stats {
  width: 32 | 64;
  conns: bigint;
  inPkts: bigint;
  outPkts: bigint;
  inBytes: bigint;
  outBytes: bigint;
  connsPerSec: bigint;
  inPktsPerSec: bigint;
  outPktsPerSec: bigint;
  inBytesPerSec: bigint;
  outBytesPerSec: bigint;
}

/** A real server as the kernel reports it. */
export interface DestinationState extends Omit<Destination, 'forward'> {
  forward: ReportedForwardingMethod;
  family: Family;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  /** Absent when the kernel sent no statistics. */
  stats?: Stats;
}

/** A virtual service as the kernel reports it. */
export type ServiceState = ServiceKey & ServiceSettings & {
  family: Family;
  /** Flag bits lvskit does not model (nonzero only when the kernel has new ones). */
  unknownFlags?: number;
  stats?: Stats;
  /** Filled in by dumps that include real servers (`IpvsClient.dumpTable`). */
  destinations: DestinationState[];
};

/** A sync daemon (`lvs_sync_daemon` in keepalived). */
export interface SyncDaemon {
  state: 'master' | 'backup';
  /** Multicast interface name (IPVS_DAEMON_ATTR_MCAST_IFN), e.g. `eth0`. */
  interface: string;
  /** 0…255 (default 255 in ipvsadm; keepalived derives it from the VRID). */
  syncId: number;
  /** Largest sync message payload in bytes (kernel default: from the interface MTU). */
  maxLength?: number;
  /** Multicast group, IPv4 or IPv6 (kernel default 224.0.0.81). */
  group?: string;
  /** UDP port (kernel default 8848). */
  port?: number;
  /** Multicast TTL 1…255 (kernel default 1). */
  ttl?: number;
}

/** Connection timeouts (`ipvsadm --set`), in seconds. */
export interface Timeouts {
  tcpSec: number;
  tcpFinSec: number;
  udpSec: number;
}

/** IPVS_CMD_GET_INFO. */
export interface IpvsInfo {
  /** e.g. `1.2.1`. */
  version: string;
  /** The raw IP_VS_VERSION_CODE, e.g. 0x010201. */
  versionCode: number;
  /** Buckets of the connection hash table. */
  connTableSize: number;
}

/** True when `key` names a fwmark service. */
export function isFwmarkKey(key: ServiceKey): key is FwmarkServiceKey {
  return (key as FwmarkServiceKey).fwmark !== undefined;
}

/** The address family of a service. */
export function serviceFamily(key: ServiceKey): Family {
  if (isFwmarkKey(key)) return key.family ?? 4;
  return key.address.includes(':') ? 6 : 4;
}

/** The address family of an address text. */
export function addressFamily(address: string): Family {
  return address.includes(':') ? 6 : 4;
}

function hostPort(address: string, port: number): string {
  return addressFamily(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * A service's identity as text, stable and unique: `TCP 10.0.0.1:80`, `UDP [2001:db8::1]:53`,
 * `FWM 5`, `FWM 5 IPv6`. Addresses should be canonical (validateService makes them so).
 */
export function serviceName(key: ServiceKey): string {
  if (isFwmarkKey(key)) return `FWM ${key.fwmark}${(key.family ?? 4) === 6 ? ' IPv6' : ''}`;
  return `${key.protocol.toUpperCase()} ${hostPort(key.address, key.port)}`;
}

/** A real server's identity within its service as text: `10.0.1.1:80`, `[2001:db8::1]:80`. */
export function destinationName(dest: { address: string; port: number }): string {
  return hostPort(dest.address, dest.port);
}

/** Only the identifying fields of a service. */
export function serviceKeyOf(svc: ServiceKey): ServiceKey {
  if (isFwmarkKey(svc)) return { fwmark: svc.fwmark, family: svc.family ?? 4 };
  return { protocol: svc.protocol, address: svc.address, port: svc.port };
}
