// layer: behaviour (vrrp)
// job: the typed configuration of a VRRP instance and sync group (keepalived's vrrp_instance / vrrp_sync_group), and its resolved form.
import type { Scope } from '../rtnl/constants.js';
import type { IpvlanFlags } from '../rtnl/link-create.js';
import type { RuleSpec } from '../rtnl/rule.js';
import type { RouteEntry } from './net-plan.js';
import type { IpFamily, VrrpVersion } from './packet.js';

/** A virtual address: `123.30.175.40`, `123.30.175.40/32`, or with its device and label (`dev eth1 label eth1:2`). */
export interface VirtualAddressConfig {
  /** Address, optionally `/prefix` (default /32 or /128, as keepalived). */
  address: string;
  /** Device to add it to (default: the instance's interface). */
  dev?: string;
  /** IPv4 label such as `eth1:2`; must begin with the device name. */
  label?: string;
  /** `scope` (default `global`). */
  scope?: Scope;
  /** IPv4 only: `brd`, the broadcast address (default: none, as `ip addr add` without `brd`). */
  broadcast?: string;
}

/** keepalived `track_interface`: without weight, the link going down puts the instance in FAULT. */
export interface TrackInterfaceConfig {
  /** Link name; an alias label such as `eth1:2` tracks its link `eth1`. */
  dev: string;
  /** Positive: added to the priority while the link is up. Negative: added while it is down. 0/absent: FAULT when down. */
  weight?: number;
}

/**
 * Notify scripts, each an explicit argv (no shell). keepalived's `notify` script gets
 * `INSTANCE|GROUP NAME STATE PRIORITY` appended; the per-state ones run as given.
 */
export interface NotifyScripts {
  master?: string[];
  backup?: string[];
  fault?: string[];
  stop?: string[];
  notify?: string[];
}

/**
 * keepalived `use_vmac` (a macvlan, mode private, with the VRRP MAC 00:00:5e:00:01:VRID — IPv6
 * 00:00:5e:00:02:VRID) or `use_ipvlan` (an L2 ipvlan) on the instance's interface. The adverts
 * leave from it (unless `xmitBase`); the VIPs without a `dev` go on a macvlan, and stay on the
 * interface with an ipvlan (as keepalived 2.2.7 puts them). Created at start, removed at a graceful stop.
 */
export interface VirtualMacConfig {
  /** `macvlan` (use_vmac, the default) or `ipvlan` (use_ipvlan). */
  kind?: 'macvlan' | 'ipvlan';
  /** Interface name. Default `vrrp.VRID`. */
  name?: string;
  /** macvlan: its MAC, six octets, or five with the VRID as the sixth. Default the RFC 5798 virtual router MAC. */
  mac?: string;
  /** macvlan: adverts are sent and received on the base interface (`vmac_xmit_base`). */
  xmitBase?: boolean;
  /** ipvlan: its address `ADDR[/LEN]`, also the advert source; required for IPv4. */
  address?: string;
  /** ipvlan: `bridge` (default), `private` or `vepa`. */
  ipvlanFlags?: IpvlanFlags;
}

/** One VRRP instance (keepalived `vrrp_instance`). Defaults are keepalived's. */
export interface VrrpInstanceConfig {
  /** Instance name (`VI_1`), used in events and notify scripts. */
  name: string;
  /** Interface adverts are sent and received on. */
  interface: string;
  /** `virtual_router_id`, 1..255. */
  vrid: number;
  /** 1..255; 255 is the address owner. Default 100. */
  priority?: number;
  /** VRRP version. Default 2 (IPv4 only); IPv6 needs 3. */
  version?: VrrpVersion;
  /** `advert_int`. v2: whole seconds (1000..255000); v3: centiseconds (10..40950). Default 1000. */
  advertIntervalMs?: number;
  /** `authentication { auth_type PASS; auth_pass … }` (v2 only; the first 8 bytes are used, as keepalived). */
  authPass?: string;
  /** `virtual_ipaddress`: all of one family, which is the instance's family. */
  virtualAddresses: Array<string | VirtualAddressConfig>;
  /** Default true; `nopreempt` is false. */
  preempt?: boolean;
  /** `preempt_delay` in ms (0..1,000,000). Default 0. */
  preemptDelayMs?: number;
  /** `accept` (RFC 5798 Accept_Mode). Default true, as keepalived without `vrrp_strict`. */
  acceptMode?: boolean;
  /** `unicast_src_ip`: the advert source (default: the interface's primary address). */
  unicastSourceAddress?: string;
  /** `unicast_peer`: send adverts to these addresses instead of the multicast group. */
  unicastPeers?: string[];
  /** `track_interface`. The instance's own interface is always tracked (down → FAULT). */
  trackInterfaces?: Array<string | TrackInterfaceConfig>;
  /** `garp_master_delay` in ms (default 5000; 0: no second round). */
  garpMasterDelayMs?: number;
  /** `garp_master_repeat` (default 5). */
  garpMasterRepeat?: number;
  /** `garp_master_refresh` in ms (default 0: off). */
  garpMasterRefreshMs?: number;
  /** `garp_master_refresh_repeat` (default 1). */
  garpMasterRefreshRepeat?: number;
  /** `lvs_sync_daemon_interface`: drive the IPVS sync daemon on this interface (through the runner's hook). */
  lvsSyncDaemonInterface?: string;
  notify?: NotifyScripts;
  /** keepalived `virtual_routes`: added on becoming MASTER (after the VIPs), removed on leaving it (before them). */
  virtualRoutes?: RouteEntry[];
  /** keepalived `virtual_rules`: added on becoming MASTER (after the routes), removed on leaving it (first). */
  virtualRules?: RuleSpec[];
  /** keepalived `use_vmac` / `use_ipvlan`: the adverts (and, for a macvlan, the VIPs) on a macvlan or ipvlan of `interface`. */
  vmac?: VirtualMacConfig;
}

/** keepalived `vrrp_sync_group`: its members change state together. */
export interface VrrpSyncGroupConfig {
  name: string;
  /** Instance names, at least two. */
  members: string[];
  notify?: NotifyScripts;
}

/** A virtual address after validation. */
export interface ResolvedVip {
  address: string;
  prefixLength: number;
  dev: string;
  label?: string;
  scope?: Scope;
  broadcast?: string;
}

/** A VMAC or ipvlan after validation: its name, its base (the instance's interface) and every default filled in. */
export interface ResolvedVmac {
  kind: 'macvlan' | 'ipvlan';
  name: string;
  base: string;
  /** macvlan: the MAC it is created with. */
  mac?: string;
  xmitBase: boolean;
  ipvlanFlags: IpvlanFlags;
  /** ipvlan: the address put on it (the advert source). */
  address?: { address: string; prefixLength: number };
}

/** An instance after validation, with every default filled in. */
export interface ResolvedInstance {
  name: string;
  interface: string;
  vrid: number;
  priority: number;
  version: VrrpVersion;
  family: IpFamily;
  advertIntervalCs: number;
  /** The 8 password bytes for `auth_type PASS`. */
  authData?: Buffer;
  vips: ResolvedVip[];
  preempt: boolean;
  preemptDelayMs: number;
  acceptMode: boolean;
  unicastSourceAddress?: string;
  unicastPeers: string[];
  /** Tracked links by link name (aliases resolved); the instance's interface is included, unweighted. */
  track: Array<{ dev: string; weight: number }>;
  garp: { masterDelayMs: number; masterRepeat: number; masterRefreshMs: number; masterRefreshRepeat: number };
  lvsSyncDaemonInterface?: string;
  notify: NotifyScripts;
  /** Absent when none are configured. */
  routes?: RouteEntry[];
  rules?: RuleSpec[];
  vmac?: ResolvedVmac;
}
