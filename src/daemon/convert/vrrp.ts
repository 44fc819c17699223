// layer: config (pure)
// job: vrrp_instance / vrrp_sync_group (with global_defs defaults) → VrrpRunner's VrrpInstanceConfig / VrrpSyncGroupConfig; what VRRP cannot carry is a located diagnostic.
import { VRRP_GROUP_IPV4, VRRP_GROUP_IPV6 } from '../../vrrp/constants.js';
import type {
  NotifyScripts, TrackInterfaceConfig, VirtualAddressConfig, VrrpInstanceConfig, VrrpSyncGroupConfig,
} from '../../vrrp/instance.js';
import { validateVrrpConfig } from '../../vrrp/validate.js';
import type { SourceLocation } from '../../config/diagnostics.js';
import type { GlobalDefs, KeepalivedConfig, TrackedInterface, VirtualIpAddress, VrrpInstance, VrrpNotify, VrrpSyncGroup } from '../../config/model.js';
import { ConversionLog, scriptArgv, type ConversionResult } from './common.js';
import type { TrackingConfig } from '../../track/types.js';
import type { UserLookup } from './checkers.js';
import { syncDaemonSettings, type SyncDaemonSettings } from './sync-daemon.js';
import { convertTracking } from './tracking.js';
import { routeEntry, ruleEntry } from './net.js';
import { broadcastOf, DEFAULT_INTERFACE, distinctVips, scopeOf } from './vips.js';
import { vmacConfig } from './vmac.js';

/** The VRRP instances and sync groups of a configuration as `VrrpRunner` input, with diagnostics. */
export interface VrrpConversion extends ConversionResult {
  /** VrrpRunner's `instances`, in file order. */
  instances: VrrpInstanceConfig[];
  /** VrrpRunner's `syncGroups`. */
  syncGroups: VrrpSyncGroupConfig[];
  /** The IPVS sync daemon and the instance that drives it: what the runner's `syncDaemon` hook should start and stop (see syncDaemonActions). */
  syncDaemon?: SyncDaemonSettings;
  /** vrrp_script and track_file trackers, and what each instance tracks (src/track's Trackers). */
  tracking: TrackingConfig;
}

/** Options of `convertVrrp()`. */
export interface VrrpConvertOptions {
  /** Run VRRP's own validateVrrpConfig on the result and report its refusals at their config location (default true). */
  validate?: boolean;
  /** Users of vrrp_script `user` / script_user by name (default: only root and numeric ids are known). */
  users?: UserLookup;
}

const NOTIFY_KEYS = [['notify', 'notify'], ['notifyMaster', 'master'], ['notifyBackup', 'backup'], ['notifyFault', 'fault'], ['notifyStop', 'stop']] as const;

function notifyScripts(log: ConversionLog, owner: VrrpNotify & { location: SourceLocation }, g: GlobalDefs, what: string): NotifyScripts | undefined {
  const out: NotifyScripts = {};
  for (const [from, to] of NOTIFY_KEYS) {
    const script = owner[from];
    if (script) out[to] = scriptArgv(log, script, g, owner.location, `${what} ${from === 'notify' ? 'notify' : `notify_${to}`}`);
  }
  if (owner.notifyMasterRxLowerPri) log.warning(owner.location, `${what}: notify_master_rx_lower_pri is not run by lvskit's VRRP; ignored`);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** keepalived rounds advert_int to whole seconds for VRRPv2 (config validation warns); VRRPv3 carries centiseconds. */
function advertInterval(log: ConversionLog, vi: VrrpInstance, ms: number, version: 2 | 3): number {
  if (version === 2) return Math.max(1000, Math.round(ms / 1000) * 1000);
  const cs = Math.max(10, Math.round(ms / 10) * 10);
  if (cs !== ms) log.warning(vi.location, `vrrp_instance ${vi.name}: advert_int ${ms / 1000} s is rounded to ${cs / 1000} s (VRRPv3 carries centiseconds)`, 'invalid-value');
  return cs;
}

function vipConfig(log: ConversionLog, vi: VrrpInstance, vip: VirtualIpAddress): string | VirtualAddressConfig {
  const address = vip.prefixLength === undefined ? vip.address : `${vip.address}/${vip.prefixLength}`;
  const out: VirtualAddressConfig = { address };
  if (vip.device !== undefined) out.dev = vip.device;
  if (vip.label !== undefined) out.label = vip.label;
  const scope = scopeOf(vip.scope);
  if (scope === null) log.error(vip.location, `${vip.address}: scope ${vip.scope} has no name lvskit's VRRP accepts (global, site, link, host, nowhere)`, 'invalid-value');
  else if (scope !== undefined) out.scope = scope;
  if (vip.broadcast !== undefined && vip.family === 4) {
    out.broadcast = broadcastOf(vip.address, vip.prefixLength ?? 32, vip.broadcast);
  }
  const ignored = [
    vip.peer !== undefined && 'peer', vip.home && 'home', vip.noDad && '-nodad', vip.mngTmpAddr && 'mngtmpaddr',
    vip.noPrefixRoute && 'noprefixroute', vip.autoJoin && 'autojoin', vip.preferredLifetimeSec !== undefined && 'preferred_lft',
    vip.family === 6 && vip.broadcast !== undefined && 'brd',
  ].filter((x): x is string => typeof x === 'string');
  if (ignored.length > 0) {
    log.warning(vip.location, `${vip.address}: ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} not carried by lvskit's VRRP; the address is added without ${ignored.length === 1 ? 'it' : 'them'} (vrrp_instance ${vi.name})`);
  }
  return Object.keys(out).length === 1 ? address : out;
}

/** track_interface entries: `IF` or `{ dev, weight }`; in a sync group weights count only with sync_group_tracking_weight (as keepalived). */
function tracked(log: ConversionLog, entries: readonly TrackedInterface[], weighted: boolean, owner: string): Array<string | TrackInterfaceConfig> {
  const out: Array<string | TrackInterfaceConfig> = [];
  for (const t of entries) {
    if (t.reverse) {
      log.error(t.location, `${owner}: track_interface ${t.name} reverse: lvskit's VRRP has no reversed tracking (a positive weight adds while up, a negative one subtracts while down)`);
      continue;
    }
    if (t.weight !== undefined && t.weight !== 0 && !weighted) {
      log.warning(t.location, `${owner}: track_interface ${t.name} weight ${t.weight} is ignored in a sync group without sync_group_tracking_weight (as keepalived): a down link is a FAULT`);
      out.push(t.name);
    } else {
      out.push(t.weight ? { dev: t.name, weight: t.weight } : t.name);
    }
  }
  return out;
}

/** Settings lvskit's VRRP has no field for: a warning each (the behaviour differs only in detail) or an error (it would fail over differently). */
function unsupported(log: ConversionLog, vi: VrrpInstance, g: GlobalDefs, family: 4 | 6): void {
  const name = `vrrp_instance ${vi.name}`;
  const at = vi.location;
  if (vi.virtualIpAddressesExcluded.length > 0) {
    log.error(vi.virtualIpAddressesExcluded[0]!.location, `${name}: virtual_ipaddress_excluded is not carried by lvskit's VRRP; those addresses would never be added on MASTER`);
  }
  const mcast = vi.mcastDestination ?? (family === 4 ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6);
  const rfcGroup = family === 4 ? VRRP_GROUP_IPV4 : VRRP_GROUP_IPV6;
  if (mcast !== undefined && mcast !== rfcGroup && vi.unicastPeers.length === 0) {
    log.error(at, `${name}: adverts to multicast group ${mcast} (${vi.mcastDestination !== undefined ? 'mcast_dst_ip' : `vrrp_mcast_group${family}`}) are not supported; lvskit's VRRP uses ${rfcGroup}`);
  }
  if (vi.dontTrackPrimary) log.warning(at, `${name}: dont_track_primary: lvskit's VRRP always tracks the instance's interface (down → FAULT)`);
  for (const p of vi.unicastPeers) {
    if (p.minTtl !== undefined || p.maxTtl !== undefined) log.warning(p.location, `${name}: unicast_peer ${p.address} min_ttl/max_ttl are not checked by lvskit's VRRP`);
  }
  if (vi.unicastTtl !== undefined && vi.unicastTtl !== 255) log.warning(at, `${name}: unicast_ttl ${vi.unicastTtl}: lvskit's VRRP sends every advert with TTL 255`);
  if (vi.unicastFaultNoPeer) log.warning(at, `${name}: unicast_fault_no_peer is not supported; ignored`);
  if (vi.checkUnicastSrc ?? g.vrrpCheckUnicastSrc) log.warning(at, `${name}: check_unicast_src: lvskit's VRRP does not check that unicast adverts come from a unicast_peer`);
  if (vi.trackSrcIp) log.warning(at, `${name}: track_src_ip: the advert source is read once at start, not followed`);
  if (vi.strictMode ?? g.vrrpStrict) log.warning(at, `${name}: vrrp_strict / strict_mode: lvskit applies only its no_accept default, not the other strict checks`);
  const lowerPrio = vi.garpLowerPrioDelayMs ?? vi.garpLowerPrioRepeat ?? g.vrrpGarpLowerPrioDelayMs ?? g.vrrpGarpLowerPrioRepeat;
  if (lowerPrio !== undefined) log.warning(at, `${name}: garp_lower_prio_delay/_repeat are not supported; no gratuitous ARPs are sent on lower-priority adverts`);
  if (vi.lowerPrioNoAdvert ?? g.vrrpLowerPrioNoAdvert) log.warning(at, `${name}: lower_prio_no_advert is not supported; a MASTER answers a lower-priority advert with its own`);
  if (vi.higherPrioSendAdvert ?? g.vrrpHigherPrioSendAdvert) log.warning(at, `${name}: higher_prio_send_advert is not supported; ignored`);
  const downTimer = vi.downTimerAdverts ?? g.vrrpDownTimerAdverts;
  if (downTimer !== undefined && downTimer !== 3) log.warning(at, `${name}: down_timer_adverts ${downTimer}: lvskit's VRRP waits the RFC's 3 adverts (Master_Down_Interval)`);
  if (vi.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr) log.warning(at, `${name}: skip_check_adv_addr: lvskit's VRRP always checks the addresses of adverts`);
  if (vi.promoteSecondaries) log.warning(at, `${name}: promote_secondaries is not set by lvskit's VRRP; ignored`);
  if (vi.smtpAlert) log.warning(at, `${name}: smtp_alert: lvskit sends no e-mail (use the notify scripts)`);
}

/** Keyword values read as global_defs defaults that apply to every instance (reported once, at the first instance). */
function globalWarnings(log: ConversionLog, g: GlobalDefs, at: SourceLocation): void {
  if (g.vrrpGarpIntervalMs !== undefined || g.vrrpGnaIntervalMs !== undefined) log.warning(at, 'global_defs vrrp_garp_interval / vrrp_gna_interval: lvskit sends each round of gratuitous ARPs / NAs at once');
  if (g.vrrpMinGarp) log.warning(at, 'global_defs vrrp_min_garp: not supported; the garp_master_* settings apply');
  if (g.vrrpStartupDelayMs) log.warning(at, 'global_defs vrrp_startup_delay: not supported; instances start at once');
}

/** VrrpInstanceConfig fields and the vrrp_instance keyword that sets each (keepalived's canonical names). */
const INSTANCE_KEYWORDS: readonly (readonly [string, string])[] = [
  ['interface', 'interface'], ['vrid', 'virtual_router_id'], ['priority', 'priority'], ['advertIntervalMs', 'advert_int'],
  ['preemptDelayMs', 'preempt_delay'], ['unicastSourceAddress', 'mcast_src_ip'], ['unicastSourceAddress', 'unicast_src_ip'],
  ['version', 'version'], ['acceptMode', 'accept'],
  ['garpMasterDelayMs', 'garp_master_delay'], ['garpMasterRepeat', 'garp_master_repeat'], ['garpMasterRefreshMs', 'garp_master_refresh'],
  ['garpMasterRefreshRepeat', 'garp_master_refresh_repeat'],
];

/** A member's sync group: whether its tracking weights count, and the group's own track_interface entries (converted once). */
interface GroupTracking { group: VrrpSyncGroup; weighted: boolean; track: Array<string | TrackInterfaceConfig> }

function instanceConfig(log: ConversionLog, config: KeepalivedConfig, vi: VrrpInstance, f: string, sync: GroupTracking | undefined,
  daemon: SyncDaemonSettings | undefined): VrrpInstanceConfig | undefined {
  const g = config.globalDefs;
  log.at(f, vi.location, vi.name);
  // Each setting at the line that wrote it, for refusals found later (a missing interface when VRRP starts).
  for (const [field, keyword] of INSTANCE_KEYWORDS) {
    const at = vi.keywordLocations?.[keyword];
    if (at) log.at(`${f}.${field}`, at);
  }
  if (vi.virtualRouterId === undefined) {
    log.error(vi.location, `vrrp_instance ${vi.name} has no virtual_router_id; not converted`, 'missing-setting');
    return undefined;
  }
  const family = vi.virtualIpAddresses[0]?.family ?? 4;
  const version = vi.version ?? (family === 6 ? 3 : g.vrrpVersion);
  const c: VrrpInstanceConfig = {
    name: vi.name, interface: vi.interface ?? g.defaultInterface ?? DEFAULT_INTERFACE, vrid: vi.virtualRouterId,
    virtualAddresses: distinctVips(vi.virtualIpAddresses).map((vip, i) => {
      log.at(`${f}.virtualAddresses[${i}]`, vip.location);
      return vipConfig(log, vi, vip);
    }),
  };
  if (vi.priority !== undefined) c.priority = vi.priority;
  if (version !== undefined) c.version = version;
  if (vi.advertIntervalMs !== undefined) c.advertIntervalMs = advertInterval(log, vi, vi.advertIntervalMs, version ?? 2);
  if (vi.authentication?.type === 'AH') log.error(vi.location, `vrrp_instance ${vi.name}: auth_type AH is not supported by lvskit's VRRP (PASS is)`);
  else if (vi.authentication && version !== 3) {
    if (vi.authentication.password) c.authPass = vi.authentication.password;
    else log.error(vi.location, `vrrp_instance ${vi.name}: auth_type PASS without auth_pass`, 'missing-setting');
  }
  // keepalived ignores nopreempt with state MASTER (config validation warns).
  if (vi.nopreempt && vi.state !== 'MASTER') c.preempt = false;
  if (vi.preemptDelayMs !== undefined) c.preemptDelayMs = Math.round(vi.preemptDelayMs);
  const accept = vi.accept ?? ((vi.strictMode ?? g.vrrpStrict) ? false : undefined);
  if (accept !== undefined) c.acceptMode = accept;
  if (vi.sourceAddress !== undefined) c.unicastSourceAddress = vi.sourceAddress;
  if (vi.unicastPeers.length > 0) {
    vi.unicastPeers.forEach((p, i) => log.at(`${f}.unicastPeers[${i}]`, p.location));
    c.unicastPeers = vi.unicastPeers.map((p) => p.address);
  }
  const name = `vrrp_instance ${vi.name}`;
  const track = [
    ...tracked(log, vi.trackInterfaces, sync === undefined || sync.weighted, name),
    ...(sync?.track ?? []),
  ];
  vi.trackInterfaces.forEach((t, i) => log.at(`${f}.trackInterfaces[${i}]`, t.location));
  if (track.length > 0) c.trackInterfaces = track;
  const garp = [
    ['garpMasterDelayMs', vi.garpMasterDelayMs ?? g.vrrpGarpMasterDelayMs],
    ['garpMasterRepeat', vi.garpMasterRepeat ?? g.vrrpGarpMasterRepeat],
    ['garpMasterRefreshMs', vi.garpMasterRefreshMs ?? g.vrrpGarpMasterRefreshMs],
    ['garpMasterRefreshRepeat', vi.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat],
  ] as const;
  for (const [key, value] of garp) if (value !== undefined) c[key] = Math.round(value);
  if (daemon?.instance === vi.name) c.lvsSyncDaemonInterface = daemon.interface;
  if (vi.virtualRoutes && vi.virtualRoutes.length > 0) {
    vi.virtualRoutes.forEach((r, i) => log.at(`${f}.virtualRoutes[${i}]`, r.location));
    c.virtualRoutes = vi.virtualRoutes.map(routeEntry);
  }
  if (vi.virtualRules && vi.virtualRules.length > 0) {
    vi.virtualRules.forEach((r, i) => log.at(`${f}.virtualRules[${i}]`, r.location));
    c.virtualRules = vi.virtualRules.map(ruleEntry);
  }
  const notify = notifyScripts(log, vi, g, name);
  if (notify) c.notify = notify;
  const vmac = vmacConfig(log, vi, family, f);
  if (vmac) c.vmac = vmac;
  unsupported(log, vi, g, family);
  return c;
}

function syncGroupConfig(log: ConversionLog, config: KeepalivedConfig, group: VrrpSyncGroup, f: string): VrrpSyncGroupConfig {
  log.at(f, group.location, `vrrp_sync_group ${group.name}`);
  group.group.forEach((m, i) => log.at(`${f}.members[${i}]`, m.location));
  const out: VrrpSyncGroupConfig = { name: group.name, members: group.group.map((m) => m.name) };
  const notify = notifyScripts(log, group, config.globalDefs, `vrrp_sync_group ${group.name}`);
  if (notify) out.notify = notify;
  if (group.smtpAlert) log.warning(group.location, `vrrp_sync_group ${group.name}: smtp_alert: lvskit sends no e-mail (use the notify scripts)`);
  return out;
}

/**
 * The VrrpRunner input of a configuration: one VrrpInstanceConfig per vrrp_instance (global_defs
 * supplies vrrp_version, the vrrp_garp_master_* defaults, default_interface; IPv6 instances are
 * VRRPv3), one VrrpSyncGroupConfig per vrrp_sync_group (its track_interface entries go to every
 * member), and the sync daemon's settings. Everything VRRP cannot carry is a diagnostic at its
 * config location; with `validate` (default), VRRP's own refusals are located too.
 */
export function convertVrrp(config: KeepalivedConfig, options: VrrpConvertOptions = {}): VrrpConversion {
  const log = new ConversionLog();
  const daemon = syncDaemonSettings(config);
  const groupOf = new Map<string, GroupTracking>();
  for (const group of config.vrrpSyncGroups) {
    const weighted = group.syncGroupTrackingWeight === true || group.globalTracking === true;
    const track = tracked(log, group.trackInterfaces, weighted, `vrrp_sync_group ${group.name}`);
    for (const m of group.group) groupOf.set(m.name, { group, weighted, track });
  }
  const instances: VrrpInstanceConfig[] = [];
  for (const vi of config.vrrpInstances) {
    const c = instanceConfig(log, config, vi, `instances[${instances.length}]`, groupOf.get(vi.name), daemon);
    if (c) instances.push(c);
  }
  const syncGroups = config.vrrpSyncGroups.map((group, i) => syncGroupConfig(log, config, group, `syncGroups[${i}]`));
  const first = config.vrrpInstances[0];
  if (first) globalWarnings(log, config.globalDefs, first.location);
  if (options.validate !== false && instances.length > 0 && first) {
    try {
      validateVrrpConfig(instances, syncGroups);
    } catch (error) {
      log.refused('VRRP', error, first.location);
    }
  }
  const tracking = convertTracking(log, config, options.users);
  return { instances, syncGroups, ...(daemon ? { syncDaemon: daemon } : {}), tracking, ...log.result() };
}
