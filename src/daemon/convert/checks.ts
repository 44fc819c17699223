// layer: config (pure, SSL files through the injectable reader)
// job: virtual_server → real_server → checkers as src/check's VirtualServerSpec (one per IPVS service), with keepalived's inheritance and defaults.
import { createHash } from 'node:crypto';
import type { CheckDefaultsSpec, RealServerSpec, SorryServerSpec, VirtualServerSpec } from '../../check/spec.js';
import { validateVirtualServer } from '../../check/validate.js';
import type { ServiceKey, VirtualService } from '../../ipvs/model.js';
import type { CheckDefaults, KeepalivedConfig, RealServer } from '../../config/model.js';
import { fileSystemReader, type ConfigReader } from '../../config/reader.js';
import { checkerSpecs, type CheckerContext, type MiscRefusal, type UserLookup } from './checkers.js';
import { ConversionLog, forwardingOf, memoized, scriptArgv, type ConversionMemo, type ConversionResult } from './common.js';
import { quorumOf, realServerDestination, sorryDestination } from './destinations.js';
import { declaredServices, type DeclaredService } from './services.js';

/** The virtual servers of a configuration as `HealthChecks` specs, with diagnostics. */
export interface HealthCheckConversion extends ConversionResult {
  /** HealthChecks.add() input, one per IPVS service (a virtual_server_group gives several; identical checks are shared at run time). */
  virtualServers: VirtualServerSpec<ServiceKey>[];
  /** Each service's result by its configuration text: hand it to the next conversion (`memo.checks`) to skip unchanged services. */
  memo: ConversionMemo<VirtualServerSpec<ServiceKey>>;
}

/** Options of `convertHealthChecks()`. */
export interface HealthCheckConvertOptions {
  /** Run src/check's validateVirtualServer on each and report its refusals at their config location (default true). */
  validate?: boolean;
  /** Where the SSL block's ca / certificate / key files are read (default: the file system). */
  reader?: ConfigReader;
  /** Users of MISC_CHECK `user` / script_user by name (default: only root and numeric ids are known). */
  users?: UserLookup;
  /**
   * Why a MISC_CHECK's program cannot run as uid:gid (not found, not executable); undefined when it
   * can. Given: such a checker is disabled with a warning, as keepalived 2.2.7 disables it ("since
   * not found/accessible") and the real server keeps its state. Absent: every MISC_CHECK runs.
   */
  miscRefusal?: MiscRefusal;
  /** The previous conversion's memos: a service whose configuration text (and globals) did not change is not converted again. */
  memo?: { checks?: ConversionMemo<VirtualServerSpec<ServiceKey>>; ipvs?: ConversionMemo<VirtualService> };
}

/** What every service's conversion also reads: global_defs, the SSL block, the track_files FILE_CHECK names. */
function globalsKey(config: KeepalivedConfig): string {
  const files = (config.trackFiles ?? []).map((f) => [f.name, f.file, f.weight, f.weightReverse]);
  return JSON.stringify([config.globalDefs, config.ssl ?? null, files]);
}

/** Memo keys by the model's virtual server and the service's name (the IPVS and checks conversions of one load share them). */
const memoKeys = new WeakMap<object, Map<string, string | undefined>>();

/**
 * A declared service's memo key: a digest of its whole configuration text as the model holds it
 * (locations included, so a diagnostic never points at an old line) and of the globals it was
 * converted under. None for services whose conversion reads more than the text: SSL_GET
 * (certificate files) and MISC_CHECK (users) are converted again.
 */
export function memoKey(svc: DeclaredService, globals: string): string | undefined {
  let byName = memoKeys.get(svc.vs);
  if (!byName) memoKeys.set(svc.vs, byName = new Map());
  if (byName.has(svc.name)) return byName.get(svc.name);
  const key = svc.vs.realServers.some((rs) => rs.checkers.some((c) => c.type === 'SSL_GET' || c.type === 'MISC_CHECK')) ? undefined
    : createHash('sha1').update(globals).update('\0').update(`${svc.name}\0${svc.port}\0${JSON.stringify(svc.location)}\0`).update(JSON.stringify(svc.vs)).digest('base64');
  byName.set(svc.name, key);
  return key;
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
    for (const { spec, location } of checkerSpecs(cx, svc.vs, rs, c)) {
      log.at(`${f}.checkers[${checkers.length}]`, location, c.type);
      if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') c.urls.forEach((u, i) => log.at(`${f}.checkers[${checkers.length}].urls[${i}]`, u.location));
      checkers.push(spec);
    }
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
  const cx: CheckerContext = { config, log, reader: options.reader ?? fileSystemReader(), pem: new Map(), ...(options.users ? { users: options.users } : {}),
    ...(options.miscRefusal ? { miscRefusal: options.miscRefusal } : {}) };
  const next: ConversionMemo<VirtualServerSpec<ServiceKey>> = new Map();
  const memo = options.memo ? { previous: options.memo.checks, next } : undefined;
  const globals = memo ? globalsKey(config) : '';
  const virtualServers = declaredServices(log, config).map((svc, i) => memoized(log, memo, memoKey(svc, globals), `virtualServers[${i}]`, (sub) => {
    const field = `virtualServers[${i}]`;
    const spec = virtualServerSpec({ ...cx, log: sub }, svc, field);
    if (options.validate !== false) {
      try {
        validateVirtualServer(spec, field);
      } catch (error) {
        sub.refused('health checks', error, sub.locate(field)!);
      }
    }
    return spec;
  }));
  return { virtualServers, memo: next, ...log.result() };
}
