// layer: daemon (composition; pure apart from reading the configuration files)
// job: what a balancer should run — from a keepalived.conf (read and converted) or from a spec written in code — validated whole before anything touches the kernel.
import fs from 'node:fs';
import os from 'node:os';
import { initialHealth } from '../check/real-server.js';
import type { SinkDestination } from '../check/sink.js';
import type { VirtualServerSpec } from '../check/spec.js';
import { validateVirtualServer } from '../check/validate.js';
import { desiredDestinations, initialQuorum, liveWeight } from '../check/virtual-server.js';
import { ConfigError, type Diagnostic, type SourceLocation } from '../config/diagnostics.js';
import { loadConfig, type ParseOptions } from '../config/index.js';
import type { KeepalivedConfig } from '../config/model.js';
import { serviceKeyOf, serviceName, type ServiceKey, type ServiceSettings, type SyncDaemon, type Timeouts, type VirtualService } from '../ipvs/model.js';
import { validateServices } from '../ipvs/validate.js';
import type { TrackingConfig } from '../track/types.js';
import type { VrrpInstanceConfig, VrrpSyncGroupConfig } from '../vrrp/instance.js';
import type { NetSet } from '../vrrp/net-plan.js';
import { validateVrrpConfig } from '../vrrp/validate.js';
import { convertConfig, passwdLookup, syncDaemonOf, type AutobanSettings, type SyncDaemonSettings } from './convert.js';
import type { ConversionMemo } from './convert/common.js';
import { miscRefusal, scriptSecurityFindings } from './script-security.js';
import type { NotifySettings } from './convert/notify.js';

/** A virtual service written in code: its health-checked real servers (src/check's spec) and its IPVS settings. */
export interface BalancedService extends VirtualServerSpec<ServiceKey>, Partial<ServiceSettings> {}

/** What a balancer runs, written in code instead of a keepalived.conf. */
export interface BalancerSpec {
  /** VRRP instances (VrrpRunner's input). */
  instances?: VrrpInstanceConfig[];
  syncGroups?: VrrpSyncGroupConfig[];
  /** The IPVS sync daemon; with `instance`, that instance's state drives it (MASTER: master, otherwise backup). */
  syncDaemon?: SyncDaemonSettings;
  /** IPVS services, each with its real servers and their checkers. */
  services?: BalancedService[];
  /** `lvs_timeouts`. */
  timeouts?: Partial<Timeouts>;
  /** `lvs_flush`: services the spec does not declare are removed too (default: left alone). */
  flush?: boolean;
  /** The autoban (see src/autoban): ipset, threshold, whitelist, static_blacklist. */
  autoban?: AutobanSettings;
  /** Addresses, routes and rules added at start and removed at a graceful stop (keepalived's static_* blocks). */
  staticNet?: NetSet;
}

/** Everything a balancer runs, validated: the same shape whether it came from a file or from code. */
export interface DesiredState {
  /** The configuration file, or `(spec)`. */
  source: string;
  /** Every file read (the main file first); none for a spec. */
  files: string[];
  instances: VrrpInstanceConfig[];
  syncGroups: VrrpSyncGroupConfig[];
  syncDaemon?: SyncDaemonSettings;
  /** vrrp_script / track_file trackers and what each instance tracks (none: nothing tracked). */
  tracking?: TrackingConfig;
  /** The IPVS table at start: every service with the real servers it holds before any check ran. */
  services: VirtualService[];
  /** The health checks, one per service, `id` = the service's name (`TCP 10.0.0.1:80`). */
  virtualServers: VirtualServerSpec<ServiceKey>[];
  /** Sync daemons that run whatever the VRRP state (lvs_sync_daemon without an instance). */
  daemons: SyncDaemon[];
  timeouts?: Partial<Timeouts>;
  flush: boolean;
  flushOnStop?: 'all' | 'vs';
  autoban?: AutobanSettings;
  /** static_ipaddress / static_routes / static_rules. */
  staticNet?: NetSet;
  /** notify_fifo / vrrp_notify_fifo and their scripts, startup_script / shutdown_script. */
  notify?: NotifySettings;
  /** Warnings of the reading and the conversion (errors throw). */
  warnings: Diagnostic[];
  /** Where a VRRP field (`instances[0].interface`) was written, for refusals found later (a missing link). */
  locateVrrp?: (field: string) => SourceLocation | undefined;
  /** The conversion's per-service results, for the next load of the same file (a reload converts only what changed). */
  memo?: { checks: ConversionMemo<VirtualServerSpec<ServiceKey>>; ipvs: ConversionMemo<VirtualService> };
  /**
   * The keepalived.conf model it was read from, with every keyword's place (preflight reads it);
   * none for a spec. A Balancer drops it once preflight has run: it is most of a configuration's heap.
   */
  config?: KeepalivedConfig;
  /** A VRRP refusal found later, at its location and in the configuration's words (`VI_WEB: interface v0 does not exist`). */
  explainVrrp?: (error: unknown) => { location: SourceLocation; message: string } | undefined;
}

/** Where a balancer's configuration comes from. */
export type ConfigSource =
  | { file: string; configId?: string; parse?: Omit<ParseOptions, 'configId'> }
  | { config: KeepalivedConfig; file?: string }
  | { spec: BalancerSpec };

/** keepalived's default config id: the node name's first label. */
export function defaultConfigId(): string {
  return os.hostname().split('.')[0] ?? '';
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Read and validate a configuration. A keepalived.conf is read as keepalived reads it and converted;
 * any error (reading, syntax, what lvskit cannot carry, what a library refuses) throws one
 * ConfigError holding every diagnostic at its `file:line:col`. A spec is validated by each library
 * and throws its field-named error. Nothing here touches the kernel.
 */
export function loadDesired(source: ConfigSource, previous?: Pick<DesiredState, 'memo'>): DesiredState {
  if ('spec' in source) return desiredFromSpec(source.spec);
  let config: KeepalivedConfig;
  let files: string[];
  let diagnostics: Diagnostic[];
  let file: string;
  if ('config' in source) {
    config = source.config;
    file = source.file ?? '(config)';
    files = source.file === undefined ? [] : [source.file];
    diagnostics = [];
  } else {
    const parsed = loadConfig(source.file, { configId: source.configId ?? defaultConfigId(), ...source.parse });
    if (!parsed.ok) throw new ConfigError(parsed.diagnostics);
    ({ config, files, diagnostics } = parsed);
    file = source.file;
  }
  const users = passwdLookup(readText('/etc/passwd'), readText('/etc/group'));
  const c = convertConfig(config, { users, miscRefusal, memo: previous?.memo ?? {} });
  const all = [...diagnostics, ...c.diagnostics, ...scriptSecurityFindings(config, files)];
  if (all.some((d) => d.code === 'script-security' && d.severity === 'error')) throw new ConfigError(all);
  if (!c.ok) throw new ConfigError(all);
  const vrrp = c.vrrp; // the closures below hold the VRRP conversion only, not every conversion's locations
  return {
    source: file, files, instances: c.vrrp.instances, syncGroups: c.vrrp.syncGroups,
    ...(c.vrrp.syncDaemon ? { syncDaemon: c.vrrp.syncDaemon } : {}),
    ...(c.vrrp.tracking.scripts.length + c.vrrp.tracking.files.length + (c.vrrp.tracking.processes?.length ?? 0) > 0 ? { tracking: c.vrrp.tracking } : {}),
    services: [...c.ipvs.services], virtualServers: c.checks.virtualServers, daemons: c.ipvs.daemons,
    ...(c.ipvs.timeouts ? { timeouts: c.ipvs.timeouts } : {}), flush: c.ipvs.flush,
    ...(c.ipvs.flushOnStop ? { flushOnStop: c.ipvs.flushOnStop } : {}),
    ...(c.autoban.settings ? { autoban: c.autoban.settings } : {}), ...(c.net.set ? { staticNet: c.net.set } : {}),
    ...(c.notify.settings ? { notify: c.notify.settings } : {}),
    warnings: all.filter((d) => d.severity === 'warning'), locateVrrp: (field) => vrrp.locate(field), explainVrrp: (error) => vrrp.explain(error),
    memo: { checks: c.checks.memo, ipvs: c.ipvs.memo }, config,
  };
}

const SETTING_KEYS = ['scheduler', 'schedulerFlags', 'persistence', 'onePacket'] as const;

/** A code-written service split into its health-check spec (id defaulting to the service's name) and its IPVS settings. */
function splitService(s: BalancedService): { checks: VirtualServerSpec<ServiceKey>; settings: ServiceSettings } {
  const checks: Record<string, unknown> = { ...s };
  const settings: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) {
    if (s[k] !== undefined) settings[k] = s[k];
    delete checks[k];
  }
  const key = serviceKeyOf(s.service);
  const port = s.port ?? ('port' in key ? key.port : undefined);
  return {
    checks: { ...(checks as unknown as VirtualServerSpec<ServiceKey>), service: key, id: s.id || serviceName(key), ...(port === undefined ? {} : { port }) },
    settings: { scheduler: 'wlc', ...settings } as ServiceSettings,
  };
}

/**
 * The real servers a service holds at start, by src/check's own rules (so the health checks find
 * nothing to change): UP unless an `alpha` checker holds it DOWN; a DOWN one absent, or at weight 0
 * with inhibitOnFailure; the sorry server while the quorum is missed.
 */
export function startDestinationsOf(spec: VirtualServerSpec<ServiceKey>): SinkDestination[] {
  const r = validateVirtualServer(spec);
  const health = new Map(r.realServers.map((rs) => [rs.id, initialHealth(rs.destination.weight,
    rs.checkers.map((c, i) => ({ key: String(i), alpha: c.alpha })))]));
  const quorumUp = initialQuorum(r.policy, liveWeight(health.values()));
  return [...desiredDestinations(r.policy, r.realServers, health, quorumUp).values()];
}

/** A BalancerSpec validated by each library (VrrpConfigError, CheckConfigError, IpvsValidationError name the field). */
export function desiredFromSpec(spec: BalancerSpec): DesiredState {
  const instances = spec.instances ?? [];
  const syncGroups = spec.syncGroups ?? [];
  if (instances.length > 0) validateVrrpConfig(instances, syncGroups);
  const parts = (spec.services ?? []).map(splitService);
  const virtualServers = parts.map((p) => p.checks);
  virtualServers.forEach((v, i) => validateVirtualServer(v, `services[${i}]`));
  const services = validateServices(parts.map((p) => ({ ...p.checks.service, ...p.settings, destinations: startDestinationsOf(p.checks) })));
  const d = spec.syncDaemon;
  if (d?.instance !== undefined && !instances.some((i) => i.name === d.instance)) {
    throw new RangeError(`syncDaemon.instance: no VRRP instance ${d.instance}`);
  }
  const daemons: SyncDaemon[] = d && d.instance === undefined ? [syncDaemonOf(d, 'master'), syncDaemonOf(d, 'backup')] : [];
  const driven = instances.map((i) => (d && i.name === d.instance ? { ...i, lvsSyncDaemonInterface: d.interface } : i));
  return {
    source: '(spec)', files: [], instances: driven, syncGroups, ...(d ? { syncDaemon: d } : {}), services: [...services], virtualServers, daemons,
    ...(spec.timeouts ? { timeouts: spec.timeouts } : {}), flush: spec.flush === true, ...(spec.autoban ? { autoban: spec.autoban } : {}),
    ...(spec.staticNet ? { staticNet: spec.staticNet } : {}), warnings: [],
  };
}

/** The health-check spec of each service, by the service's name. */
export function checksByService(desired: Pick<DesiredState, 'virtualServers'>): Map<string, VirtualServerSpec<ServiceKey>> {
  return new Map(desired.virtualServers.map((v) => [serviceName(v.service), v]));
}
