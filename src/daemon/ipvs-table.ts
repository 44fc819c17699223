// layer: daemon (composition; the tables are pure, IpvsTable is the shell over the client)
// job: the IPVS table a balancer owns: adopted at start, reconciled on reload against a fresh dump, released at stop; timeouts and the always-on sync daemons.
import type { SinkDestination } from '../check/sink.js';
import { destinationKey } from '../check/sink.js';
import { sinkDestinations } from '../check/ipvs-sink.js';
import { apply, rollback, type ApplyResult } from '../ipvs/apply.js';
import { IpvsClient } from '../ipvs/client.js';
import type { NetlinkEngineStats } from '../netlink/engine.js';
import { destinationName, serviceKeyOf, serviceName, type Destination, type ServiceState, type SyncDaemon, type VirtualService } from '../ipvs/model.js';
import { plan, sameSettings, settingsOf, type Op, type Ownership } from '../ipvs/plan.js';
import { checksByService, type DesiredState } from './desired.js';

/** The destinations a service holds in a dump, by service name. */
export function presentByService(table: readonly ServiceState[]): Map<string, SinkDestination[]> {
  return new Map(table.map((s) => [serviceName(s), sinkDestinations(s.destinations ?? [])]));
}

/** What a start plans: the table to reach, and the real servers the health checks should start DOWN. */
export interface AdoptedTable {
  services: VirtualService[];
  /** Per service name, the destination keys found at weight 0 (or missing) where the configuration gives a weight: start them DOWN. */
  presumedDown: Map<string, Set<string>>;
}

/** The configured destinations of a service (real servers and sorry server), by destination key. */
function configured(desired: DesiredState, name: string): Set<string> {
  const spec = checksByService(desired).get(name);
  const keys = new Set<string>();
  for (const rs of spec?.realServers ?? []) keys.add(destinationKey({ address: rs.address, port: rs.port ?? spec?.port ?? 0 }));
  if (spec?.sorryServer) keys.add(destinationKey({ address: spec.sorryServer.address, port: spec.sorryServer.port ?? spec.port ?? 0 }));
  return keys;
}

/**
 * Start = adopt. A service already in the kernel keeps its configured real servers at their
 * current weights (a restart changes nothing that traffic uses: no flush, no weight flap) and
 * loses real servers the configuration no longer names. One found at weight 0 while configured
 * with a weight was DOWN when the previous daemon stopped, and one missing was DOWN or is new:
 * both start DOWN, so traffic reaches them only once a check has passed (keepalived would start
 * them UP). A new service starts as keepalived starts it.
 */
export function adoptedTable(current: readonly ServiceState[], desired: DesiredState): AdoptedTable {
  const now = new Map(current.map((s) => [serviceName(s), s]));
  const presumedDown = new Map<string, Set<string>>();
  const services = desired.services.map((svc) => {
    const name = serviceName(svc);
    const have = now.get(name);
    if (!have) return svc;
    const keys = configured(desired, name);
    const kept = new Map((have.destinations ?? []).filter((d) => keys.has(destinationKey(d))).map((d) => [destinationKey(d), d]));
    const down = new Set<string>();
    const destinations: Destination[] = [];
    for (const d of svc.destinations ?? []) {
      const k = kept.get(destinationKey(d));
      if (!k) continue; // configured, not in the kernel: DOWN until its checks pass (added below)
      kept.delete(destinationKey(d));
      if (k.weight === 0 && d.weight > 0) down.add(destinationKey(d));
      destinations.push({ ...d, weight: k.weight });
    }
    // Configured but held DOWN at start (alpha, inhibit): kept as the kernel has them.
    for (const d of kept.values()) {
      destinations.push(sinkDestinations([d])[0] as Destination);
      if (d.weight === 0) down.add(destinationKey(d));
    }
    for (const k of keys) if (!(have.destinations ?? []).some((d) => destinationKey(d) === k)) down.add(k);
    presumedDown.set(name, down);
    return { ...svc, destinations };
  });
  return { services, presumedDown };
}

/** The service-level operations of a reload, and which services need what from the checks. */
export interface ServicePlan {
  ops: Op[];
  /** Declared before and after, but missing from the kernel (deleted behind our back): created again, empty, for the checks to fill. */
  recreated: Set<string>;
  /** New in the configuration but already in the kernel: their real servers are read before the checks take them over. */
  adopted: Set<string>;
}

/**
 * A reload's IPVS operations on services alone, from the kernel's services (no real servers: the
 * health checks own those): a new service is added with its start real servers (or, if someone
 * already made it, adopted), changed settings are an edit, a declared service missing from the
 * kernel is created again, a service no longer declared is removed (any service, with lvs_flush).
 */
export function serviceOps(current: readonly ServiceState[], before: DesiredState, after: DesiredState): ServicePlan {
  const now = new Map(current.map((s) => [serviceName(s), s]));
  const had = new Set(before.services.map(serviceName));
  const plan: ServicePlan = { ops: [], recreated: new Set(), adopted: new Set() };
  for (const svc of after.services) {
    const name = serviceName(svc);
    const key = serviceKeyOf(svc);
    const have = now.get(name);
    if (!have) {
      plan.ops.push({ kind: 'add-service', service: { ...key, ...settingsOf(svc) } });
      if (had.has(name)) plan.recreated.add(name);
      else for (const d of svc.destinations ?? []) plan.ops.push({ kind: 'add-destination', service: key, destination: d });
    } else {
      if (!had.has(name)) plan.adopted.add(name);
      if (!sameSettings(have, svc)) plan.ops.push({ kind: 'edit-service', service: { ...key, ...settingsOf(svc) }, previous: settingsOf(have) });
    }
  }
  const owns = ownership(before, after);
  const wanted = new Set(after.services.map(serviceName));
  for (const have of current) {
    if (wanted.has(serviceName(have)) || !(owns.service?.(have) ?? true)) continue;
    plan.ops.push({ kind: 'delete-service', service: { ...serviceKeyOf(have), ...settingsOf(have) }, destinations: sinkDestinations(have.destinations ?? []) as Destination[] });
  }
  return plan;
}

/** Services either configuration declares are ours; with lvs_flush, every service is. */
export function ownership(...configs: DesiredState[]): Ownership {
  if (configs.some((c) => c.flush)) return {};
  const declared = new Set(configs.flatMap((c) => c.services.map(serviceName)));
  return { service: (s) => declared.has(serviceName(s)) };
}

/** What an apply did, or why it stopped (kernel refusal: everything it did is undone). */
export class IpvsApplyError extends Error {
  override name = 'IpvsApplyError';
  constructor(readonly result: ApplyResult, readonly undone: boolean) {
    const f = result.failed;
    super(`IPVS refused ${f ? describeFailed(f.op) : 'an operation'}: ${f?.error.message ?? 'unknown'}${undone ? '; nothing was left changed' : ''}`);
  }
}

function describeFailed(op: Op): string {
  const svc = serviceName(op.service);
  return 'destination' in op ? `${op.kind} ${destinationName(op.destination)} of ${svc}` : `${op.kind} ${svc}`;
}

/** The balancer's IPVS client and what it does with the table. The client opens at first use (a VRRP-only balancer never needs IPVS). */
export class IpvsTable {
  #client?: IpvsClient;

  constructor(private readonly netns?: string) {}

  get client(): IpvsClient {
    return this.#client ??= IpvsClient.open(this.netns !== undefined ? { netns: this.netns } : {});
  }

  /** The client's netlink counters (undefined until the client is first used). */
  get netlinkStats(): NetlinkEngineStats | undefined {
    return this.#client?.netlinkStats;
  }

  dump(): Promise<ServiceState[]> {
    return this.client.dumpTable({ stats: false });
  }

  /** The services alone, without their real servers (one dump of 1,000 entries instead of 11,000). */
  services(): Promise<ServiceState[]> {
    return this.client.listServices({ stats: false });
  }

  /** Carry out `ops` whole or not at all (a refusal undoes the rest and throws IpvsApplyError). */
  async applyAll(ops: readonly Op[]): Promise<void> {
    if (ops.length === 0) return;
    const result = await apply(this.client, ops);
    if (result.ok) return;
    const undo = await rollback(this.client, result);
    throw new IpvsApplyError(result, undo.ok && result.revertFailures.length === 0);
  }

  /** lvs_timeouts (0 / absent: unchanged). */
  async setTimeouts(desired: DesiredState): Promise<void> {
    if (desired.timeouts && Object.values(desired.timeouts).some((v) => v)) await this.client.setTimeouts(desired.timeouts);
  }

  /** The sync daemons that run whatever the VRRP state: started when missing, left alone when running as wanted. */
  async ensureDaemons(daemons: readonly SyncDaemon[], previous: readonly SyncDaemon[] = []): Promise<void> {
    if (daemons.length === 0 && previous.length === 0) return;
    const running = await this.client.listDaemons();
    for (const p of previous) {
      if (!daemons.some((d) => d.state === p.state) && running.some((r) => r.state === p.state)) await this.client.stopDaemon(p.state);
    }
    for (const d of daemons) {
      const r = running.find((x) => x.state === d.state);
      if (r && r.interface === d.interface && r.syncId === d.syncId) continue;
      if (r) await this.client.stopDaemon(d.state);
      await this.client.startDaemon(d);
    }
  }

  /** At a graceful stop (keepalived's default): the declared services go (everything with lvs_flush_on_stop ALL). */
  async release(desired: DesiredState): Promise<void> {
    if (desired.services.length === 0 && desired.flushOnStop !== 'all') return;
    if (desired.flushOnStop === 'all') {
      await this.client.flush();
      return;
    }
    const declared = new Set(desired.services.map(serviceName));
    const ops: Op[] = (await this.dump()).filter((s) => declared.has(serviceName(s)))
      .map((s) => ({ kind: 'delete-service', service: s, destinations: [] }));
    await apply(this.client, ops);
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}

export { plan };
