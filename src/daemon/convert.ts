// layer: config (pure; SSL files through the injectable reader)
// job: the one place the model becomes the library's own typed inputs: VRRP (VrrpRunner), IPVS (plan()), health checks (HealthChecks), VIPs (rtnl).
//      The pieces live in convert/; see docs/configuration.md, "Conversion".
import type { Diagnostic } from '../config/diagnostics.js';
import type { KeepalivedConfig } from '../config/model.js';
import { convertHealthChecks, type HealthCheckConversion, type HealthCheckConvertOptions } from './convert/checks.js';
import { convertIpvs, type IpvsConversion } from './convert/ipvs.js';
import { convertVrrp, type VrrpConversion } from './convert/vrrp.js';
import { autobanSettings, type AutobanConversion } from './convert/autoban.js';
import { convertStaticNet, type StaticNetConversion } from './convert/net.js';
import { convertNotify, type NotifyConversion } from './convert/notify.js';

export { vipAddressSpecs, scopeOf, broadcastOf, DEFAULT_INTERFACE, IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_MCAUTOJOIN } from './convert/vips.js';
export type { VipAddress, VipConversion, IfindexLookup } from './convert/vips.js';
export { convertVrrp, type VrrpConversion, type VrrpConvertOptions } from './convert/vrrp.js';
export { convertIpvs, ipvsPlanOptions, DEFAULT_SCHEDULER, DEFAULT_PERSISTENCE_SEC, type IpvsConversion, type IpvsConvertOptions } from './convert/ipvs.js';
export { convertHealthChecks, type HealthCheckConversion, type HealthCheckConvertOptions } from './convert/checks.js';
export { passwdLookup, DEFAULT_DELAY_LOOP_MS, HTTP_DELAY_BEFORE_RETRY_MS, type MiscRefusal, type UserLookup } from './convert/checkers.js';
export { startDestinations, realServerDestination, sorryDestination } from './convert/destinations.js';
export { declaredServices, MAX_GROUP_ENTRY_SERVICES, type DeclaredService } from './convert/services.js';
export { syncDaemonSettings, syncDaemonOf, syncDaemonActions, type SyncDaemonSettings } from './convert/sync-daemon.js';
export type { ConversionResult } from './convert/common.js';
export { autobanSettings, type AutobanSettings, type AutobanConversion } from './convert/autoban.js';
export { convertStaticNet, routeEntry, ruleEntry, type StaticNetConversion } from './convert/net.js';
export { convertNotify, type NotifySettings, type NotifyConversion } from './convert/notify.js';
export { formatIpvsConversion, formatVrrpConversion, formatHealthCheckConversion } from './convert/format.js';

/** Everything lvskit would do with a configuration. */
export interface ConfigConversion {
  vrrp: VrrpConversion;
  ipvs: IpvsConversion;
  checks: HealthCheckConversion;
  /** `lvskit_autoban`: the autoban runner's settings (none without the block). */
  autoban: AutobanConversion;
  /** static_ipaddress / static_routes / static_rules. */
  net: StaticNetConversion;
  /** notify FIFOs, start-up and shut-down scripts. */
  notify: NotifyConversion;
  /** Every conversion's diagnostics, once each (the IPVS and health-check conversions see the same virtual servers), in file order. */
  diagnostics: Diagnostic[];
  /** No errors. */
  ok: boolean;
}

/** The conversions of one model (each validated by its library unless `validate: false`). */
export function convertConfig(config: KeepalivedConfig, options: HealthCheckConvertOptions = {}): ConfigConversion {
  const vrrp = convertVrrp(config, options);
  const ipvs = convertIpvs(config, { ...(options.validate !== undefined ? { validate: options.validate } : {}), ...(options.memo ? { memo: options.memo } : {}) });
  const checks = convertHealthChecks(config, options);
  const autoban = autobanSettings(config);
  const net = convertStaticNet(config);
  const notify = convertNotify(config);
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const d of [...vrrp.diagnostics, ...ipvs.diagnostics, ...checks.diagnostics, ...autoban.diagnostics, ...net.diagnostics, ...notify.diagnostics]) {
    const key = `${d.location.file}:${d.location.line}:${d.location.column}:${d.severity}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(d);
  }
  const autobanOk = autoban.diagnostics.every((d) => d.severity !== 'error');
  return { vrrp, ipvs, checks, autoban, net, notify, diagnostics, ok: vrrp.ok && ipvs.ok && checks.ok && autobanOk && net.ok && notify.ok };
}
