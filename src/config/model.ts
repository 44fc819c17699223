// layer: config (pure)
// job: the typed model of a keepalived configuration (plus the lvskit extension block), as the parser builds it.
//
// Times are milliseconds (keepalived's seconds with micro-second resolution, so values may be fractional);
// every object read from a block carries the `location` of its keyword.
import type { AutobanConfig } from './model-autoban.js';
import type { Checker } from './model-checkers.js';
import type { ConfigRoute, ConfigRule } from './model-routes.js';
import type { SourceLocation } from './diagnostics.js';

export type * from './model-checkers.js';
export type * from './model-autoban.js';
export type * from './model-routes.js';

export type { SourceLocation } from './diagnostics.js';

/** IPv4 or IPv6. */
export type AddressFamily = 4 | 6;

/** A script to run: keepalived splits the command on unquoted spaces (single quotes keep spaces). */
export interface ScriptCommand {
  /** The command as written (quotes removed), e.g. `/usr/local/bin/notify.sh master`. */
  command: string;
  /** The command split into program and arguments. */
  argv: string[];
  /** Run as this user (default: global `script_user`). */
  user?: string;
  group?: string;
}

/** `smtp_server HOST [PORT]`. */
export interface SmtpServer {
  host: string;
  port?: number;
}

/** `lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`. */
export interface LvsSyncDaemon {
  interface: string;
  /** The vrrp_instance whose state drives master/backup (both run when absent). */
  instance?: string;
  syncId?: number;
  maxLength?: number;
  port?: number;
  ttl?: number;
  group?: string;
  location: SourceLocation;
}

/** `lvs_timeouts [tcp S] [tcpfin S] [udp S]`, in seconds as IPVS takes them. */
export interface LvsTimeouts {
  tcpSec?: number;
  tcpFinSec?: number;
  udpSec?: number;
}

/** `notify_fifo` / `vrrp_notify_fifo`: where VRRP state lines are written, and the script started to read them. */
export interface NotifyFifoConfig {
  path: string;
  /** Owner of the FIFO when lvskit creates it (as written; not applied). */
  user?: string;
  group?: string;
  /** `*_notify_fifo_script`: started once with the FIFO's path as its last argument. */
  script?: ScriptCommand;
  location: SourceLocation;
}

/** The `global_defs` block. */
export interface GlobalDefs {
  routerId?: string;
  notifyFifo?: NotifyFifoConfig;
  vrrpNotifyFifo?: NotifyFifoConfig;
  lvsNotifyFifo?: NotifyFifoConfig;
  /** `startup_script` / `shutdown_script` and their timeouts (keepalived's default 10 s). */
  startupScript?: ScriptCommand;
  startupScriptTimeoutMs?: number;
  shutdownScript?: ScriptCommand;
  shutdownScriptTimeoutMs?: number;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: SmtpServer;
  smtpHeloName?: string;
  smtpConnectTimeoutMs?: number;
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  noEmailFaults?: boolean;
  checkerLogAllFailures?: boolean;
  defaultInterface?: string;
  vrrpVersion?: 2 | 3;
  vrrpMcastGroup4?: string;
  vrrpMcastGroup6?: string;
  vrrpGarpMasterDelayMs?: number;
  vrrpGarpMasterRepeat?: number;
  vrrpGarpLowerPrioDelayMs?: number;
  vrrpGarpLowerPrioRepeat?: number;
  vrrpGarpMasterRefreshMs?: number;
  vrrpGarpMasterRefreshRepeat?: number;
  vrrpGarpIntervalMs?: number;
  vrrpGnaIntervalMs?: number;
  vrrpMinGarp?: boolean;
  vrrpLowerPrioNoAdvert?: boolean;
  vrrpHigherPrioSendAdvert?: boolean;
  vrrpCheckUnicastSrc?: boolean;
  vrrpSkipCheckAdvAddr?: boolean;
  vrrpStrict?: boolean;
  vrrpStartupDelayMs?: number;
  vrrpDownTimerAdverts?: number;
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity?: boolean;
  lvsSyncDaemon?: LvsSyncDaemon;
  lvsTimeouts?: LvsTimeouts;
  lvsFlush?: boolean;
  /** `lvs_flush_on_stop [VS]`: `all` flushes everything, `vs` removes only our virtual servers. */
  lvsFlushOnStop?: 'all' | 'vs';
  /** Top-level `net_namespace NAME`: run everything in this network namespace. */
  netNamespace?: string;
  /** Top-level `net_namespace_ipvs [NAME]`: IPVS in this namespace ('' = the default namespace). */
  netNamespaceIpvs?: string;
}

/** A `vrrp_script` block. */
export interface VrrpScript {
  name: string;
  script?: ScriptCommand;
  intervalMs?: number;
  timeoutMs?: number;
  weight?: number;
  weightReverse?: boolean;
  rise?: number;
  fall?: number;
  user?: string;
  group?: string;
  initFail?: boolean;
  location: SourceLocation;
}

/** A `track_interface` entry: `IFNAME [weight N [reverse]]`. */
export interface TrackedInterface {
  name: string;
  weight?: number;
  reverse?: boolean;
  location: SourceLocation;
}

/** A `track_script` entry: `SCRIPT [weight N [reverse|noreverse]]`. */
export interface TrackedScript {
  name: string;
  weight?: number;
  reverse?: boolean;
  location: SourceLocation;
}

/** A top-level `track_file NAME { file PATH  weight N [reverse]  init_file [VALUE] [overwrite] }` (old name `vrrp_track_file`). */
export interface TrackFile {
  name: string;
  file?: string;
  /** keepalived's default 1: the instance's priority moves by the file's value. */
  weight?: number;
  weightReverse?: boolean;
  /** `init_file`: the file is written with `value` (default 0) when missing, or at every start with `overwrite`. */
  initFile?: { value: number; overwrite: boolean };
  location: SourceLocation;
}

/** A `track_file` entry of an instance or sync group: `NAME [weight -254..254 [reverse|noreverse]]`. */
export type TrackedFile = TrackedScript;

/**
 * A top-level `vrrp_track_process NAME { process NAME_OR_PATH [PARAMS...]  param_match [initial|partial]
 * weight N [reverse]  quorum N  quorum_max N  delay S  fork_delay S  terminate_delay S  full_command }`.
 */
export interface TrackProcess {
  name: string;
  /** The process's name (comm) or, with full_command, its argv[0]. */
  process?: string;
  /** The words after the name: its arguments, compared by `paramMatch`. */
  params?: string[];
  /** `param_match`: exact (also the default when params are given), initial (the last word may be a prefix), partial (leading words). */
  paramMatch?: 'exact' | 'initial' | 'partial';
  /** keepalived's default 0: quorum lost is a FAULT. */
  weight?: number;
  weightReverse?: boolean;
  /** Fewest matching processes for the quorum (default 1). */
  quorum?: number;
  /** Most matching processes for the quorum (default unbounded; 0: the quorum is that none runs). */
  quorumMax?: number;
  /** `fork_delay` (or `delay`): a quorum gained by a fork counts after this. */
  forkDelayMs?: number;
  /** `terminate_delay` (or `delay`): a quorum lost by an exit counts after this. */
  terminateDelayMs?: number;
  /** Match the command line (argv[0] and parameters) instead of the 15-character process name. */
  fullCommand?: boolean;
  location: SourceLocation;
}

/** A `track_process` entry of an instance or sync group: `NAME [weight -254..254 [reverse|noreverse]]`. */
export type TrackedProcess = TrackedScript;

/** Notify scripts shared by instances and sync groups. */
export interface VrrpNotify {
  notify?: ScriptCommand;
  notifyMaster?: ScriptCommand;
  notifyBackup?: ScriptCommand;
  notifyFault?: ScriptCommand;
  notifyStop?: ScriptCommand;
  notifyMasterRxLowerPri?: ScriptCommand;
}

/** A `vrrp_sync_group` block. */
export interface VrrpSyncGroup extends VrrpNotify {
  name: string;
  group: { name: string; location: SourceLocation }[];
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles?: TrackedFile[];
  trackProcesses?: TrackedProcess[];
  smtpAlert?: boolean;
  globalTracking?: boolean;
  syncGroupTrackingWeight?: boolean;
  location: SourceLocation;
}

/** A `virtual_ipaddress` / `virtual_ipaddress_excluded` entry. */
export interface VirtualIpAddress {
  address: string;
  family: AddressFamily;
  /** Given as `/N`; keepalived's default is the full length (32 or 128). */
  prefixLength?: number;
  /** `brd ADDR`, or `+`/`-` to set/clear the host bits. */
  broadcast?: string;
  /** `dev IF` (default: the instance's interface). */
  device?: string;
  /** `scope global|site|link|host|nowhere` or a number. */
  scope?: string;
  label?: string;
  peer?: string;
  home?: boolean;
  noDad?: boolean;
  mngTmpAddr?: boolean;
  noPrefixRoute?: boolean;
  autoJoin?: boolean;
  noTrack?: boolean;
  /** `preferred_lft N|forever` (forever = 0xffffffff). */
  preferredLifetimeSec?: number;
  location: SourceLocation;
}

/** One address of a `unicast_peer` block. */
export interface UnicastPeer {
  address: string;
  minTtl?: number;
  maxTtl?: number;
  location: SourceLocation;
}

/** A VRRP instance's configured `state`. */
export type VrrpState = 'MASTER' | 'BACKUP';

/** A VRRP instance's `authentication` block. */
export interface VrrpAuthentication {
  type: 'PASS' | 'AH';
  /** Only the first 8 characters are used (keepalived truncates). */
  password?: string;
}

/** A `vrrp_instance` block. */
export interface VrrpInstance extends VrrpNotify {
  name: string;
  state?: VrrpState;
  interface?: string;
  /** Where `interface` was written (for findings about the link, such as a missing one). */
  interfaceLocation?: SourceLocation;
  virtualRouterId?: number;
  priority?: number;
  advertIntervalMs?: number;
  nopreempt?: boolean;
  preemptDelayMs?: number;
  authentication?: VrrpAuthentication;
  virtualIpAddresses: VirtualIpAddress[];
  virtualIpAddressesExcluded: VirtualIpAddress[];
  /** `virtual_routes`: added on becoming MASTER, removed on leaving it. */
  virtualRoutes?: ConfigRoute[];
  /** `virtual_rules`: added on becoming MASTER, removed on leaving it. */
  virtualRules?: ConfigRule[];
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles?: TrackedFile[];
  trackProcesses?: TrackedProcess[];
  dontTrackPrimary?: boolean;
  /** `mcast_src_ip` or `unicast_src_ip` (one address, two names in keepalived). */
  sourceAddress?: string;
  mcastDestination?: string;
  unicastPeers: UnicastPeer[];
  unicastTtl?: number;
  unicastFaultNoPeer?: boolean;
  checkUnicastSrc?: boolean;
  trackSrcIp?: boolean;
  /** Legacy (keepalived 1.x): `lvs_sync_daemon_interface IF`. */
  lvsSyncDaemonInterface?: string;
  lvsSyncDaemonInterfaceLocation?: SourceLocation;
  version?: 2 | 3;
  /** `accept` (true) or `no_accept` (false). */
  accept?: boolean;
  garpMasterDelayMs?: number;
  garpMasterRepeat?: number;
  garpLowerPrioDelayMs?: number;
  garpLowerPrioRepeat?: number;
  garpMasterRefreshMs?: number;
  garpMasterRefreshRepeat?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  downTimerAdverts?: number;
  skipCheckAdvAddr?: boolean;
  strictMode?: boolean;
  promoteSecondaries?: boolean;
  /** `use_vmac [NAME] [MAC]`: a macvlan with the virtual router MAC carries the VIPs (and the adverts). */
  useVmac?: { name?: string; mac?: string };
  /** `vmac_xmit_base`: adverts through the base interface, not the VMAC. */
  vmacXmitBase?: boolean;
  /** `use_ipvlan [NAME] [ADDRESS[/LEN]] [bridge|private|vepa]`: an L2 ipvlan carries the adverts (from its address); the VIPs stay on the interface, as keepalived puts them. */
  useIpvlan?: { name?: string; address?: string; mode?: 'bridge' | 'private' | 'vepa' };
  smtpAlert?: boolean;
  /** `debug [LEVEL]` (level 0..4; a bare `debug` as keepalived 1.x allowed is level 0). */
  debug?: number;
  /**
   * Where each keyword of the block was written (the last time), by its canonical name:
   * `interface`, `virtual_router_id`, ... Not enumerable (absent from the model's JSON).
   */
  keywordLocations?: Partial<Record<string, SourceLocation>>;
  location: SourceLocation;
}

/** A `virtual_server_group` entry: an address (or range), optional port; or a firewall mark. */
export type VirtualServerGroupEntry =
  | { kind: 'address'; address: string; family: AddressFamily; rangeEnd?: string; prefixLength?: number; port?: number; location: SourceLocation }
  | { kind: 'fwmark'; fwmark: number; family?: AddressFamily; location: SourceLocation };

/** A `virtual_server_group` block. */
export interface VirtualServerGroup {
  name: string;
  entries: VirtualServerGroupEntry[];
  location: SourceLocation;
}

/** `lb_kind`: the IPVS forwarding method. */
export type LvsMethod = 'NAT' | 'DR' | 'TUN';

/** `lvs_method TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (only `kind` for NAT and DR). */
export interface ForwardingMethod {
  kind: LvsMethod;
  tunnelType?: 'ipip' | 'gue' | 'gre';
  tunnelPort?: number;
  tunnelChecksum?: 'nocsum' | 'csum' | 'remcsum';
}

/** A virtual server's `protocol`. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** Settings a virtual server passes down to its real servers, and a real server to its checkers. */
export interface CheckDefaults {
  alpha?: boolean;
  connectTimeoutMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  delayLoopMs?: number;
  inhibitOnFailure?: boolean;
  smtpAlert?: boolean;
  virtualhost?: string;
}

/** A `real_server` block. */
export interface RealServer extends CheckDefaults {
  address: string;
  family: AddressFamily;
  /** Absent: the virtual server's port. */
  port?: number;
  weight?: number;
  method?: ForwardingMethod;
  notifyUp?: ScriptCommand;
  notifyDown?: ScriptCommand;
  upperThreshold?: number;
  lowerThreshold?: number;
  checkers: Checker[];
  location: SourceLocation;
}

/** How a virtual server is addressed: address+port, a firewall mark, or a virtual_server_group. */
export type VirtualServerKey =
  | { kind: 'address'; address: string; family: AddressFamily; port?: number }
  | { kind: 'fwmark'; fwmark: number }
  | { kind: 'group'; group: string };

/** A virtual server's `sorry_server`. */
export interface SorryServer {
  address: string;
  family: AddressFamily;
  port?: number;
}

/** A `virtual_server` block (by address and port, fwmark, or group). */
export interface VirtualServer extends CheckDefaults {
  key: VirtualServerKey;
  scheduler?: string;
  /** Scheduler flags: flag-1..3, sh-port, sh-fallback, mh-port, mh-fallback. */
  schedulerFlags: string[];
  /** `ops`: one-packet scheduling (UDP). */
  onePacketScheduling?: boolean;
  method?: ForwardingMethod;
  /** `persistence_timeout [N]` (a bare keyword means keepalived's default, 360 s). */
  persistenceTimeoutSec?: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  protocol?: Protocol;
  haSuspend?: boolean;
  omega?: boolean;
  quorum?: number;
  hysteresis?: number;
  quorumUp?: ScriptCommand;
  quorumDown?: ScriptCommand;
  ipFamily?: AddressFamily;
  sorryServer?: SorryServer;
  sorryServerInhibit?: boolean;
  sorryServerMethod?: ForwardingMethod;
  realServers: RealServer[];
  location: SourceLocation;
}

/** Top-level `SSL { ... }`: the context SSL_GET checkers use. */
export interface SslContext {
  password?: string;
  ca?: string;
  certificate?: string;
  key?: string;
  location: SourceLocation;
}

/** A whole keepalived.conf as lvskit reads it: global_defs, VRRP, virtual servers, routes and rules, the autoban extension. */
export interface KeepalivedConfig {
  globalDefs: GlobalDefs;
  /** `static_ipaddress`: added at start, kept through VRRP state changes. */
  staticIpAddresses?: VirtualIpAddress[];
  /** `static_routes`. */
  staticRoutes?: ConfigRoute[];
  /** `static_rules`. */
  staticRules?: ConfigRule[];
  vrrpScripts: VrrpScript[];
  /** `track_file` blocks (absent in a model made before they were read). */
  trackFiles?: TrackFile[];
  /** `vrrp_track_process` blocks (absent in a model made before they were read). */
  trackProcesses?: TrackProcess[];
  vrrpSyncGroups: VrrpSyncGroup[];
  vrrpInstances: VrrpInstance[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  ssl?: SslContext;
  autoban?: AutobanConfig;
}

/** An empty configuration (what a file with no blocks means). */
export function emptyConfig(): KeepalivedConfig {
  return {
    globalDefs: { notificationEmail: [] },
    vrrpScripts: [],
    vrrpSyncGroups: [],
    vrrpInstances: [],
    virtualServerGroups: [],
    virtualServers: [],
  };
}

/** `address:port`, `[v6]:port`, `fwmark N` or `group NAME`: how messages name a virtual server. */
export function virtualServerName(key: VirtualServerKey, protocol?: Protocol): string {
  const proto = protocol ? `/${protocol}` : '';
  switch (key.kind) {
    case 'address': {
      const host = key.family === 6 ? `[${key.address}]` : key.address;
      return `${host}${key.port !== undefined ? `:${key.port}` : ''}${proto}`;
    }
    case 'fwmark': return `fwmark ${key.fwmark}${proto}`;
    case 'group': return `group ${key.group}${proto}`;
  }
}
