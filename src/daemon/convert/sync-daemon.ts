// layer: config (pure)
// job: the IPVS sync daemon of a configuration (global lvs_sync_daemon, else the legacy lvs_sync_daemon_interface), and what VRRP's syncDaemon hook does with it.
import type { SyncDaemon } from '../../ipvs/model.js';
import type { SyncDaemonRequest } from '../../vrrp/events.js';
import type { KeepalivedConfig } from '../../config/model.js';

/** The sync daemon's parameters: what the VRRP `syncDaemon` hook (or the start-up, without an instance) hands to the IPVS client. */
export interface SyncDaemonSettings {
  /** The multicast interface. */
  interface: string;
  /** The vrrp_instance whose state drives the daemons (MASTER: the master daemon, otherwise the backup one); absent: both run all the time. */
  instance?: string;
  /** `id`; keepalived's default: the instance's VRID, or 0 without an instance. */
  syncId: number;
  maxLength?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

/**
 * The sync daemon, as keepalived 2.2 picks it: global_defs `lvs_sync_daemon`, else the first
 * vrrp_instance with `lvs_sync_daemon_interface` (the others are ignored, as config validation warns).
 */
export function syncDaemonSettings(config: KeepalivedConfig): SyncDaemonSettings | undefined {
  const g = config.globalDefs.lvsSyncDaemon;
  if (g) {
    const vi = g.instance === undefined ? undefined : config.vrrpInstances.find((i) => i.name === g.instance);
    const out: SyncDaemonSettings = { interface: g.interface, syncId: g.syncId ?? vi?.virtualRouterId ?? 0 };
    if (g.instance !== undefined) out.instance = g.instance;
    if (g.maxLength !== undefined) out.maxLength = g.maxLength;
    if (g.port !== undefined) out.port = g.port;
    if (g.ttl !== undefined) out.ttl = g.ttl;
    if (g.group !== undefined) out.group = g.group;
    return out;
  }
  const legacy = config.vrrpInstances.find((i) => i.lvsSyncDaemonInterface !== undefined);
  if (!legacy?.lvsSyncDaemonInterface) return undefined;
  return { interface: legacy.lvsSyncDaemonInterface, instance: legacy.name, syncId: legacy.virtualRouterId ?? 0 };
}

/** The daemon of one state with these settings, as IpvsClient.startDaemon takes it. */
export function syncDaemonOf(settings: SyncDaemonSettings, state: SyncDaemon['state']): SyncDaemon {
  const d: SyncDaemon = { state, interface: settings.interface, syncId: settings.syncId };
  if (settings.maxLength !== undefined) d.maxLength = settings.maxLength;
  if (settings.group !== undefined) d.group = settings.group;
  if (settings.port !== undefined) d.port = settings.port;
  if (settings.ttl !== undefined) d.ttl = settings.ttl;
  return d;
}

/**
 * What a VRRP `syncDaemon` hook should do for a request, keepalived's way: MASTER runs only the
 * master daemon, any other state only the backup one, `stop` neither. The configured settings win
 * over the request's (whose sync id is always the VRID): stop the daemons in `stop`, then start `start`.
 */
export function syncDaemonActions(settings: SyncDaemonSettings, request: Pick<SyncDaemonRequest, 'role'>): { stop: SyncDaemon['state'][]; start?: SyncDaemon } {
  if (request.role === 'stop') return { stop: ['master', 'backup'] };
  const other = request.role === 'master' ? 'backup' : 'master';
  return { stop: [other], start: syncDaemonOf(settings, request.role) };
}
