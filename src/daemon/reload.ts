// layer: daemon (composition)
// job: a reload as a difference: read and validate the new configuration, then VRRP in place, the IPVS services against a fresh dump, the health checks kept or replaced, the autoban — or, dry, only the plan.
import type { HealthChecks } from '../check/runner.js';
import { serviceName, type ServiceKey } from '../ipvs/model.js';
import { plan } from '../ipvs/plan.js';
import { autobanKey, AutobanSide } from './autoban-side.js';
import { checksByService, loadDesired, type ConfigSource, type DesiredState } from './desired.js';
import type { ReloadResult } from './events.js';
import { IpvsTable, ownership, presentByService, reloadTable } from './ipvs-table.js';
import { locatedConfigError } from './located.js';
import { diffChecks, sameJson } from './reload-diff.js';
import { diffInstances, summarizeDiff, type VrrpReconfigureResult } from '../vrrp/reconfigure.js';
import { validateVrrpConfig } from '../vrrp/validate.js';
import type { VrrpHost } from './vrrp-side.js';

/** What a reload works on: the balancer's parts and setters for what it replaces. */
export interface BalancerParts {
  desired: DesiredState;
  vrrp: VrrpHost;
  table: IpvsTable;
  netns: string | undefined;
  /** The health checks (created at first use). */
  checks(): HealthChecks<ServiceKey>;
  autoban: AutobanSide | undefined;
  setDesired(desired: DesiredState): void;
  /** Stop using the current autoban (already stopped by the reload) and start `side`, if any. */
  setAutoban(side: AutobanSide | undefined): Promise<void>;
}

/** The reload's IPVS plan from a fresh dump: services added, edited (settings), deleted; kept services' real servers left to the checks. */
async function ipvsPlan(table: IpvsTable, before: DesiredState, after: DesiredState): Promise<{ ops: ReturnType<typeof plan>; current: Awaited<ReturnType<IpvsTable['dump']>> }> {
  const needed = before.services.length + after.services.length > 0 || after.flush;
  if (!needed) return { ops: [], current: [] };
  const current = await table.dump();
  return { ops: plan(current, reloadTable(current, before, after), { owns: ownership(before, after) }), current };
}

/** What VRRP would do (a dry run): the runner's own classification of the resolved instances. */
function vrrpDiff(before: DesiredState, after: DesiredState): VrrpReconfigureResult {
  const resolved = (d: DesiredState) => (d.instances.length > 0 ? validateVrrpConfig(d.instances, d.syncGroups).instances : []);
  return summarizeDiff(diffInstances(resolved(before), resolved(after)));
}

/**
 * Reload `parts` to `source`. The new configuration is read and validated whole first; VRRP
 * checks it against the live links before anything changes (a refusal changes nothing). Then, in
 * order: VRRP instances in place; health checks of services that go are stopped; the IPVS plan
 * (services added with their start real servers, settings edited, services removed; drift against
 * the fresh dump repaired); checks of kept services told what the kernel holds and given their new
 * spec (unchanged ones do nothing, changed ones apply only their difference); new services'
 * checks started; timeouts, always-on daemons, autoban.
 */
export async function reloadBalancer(parts: BalancerParts, source: ConfigSource, dryRun: boolean): Promise<ReloadResult> {
  const began = performance.now();
  const before = parts.desired;
  const after = loadDesired(source);
  const checks = diffChecks(before.virtualServers, after.virtualServers);
  const { ops, current } = await ipvsPlan(parts.table, before, after);
  const autobanChange = autobanKey(before.autoban) === autobanKey(after.autoban) ? 'unchanged'
    : !before.autoban ? 'started' : !after.autoban ? 'stopped' : 'restarted';
  const result: ReloadResult = {
    dryRun, vrrp: vrrpDiff(before, after), ipvs: ops, checks, checkOps: 0, autoban: autobanChange,
    timeouts: !sameJson(before.timeouts, after.timeouts), daemons: !sameJson(before.daemons, after.daemons), warnings: after.warnings, durationMs: 0,
  };
  if (dryRun) return { ...result, durationMs: performance.now() - began };
  try {
    result.vrrp = await parts.vrrp.reconfigure({ instances: after.instances, syncGroups: after.syncGroups, ...(after.syncDaemon ? { syncDaemon: after.syncDaemon } : {}) });
  } catch (error) {
    throw locatedConfigError(after, error);
  }
  result.checkOps = await applyIpvsAndChecks(parts, before, after, ops, current);
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
  parts.setDesired(after);
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

/** IPVS services and the checks that own their real servers; returns the checks' IPVS operations. */
async function applyIpvsAndChecks(parts: BalancerParts, before: DesiredState, after: DesiredState,
  ops: ReturnType<typeof plan>, current: Awaited<ReturnType<IpvsTable['dump']>>): Promise<number> {
  const had = checksByService(before);
  const wanted = checksByService(after);
  if (had.size === 0 && wanted.size === 0) {
    await parts.table.applyAll(ops);
    return 0;
  }
  const checks = parts.checks();
  let applied = 0;
  const count = (): void => { applied++; };
  checks.on('applied', count);
  try {
    for (const [name, spec] of had) if (!wanted.has(name)) await checks.remove(spec.id);
    await parts.table.applyAll(ops);
    const present = presentByService(current);
    const added = new Map(ops.filter((o) => o.kind === 'add-service').map((o) => [serviceName(o.service), true]));
    for (const [name, spec] of wanted) {
      if (!had.has(name)) {
        const start = after.services.find((s) => serviceName(s) === name)?.destinations ?? [];
        await checks.add(spec, { present: start });
        continue;
      }
      // The kernel's real servers as they are now (drift included), then the new spec: only the difference is applied.
      await checks.replace(spec, { present: added.has(name) ? [] : present.get(name) ?? [] });
    }
    await checks.settled();
  } finally {
    checks.off('applied', count);
  }
  return applied;
}
