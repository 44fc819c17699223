// layer: daemon (composition)
// job: a reload as a difference: read and validate the new configuration, then VRRP in place, the IPVS services, the checks of changed services, the drift pass against a fresh dump, the autoban — or, dry, only the plan; and the periodic drift check (the same repair, same configuration).
import { sinkDestinations } from '../check/ipvs-sink.js';
import type { HealthChecks } from '../check/runner.js';
import type { SinkDestination } from '../check/sink.js';
import type { VirtualServerSpec } from '../check/spec.js';
import { serviceName, type ServiceKey } from '../ipvs/model.js';
import type { Op } from '../ipvs/plan.js';
import { autobanKey, AutobanSide } from './autoban-side.js';
import { checksByService, loadDesired, type ConfigSource, type DesiredState } from './desired.js';
import type { ReloadResult } from './events.js';
import { IpvsTable, presentByService, serviceOps, type ServicePlan } from './ipvs-table.js';
import { locatedConfigError } from './located.js';
import { diffChecks, diffNet, diffVrrp, sameJson } from './reload-diff.js';
import type { StaticNet } from './static-net.js';
import { summarizeDiff, type InstanceDiff } from '../vrrp/reconfigure.js';
import type { VrrpHost } from './vrrp-side.js';
import type { TrackingConfig } from '../track/types.js';

/** What a reload works on: the balancer's parts and setters for what it replaces. */
export interface BalancerParts {
  desired: DesiredState;
  vrrp: VrrpHost;
  table: IpvsTable;
  netns: string | undefined;
  /** The health checks (created at first use). */
  checks(): HealthChecks<ServiceKey>;
  autoban: AutobanSide | undefined;
  /** Apply the new trackers (unchanged ones keep their state) and send the VRRP side the tracking that follows. */
  retrack(tracking: TrackingConfig | undefined): Promise<void>;
  /** static_ipaddress / static_routes / static_rules. */
  staticNet: StaticNet;
  setDesired(desired: DesiredState): void;
  /** Stop using the current autoban (already stopped by the reload) and start `side`, if any. */
  setAutoban(side: AutobanSide | undefined): Promise<void>;
}

/** The static set's difference and that of the virtual routes and rules of instances changed in place (asking VRRP which are MASTER only if some changed). */
async function netDiff(parts: BalancerParts, before: DesiredState, after: DesiredState, vrrp: InstanceDiff): Promise<ReloadResult['net']> {
  const changed = vrrp.changed.filter((c) => c.fields.includes('routes') || c.fields.includes('rules'));
  const masters = new Set(changed.length > 0 ? (await parts.vrrp.status()).filter((i) => i.state === 'MASTER').map((i) => i.name) : []);
  return diffNet(before.staticNet, after.staticNet, changed, (name) => masters.has(name));
}

/**
 * Reload `parts` to `source`. The new configuration is read and validated whole first; VRRP
 * checks it against the live links before anything changes (a refusal changes nothing). Then the
 * changes, the shortest way to the kernel first: VRRP instances in place; the services' operations
 * against the kernel's service list (added with their start real servers, settings edited, removed,
 * a declared one deleted behind our back created again); the checks of removed services stopped,
 * of new ones started, of changed ones given their new spec with the kernel's real servers of that
 * service (only their difference is applied). Unchanged services are not touched on that path.
 * Then the drift pass: one full dump, and every other service's real servers put back to what its
 * checks say (edited or deleted by hand). Then timeouts, always-on daemons, the autoban.
 */
export async function reloadBalancer(parts: BalancerParts, source: ConfigSource, dryRun: boolean): Promise<ReloadResult> {
  const began = performance.now();
  const phasesMs: NonNullable<ReloadResult['phasesMs']> = {};
  const mark = (phase: keyof typeof phasesMs): void => { phasesMs[phase] = performance.now() - began; };
  const before = parts.desired;
  // The change path has the event loop to itself: no check attempt starts until the changes are
  // applied (those in flight finish; due ones start at the release), as keepalived's checker
  // pauses for its reload. At 1,000 × 10 the attempts' callbacks otherwise queue before each step.
  const release = before.virtualServers.length > 0 ? parts.checks().scheduler.hold() : (): void => undefined;
  try {
    return await reloadHeld(parts, source, dryRun, { began, phasesMs, mark, before, release });
  } finally {
    release();
  }
}

interface ReloadRun {
  began: number;
  phasesMs: NonNullable<ReloadResult['phasesMs']>;
  mark(phase: keyof NonNullable<ReloadResult['phasesMs']>): void;
  before: DesiredState;
  /** Lets the checks run again: once the changes are applied, before the drift pass. */
  release(): void;
}

async function reloadHeld(parts: BalancerParts, source: ConfigSource, dryRun: boolean, run: ReloadRun): Promise<ReloadResult> {
  const { began, phasesMs, mark, before } = run;
  const after = loadDesired(source, before);
  mark('loaded');
  const checks = diffChecks(before.virtualServers, after.virtualServers);
  const usesIpvs = before.services.length + after.services.length > 0 || after.flush;
  const current = usesIpvs ? await parts.table.services() : [];
  const services = serviceOps(current, before, after);
  mark('planned');
  const vrrp = diffVrrp(before, after);
  const net = await netDiff(parts, before, after, vrrp);
  const autobanChange = autobanKey(before.autoban) === autobanKey(after.autoban) ? 'unchanged'
    : !before.autoban ? 'started' : !after.autoban ? 'stopped' : 'restarted';
  const result: ReloadResult = {
    dryRun, vrrp: summarizeDiff(vrrp), ipvs: services.ops, checks, checkOps: 0, net, autoban: autobanChange,
    timeouts: !sameJson(before.timeouts, after.timeouts), daemons: !sameJson(before.daemons, after.daemons), warnings: after.warnings, durationMs: 0, phasesMs,
  };
  if (dryRun) return { ...result, durationMs: performance.now() - began };
  try {
    result.vrrp = await parts.vrrp.reconfigure({ instances: after.instances, syncGroups: after.syncGroups, ...(after.syncDaemon ? { syncDaemon: after.syncDaemon } : {}) });
  } catch (error) {
    throw locatedConfigError(after, error);
  }
  await parts.retrack(after.tracking);
  await parts.staticNet.reload(before.staticNet, after.staticNet);
  mark('vrrp');
  result.checkOps = await applyIpvsAndChecks(parts, before, after, services, new Set(checks.changed.map((c) => c.id)), () => {
    mark('applied');
    run.release();
  });
  mark('drift');
  if (result.timeouts) await parts.table.setTimeouts(after);
  if (result.daemons) await parts.table.ensureDaemons(after.daemons, before.daemons);
  if (autobanChange !== 'unchanged') {
    try {
      await replaceAutoban(parts, before, after);
    } catch (error) {
      parts.setDesired({ ...after, ...(before.autoban ? { autoban: before.autoban } : {}) }); // everything else is applied
      throw error;
    }
  }
  const { config: _model, ...kept } = after;
  parts.setDesired(kept);
  return { ...result, durationMs: performance.now() - began };
}

/**
 * The autoban with its new settings. Its sources hold sockets the new one needs, so the old one
 * stops first; if the new one cannot open (a set of the wrong family, say), the old one runs again
 * and the reload reports why.
 */
async function replaceAutoban(parts: BalancerParts, before: DesiredState, after: DesiredState): Promise<void> {
  await parts.autoban?.stop();
  if (!after.autoban) {
    await parts.setAutoban(undefined);
    return;
  }
  try {
    await parts.setAutoban(await AutobanSide.open(after.autoban, parts.netns));
  } catch (error) {
    await parts.setAutoban(before.autoban ? await AutobanSide.open(before.autoban, parts.netns) : undefined);
    throw new Error(`the autoban keeps its previous settings: ${(error as Error).message}`, { cause: error });
  }
}

/** What a drift check put back. */
export interface DriftRepair {
  /** The service operations: a declared service missing from the kernel created again, settings changed by hand edited back. */
  ops: Op[];
  /** Services that were missing (deleted behind the daemon's back, e.g. `ipvsadm -D`). */
  recreated: string[];
  /** IPVS operations the health checks made putting real servers back. */
  checkOps: number;
}

/**
 * The drift check: the kernel's service list (one dump, no real servers: cheap at any table size)
 * against the running configuration. A declared service that is missing is created again and its
 * checks put its real servers back as they last saw them; one whose settings were changed by hand
 * is edited back; then the reload's drift pass (one full dump) puts every service's real servers
 * back. Services not declared are never touched here, `lvs_flush` or not. Nothing found: nothing
 * done, undefined.
 */
export async function repairDrift(parts: BalancerParts): Promise<DriftRepair | undefined> {
  const d = parts.desired;
  if (d.services.length === 0) return undefined;
  const found = serviceOps(await parts.table.services(), d, d);
  const services: ServicePlan = { ...found, ops: found.ops.filter((o) => o.kind !== 'delete-service') };
  if (services.ops.length === 0) return undefined;
  const checkOps = await applyIpvsAndChecks(parts, d, d, services, new Set(), () => undefined);
  return { ops: services.ops, recreated: [...services.recreated], checkOps };
}

/** IPVS services and the checks that own their real servers; returns the checks' IPVS operations. */
async function applyIpvsAndChecks(parts: BalancerParts, before: DesiredState, after: DesiredState, services: ServicePlan, changed: ReadonlySet<string>,
  applied: () => void): Promise<number> {
  const had = checksByService(before);
  const wanted = checksByService(after);
  if (had.size === 0 && wanted.size === 0) {
    await parts.table.applyAll(services.ops);
    applied();
    return 0;
  }
  const checks = parts.checks();
  let ops = 0;
  const count = (): void => { ops++; };
  checks.on('applied', count);
  try {
    for (const [name, spec] of had) if (!wanted.has(name)) await checks.remove(spec.id);
    await parts.table.applyAll(services.ops);
    const kernelOf = async (name: string, spec: VirtualServerSpec<ServiceKey>): Promise<SinkDestination[]> =>
      (services.recreated.has(name) ? [] : sinkDestinations(await parts.table.client.listDestinations(spec.service)));
    for (const [name, spec] of wanted) {
      if (!had.has(name)) {
        const start = services.adopted.has(name) ? await kernelOf(name, spec) : after.services.find((s) => serviceName(s) === name)?.destinations ?? [];
        await checks.add(spec, { present: start });
      } else if (changed.has(spec.id) || services.recreated.has(name)) {
        await checks.replace(spec, { present: await kernelOf(name, spec) });
      }
    }
    await checks.settled();
    applied();
    // The drift pass, off the changes' path: every other service's real servers as the kernel holds them now.
    const present = presentByService(await parts.table.dump());
    for (const [name, spec] of wanted) {
      if (had.has(name) && !changed.has(spec.id) && !services.recreated.has(name)) await checks.reconcile(spec.id, present.get(name) ?? []);
    }
    await checks.settled();
  } finally {
    checks.off('applied', count);
  }
  return ops;
}
