// layer: config (pure)
// job: lvskit_autoban (and the sync daemon to follow) → the autoban runner's settings.
import type { AutobanPolicyConfig } from '../../autoban/policy.js';
import type { Diagnostic } from '../../config/diagnostics.js';
import type { KeepalivedConfig } from '../../config/model.js';

/** What `lvskit_autoban` (and the sync daemon of global_defs) mean for the autoban runner. */
export interface AutobanSettings {
  /** The ipset bans go into. */
  set: string;
  policy: Partial<AutobanPolicyConfig>;
  staticBlacklist?: string;
  intervalMs?: number;
  /** Counts from the sync stream (needs the sync daemon's interface) or from /proc/net/ip_vs_conn. */
  source: 'sync' | 'procfs';
  /** The sync stream to follow (source `sync`): `lvs_sync_daemon`, or an instance's `lvs_sync_daemon_interface`. */
  sync?: { interface: string; syncId?: number; port?: number; group?: string };
}

/** The `lvskit_autoban` block as the autoban runner's settings, with diagnostics. */
export interface AutobanConversion {
  /** Absent when the configuration has no usable lvskit_autoban block. */
  settings?: AutobanSettings;
  diagnostics: Diagnostic[];
}

/**
 * The autoban's settings from `lvskit_autoban`: threshold, ipset, whitelist (as CIDR text),
 * static_blacklist, ban_timeout (absent: bans without end), interval, dry_run; source `sync`
 * (the default) follows global_defs `lvs_sync_daemon` (its `id` filters the sync id, its port and
 * group are used), else the first vrrp_instance's `lvs_sync_daemon_interface` (any sync id);
 * with neither it falls back to `procfs`, with a warning.
 */
export function autobanSettings(config: KeepalivedConfig): AutobanConversion {
  const a = config.autoban;
  const diagnostics: Diagnostic[] = [];
  if (!a || a.ipset === undefined || a.threshold === undefined) return { diagnostics };
  const policy: Partial<AutobanPolicyConfig> = {
    threshold: a.threshold,
    whitelist: a.whitelist.map((c) => `${c.address}/${c.prefixLength}`),
    banTimeoutSec: a.banTimeoutMs === undefined ? 0 : Math.round(a.banTimeoutMs / 1000),
    dryRun: a.dryRun ?? false,
  };
  const settings: AutobanSettings = { set: a.ipset, policy, source: a.source ?? 'sync' };
  if (a.staticBlacklist !== undefined) settings.staticBlacklist = a.staticBlacklist;
  if (a.intervalMs !== undefined) settings.intervalMs = a.intervalMs;
  if (settings.source === 'sync') {
    const daemon = config.globalDefs.lvsSyncDaemon;
    const legacy = config.vrrpInstances.find((i) => i.lvsSyncDaemonInterface !== undefined)?.lvsSyncDaemonInterface;
    if (daemon) {
      settings.sync = { interface: daemon.interface, ...(daemon.syncId === undefined ? {} : { syncId: daemon.syncId }),
        ...(daemon.port === undefined ? {} : { port: daemon.port }), ...(daemon.group === undefined ? {} : { group: daemon.group }) };
    } else if (legacy !== undefined) {
      settings.sync = { interface: legacy };
    } else {
      settings.source = 'procfs';
      diagnostics.push({ severity: 'warning', code: 'missing-setting', location: a.location,
        message: 'lvskit_autoban: no lvs_sync_daemon (or lvs_sync_daemon_interface) to follow; counting from /proc/net/ip_vs_conn instead' });
    }
  }
  return { settings, diagnostics };
}
