// layer: config (pure, SSL files through the injectable reader)
// job: virtual_server → real_server → checkers as src/check's VirtualServerSpec (one per IPVS service), with keepalived's inheritance and defaults.
import type { CheckDefaultsSpec, RealServerSpec, SorryServerSpec, VirtualServerSpec } from '../../check/spec.js';
import { validateVirtualServer } from '../../check/validate.js';
import type { ServiceKey } from '../../ipvs/model.js';
import type { CheckDefaults, KeepalivedConfig, RealServer } from '../../config/model.js';
import { fileSystemReader, type ConfigReader } from '../../config/reader.js';
import { checkerSpec, type CheckerContext, type UserLookup } from './checkers.js';
import { ConversionLog, forwardingOf, scriptArgv, type ConversionResult } from './common.js';
import { quorumOf, realServerDestination, sorryDestination } from './destinations.js';
import { declaredServices, type DeclaredService } from './services.js';

export interface HealthCheckConversion extends ConversionResult {
  /** HealthChecks.add() input, one per IPVS service (a virtual_server_group gives several; identical checks are shared at run time). */
  virtualServers: VirtualServerSpec<ServiceKey>[];
}

export interface HealthCheckConvertOptions {
  /** Run src/check's validateVirtualServer on each and report its refusals at their config location (default true). */
  validate?: boolean;
  /** Where the SSL block's ca / certificate / key files are read (default: the file system). */
  reader?: ConfigReader;
  /** Users of MISC_CHECK `user` / script_user by name (default: only root and numeric ids are known). */
  users?: UserLookup;
}

const DEFAULT_KEYS = ['delayLoopMs', 'retry', 'delayBeforeRetryMs', 'warmupMs', 'connectTimeoutMs', 'alpha', 'virtualhost', 'inhibitOnFailure'] as const;

/** The settings a virtual or real server hands down, as given. */
function defaultsOf(d: CheckDefaults): CheckDefaultsSpec {
  const out: CheckDefaultsSpec = {};
  for (const k of DEFAULT_KEYS) if (d[k] !== undefined) (out as Record<string, unknown>)[k] = d[k];
  return out;
}

function realServerSpec(cx: CheckerContext, svc: DeclaredService, rs: RealServer, f: string): RealServerSpec {
  const { log, config } = cx;
  const d = realServerDestination(svc, rs);
  log.at(f, rs.location, `real_server ${d.address} ${d.port}`);
  const spec: RealServerSpec = { ...defaultsOf(rs), address: d.address, port: d.port, weight: d.weight, forward: d.forward };
  if (d.upperThreshold) spec.upperThreshold = d.upperThreshold;
  if (d.lowerThreshold) spec.lowerThreshold = d.lowerThreshold;
  if (d.tunnel) spec.tunnel = d.tunnel;
  if (rs.notifyUp) spec.notifyUp = scriptArgv(log, rs.notifyUp, config.globalDefs, rs.location, `real_server ${rs.address} notify_up`);
  if (rs.notifyDown) spec.notifyDown = scriptArgv(log, rs.notifyDown, config.globalDefs, rs.location, `real_server ${rs.address} notify_down`);
  if (rs.smtpAlert) log.warning(rs.location, `real_server ${rs.address}: smtp_alert: lvskit sends no e-mail (use notify_up / notify_down)`);
  const checkers = [];
  for (const c of rs.checkers) {
    const spec = checkerSpec(cx, svc.vs, rs, c);
    if (!spec) continue;
    log.at(`${f}.checkers[${checkers.length}]`, c.location, c.type);
    if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') c.urls.forEach((u, i) => log.at(`${f}.checkers[${checkers.length}].urls[${i}]`, u.location));
    checkers.push(spec);
  }
  if (checkers.length > 0) spec.checkers = checkers;
  return spec;
}

function virtualServerSpec(cx: CheckerContext, svc: DeclaredService, f: string): VirtualServerSpec<ServiceKey> {
  const { log, config } = cx;
  const vs = svc.vs;
  log.at(f, svc.location, svc.name);
  const spec: VirtualServerSpec<ServiceKey> = {
    id: svc.name, service: svc.key, port: svc.port, forward: forwardingOf(vs.method).forward, ...defaultsOf(vs),
    realServers: vs.realServers.map((rs, i) => realServerSpec(cx, svc, rs, `${f}.realServers[${i}]`)),
  };
  const { quorum, hysteresis } = quorumOf(vs);
  if (vs.quorum !== undefined) spec.quorum = quorum;
  if (vs.hysteresis !== undefined) spec.hysteresis = hysteresis;
  if (vs.quorumUp) spec.quorumUp = scriptArgv(log, vs.quorumUp, config.globalDefs, vs.location, `${svc.name} quorum_up`);
  if (vs.quorumDown) spec.quorumDown = scriptArgv(log, vs.quorumDown, config.globalDefs, vs.location, `${svc.name} quorum_down`);
  const sorry = sorryDestination(svc);
  if (sorry) {
    const s: SorryServerSpec = { address: sorry.address, port: sorry.port, weight: sorry.weight, forward: sorry.forward };
    spec.sorryServer = s;
    log.at(`${f}.sorryServer`, vs.location);
    if (sorry.tunnel) log.warning(vs.location, `${svc.name}: the sorry server's tunnel options are not carried by the health checks (it is added with the default ipip tunnel)`);
  }
  if (vs.sorryServerInhibit) spec.sorryServerInhibit = true;
  if (vs.omega) spec.omega = true;
  if (vs.haSuspend) log.warning(vs.location, `${svc.name}: ha_suspend is not supported; the checkers run whether or not the VIP is present`);
  if (vs.smtpAlert) log.warning(vs.location, `${svc.name}: smtp_alert: lvskit sends no e-mail (use quorum_up / quorum_down)`);
  return spec;
}

/**
 * The health checks of a configuration: one VirtualServerSpec per IPVS service (`id` is the
 * service's name, `service` its IPVS key, so an ipvsSink drives the kernel directly). Real servers
 * carry the same destination as the IPVS conversion; timing, alpha, virtualhost and
 * inhibit_on_failure are inherited virtual server → real server → checker by src/check.
 */
export function convertHealthChecks(config: KeepalivedConfig, options: HealthCheckConvertOptions = {}): HealthCheckConversion {
  const log = new ConversionLog();
  const cx: CheckerContext = { config, log, reader: options.reader ?? fileSystemReader(), pem: new Map(), ...(options.users ? { users: options.users } : {}) };
  const virtualServers = declaredServices(log, config).map((svc, i) => virtualServerSpec(cx, svc, `virtualServers[${i}]`));
  if (options.validate !== false) {
    virtualServers.forEach((spec, i) => {
      try {
        validateVirtualServer(spec, `virtualServers[${i}]`);
      } catch (error) {
        log.refused('health checks', error, log.locate(`virtualServers[${i}]`)!);
      }
    });
  }
  return { virtualServers, ...log.result() };
}
