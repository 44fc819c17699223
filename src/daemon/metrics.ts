// layer: daemon (composition)
// job: a Balancer's Prometheus metrics (prom-client, a private registry): gauges and the kernel's IPVS counters read from its status() at each scrape, netlink counters from its clients, counters fed by its events; rendered in the text format.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AttemptFailure, CheckAttempt } from '../check/events.js';
import type { NetlinkEngineStats } from '../netlink/engine.js';
import type { InstanceStats } from '../vrrp/events.js';
import type { VrrpStateName } from '../vrrp/machine.js';
import type { BalancerEmitterEvents } from './balancer.js';
import type { AutobanBalancerEvent, BalancerEvent, BalancerStatus, RealServerView, TrafficView } from './events.js';
import { eventFamilies, scrapedFamilies, vrrpFamilies, type VrrpCounterName } from './metrics-families.js';
import type { SyncInterfaceEvent } from './sync-interface.js';

/** The states `lvskit_vrrp_instance_state` has a series for (keepalived's four). */
export const VRRP_STATES: readonly VrrpStateName[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT'];

/** What the metrics read: a Balancer, or anything with its status() and events (and, optionally, its netlink counters). */
export interface MetricsSource {
  status(): Promise<BalancerStatus>;
  netlinkStats?(): Record<string, Readonly<NetlinkEngineStats>>;
  on<K extends keyof BalancerEmitterEvents>(name: K, listener: (...args: BalancerEmitterEvents[K]) => void): unknown;
}

export interface BalancerMetricsOptions {
  /** prom-client's default Node.js process metrics (process_*, nodejs_*) in the same registry (default true). */
  processMetrics?: boolean;
}

/** `address:port`, `[v6]:port`: the `real_server` label (the health checks' id of a real server). */
export function realServerLabel(r: { address: string; port: number }): string {
  return `${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`;
}

const VRRP_COUNTERS: Record<VrrpCounterName, keyof Omit<InstanceStats, 'drops'>> = {
  advertsSent: 'advertsSent', advertsReceived: 'advertsReceived', priorityZeroSent: 'priorityZeroSent',
  priorityZeroReceived: 'priorityZeroReceived', becameMaster: 'becameMaster', releasedMaster: 'releasedMaster',
};

/**
 * The metrics of one Balancer. Counters start at 0 when this is made (make it before `start()`
 * to count the start's transitions); `metrics()` reads status() once and renders everything.
 */
export class BalancerMetrics {
  readonly registry = new Registry();
  readonly #source: MetricsSource;
  readonly #s: ReturnType<typeof scrapedFamilies>;
  readonly #e: ReturnType<typeof eventFamilies>;
  readonly #v: ReturnType<typeof vrrpFamilies>;
  /** The VRRP counters last read, by instance (what the next read adds to the totals is the difference). */
  readonly #vrrpSeen = new Map<string, InstanceStats>();
  #candidates?: number;
  /** Overruns of the VRRP side's link watcher, from its `links-resynced` events. */
  #linkOverruns = 0;

  constructor(source: MetricsSource, options: BalancerMetricsOptions = {}) {
    this.#source = source;
    this.#s = scrapedFamilies(this.registry);
    this.#e = eventFamilies(this.registry);
    this.#v = vrrpFamilies(this.registry);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    for (const outcome of ['success', 'failure']) this.#e.reloads.inc({ outcome }, 0);
    for (const direction of ['back', 'forward']) this.#e.clockSteps.inc({ direction }, 0);
    for (const kind of ['recreated', 'edited']) this.#e.driftRepairs.inc({ kind }, 0);
    source.on('event', (e) => this.#count(e));
    source.on('attempt', (a) => this.#attempt(a));
    source.on('attempt-failed', (f) => this.#failed(f));
  }

  /** The Prometheus content type of `metrics()`. */
  get contentType(): string { return this.registry.contentType; }

  /** Everything in the text format; gauges from status() now (when that fails, they are left out and lvskit_status_errors_total counts it). */
  async metrics(): Promise<string> {
    for (const m of Object.values(this.#s)) m.reset();
    try {
      this.#observe(await this.#source.status());
    } catch {
      this.#e.statusErrors.inc();
    }
    this.#netlink(this.#source.netlinkStats?.() ?? {});
    return this.registry.metrics();
  }

  #observe(s: BalancerStatus): void {
    const g = this.#s;
    g.startTime.set(s.startedAtMs / 1000);
    for (const i of s.instances) {
      for (const state of VRRP_STATES) g.vrrpState.set({ instance: i.name, state }, i.state === state ? 1 : 0);
      g.vrrpPriority.set({ instance: i.name }, i.priority);
      g.vrrpVips.set({ instance: i.name }, i.vips.length);
      this.#vrrpCounters(i.name, i.stats);
    }
    for (const svc of s.services) {
      g.servicePresent.set({ service: svc.name }, svc.present ? 1 : 0);
      if (svc.quorumUp !== undefined) g.serviceQuorumUp.set({ service: svc.name }, svc.quorumUp ? 1 : 0);
      if (svc.traffic) this.#traffic(svc.traffic, { service: svc.name }, 'svc');
      for (const r of svc.realServers) this.#realServer(svc.name, r);
    }
    if (s.autoban) {
      const set = { set: s.autoban.set };
      g.autobanBanned.set(set, s.autoban.bans.length);
      if (s.autoban.trackedConnections !== undefined) g.autobanTracked.set(set, s.autoban.trackedConnections);
      if (this.#candidates !== undefined) g.autobanCandidates.set(set, this.#candidates);
    }
  }

  #realServer(service: string, r: RealServerView): void {
    const g = this.#s;
    const labels = { service, real_server: realServerLabel(r) };
    if (r.up !== undefined) g.rsUp.set(labels, r.up ? 1 : 0);
    if (r.kernelWeight !== undefined) g.rsWeight.set(labels, r.kernelWeight);
    if (r.activeConns !== undefined) g.rsActive.set(labels, r.activeConns);
    if (r.inactiveConns !== undefined) g.rsInactive.set(labels, r.inactiveConns);
    if (r.traffic) this.#traffic(r.traffic, labels, 'rs');
  }

  /** The kernel's counters as they are now (they only go back when the kernel entry is made again: a counter reset). */
  #traffic<L extends Record<string, string>>(t: TrafficView, labels: L, of: 'svc' | 'rs'): void {
    const g = this.#s;
    const [conns, pktsIn, pktsOut, bytesIn, bytesOut] = of === 'svc'
      ? [g.svcConns, g.svcPktsIn, g.svcPktsOut, g.svcBytesIn, g.svcBytesOut]
      : [g.rsConns, g.rsPktsIn, g.rsPktsOut, g.rsBytesIn, g.rsBytesOut];
    conns.inc(labels, t.connections);
    pktsIn.inc(labels, t.packetsIn);
    pktsOut.inc(labels, t.packetsOut);
    bytesIn.inc(labels, t.bytesIn);
    bytesOut.inc(labels, t.bytesOut);
  }

  /** Add what the instance counted since the last read; a count lower than before means a new instance (counted from 0). */
  #vrrpCounters(instance: string, now: InstanceStats): void {
    const before = this.#vrrpSeen.get(instance);
    for (const [family, field] of Object.entries(VRRP_COUNTERS) as [VrrpCounterName, keyof typeof now][]) {
      const was = (before?.[field] ?? 0) as number;
      const is = now[field] as number;
      this.#v[family].inc({ instance }, is >= was ? is - was : is);
    }
    this.#vrrpSeen.set(instance, now);
  }

  #netlink(byClient: Record<string, Readonly<NetlinkEngineStats>>): void {
    const g = this.#s;
    for (const [client, n] of Object.entries(byClient)) {
      g.netlinkRequests.inc({ client }, n.sent);
      g.netlinkErrors.inc({ client, kind: 'refused' }, n.refused);
      g.netlinkErrors.inc({ client, kind: 'timeout' }, n.timeouts);
      g.netlinkErrors.inc({ client, kind: 'malformed' }, n.malformed);
      g.netlinkEnobufs.inc({ client }, n.overruns);
      g.netlinkDumpRetries.inc({ client }, n.dumpRetries);
    }
    // The VRRP thread's link watcher: counted from its resync events (its socket is not the main thread's).
    g.netlinkEnobufs.inc({ client: 'rtnl-links' }, this.#linkOverruns);
  }

  #count(e: BalancerEvent): void {
    const c = this.#e;
    if (e.source === 'vrrp' && e.type === 'transition') c.transitions.inc({ instance: e.instance, to: e.to });
    else if (e.source === 'vrrp' && e.type === 'links-resynced') this.#linkOverruns += e.overruns;
    else if (e.source === 'vrrp' && e.type === 'drop') c.drops.inc({ interface: e.interface, reason: e.reason });
    else if (e.source === 'vrrp' && e.type === 'sync-interface') this.#syncInterface(e);
    else if (e.source === 'vrrp' && e.type === 'reconfigure') {
      // Replaced and re-added instances count from 0 again; removed ones leave the scrape.
      for (const name of [...e.added, ...e.replaced.map((r) => r.name)]) this.#vrrpSeen.delete(name);
      for (const name of e.removed) {
        this.#vrrpSeen.delete(name);
        for (const family of Object.values(this.#v)) family.remove({ instance: name });
      }
    } else if (e.source === 'daemon' && e.type === 'reloaded') {
      c.reloads.inc({ outcome: 'success' });
      c.reloadsCoalesced.inc(e.coalesced);
      c.lastReload.set(e.result.durationMs / 1000);
    } else if (e.source === 'daemon' && e.type === 'reload-failed') c.reloads.inc({ outcome: 'failure' });
    else if (e.source === 'daemon' && e.type === 'clock-step') c.clockSteps.inc({ direction: e.stepMs < 0 ? 'back' : 'forward' });
    else if (e.source === 'daemon' && e.type === 'drift-repaired') {
      c.driftRepairs.inc({ kind: 'recreated' }, e.recreated.length);
      c.driftRepairs.inc({ kind: 'edited' }, e.ops.filter((o) => o.kind === 'edit-service').length);
    }
    else if (e.source === 'checks' && e.type === 'overdue') c.checksOverdue.inc();
    else if (e.source === 'autoban') this.#autoban(e);
  }

  /** The gauge follows each report; the counters exist (at 0) from the first one on. */
  #syncInterface(e: SyncInterfaceEvent): void {
    const c = this.#e;
    const labels = { interface: e.interface };
    c.syncInterfaceUp.set(labels, e.up ? 1 : 0);
    c.syncInterfaceDown.inc(labels, !e.up && !e.initial ? 1 : 0);
    c.syncDaemonRestarts.inc(labels, e.restarted === true ? 1 : 0);
  }

  #autoban(e: AutobanBalancerEvent): void {
    const c = this.#e;
    switch (e.type) {
      case 'ban':
        if (!e.dryRun) c.bans.inc();
        c.autobanDecisions.inc({ decision: e.dryRun ? 'would-ban' : 'ban' });
        break;
      case 'whitelisted': case 'rate-limited': case 'expired':
        c.autobanDecisions.inc({ decision: e.type });
        break;
      case 'round':
        c.autobanRounds.inc({ kind: e.complete ? 'full' : 'crossing' });
        if (e.complete) this.#candidates = e.observations;
        if (e.scanMs !== undefined) c.autobanScan.observe({ source: e.from }, e.scanMs / 1000);
        c.autobanLatency.observe({ trigger: e.complete ? 'scan' : 'crossing' }, Math.max(0, e.atMs + e.durationMs - e.reportedAtMs) / 1000);
        break;
      case 'error':
        c.autobanErrors.inc();
        break;
      case 'set-created': case 'blacklist-recovered':
        break;
    }
  }

  #attempt(a: CheckAttempt): void {
    const r = a.report;
    this.#e.checkResults.inc({ result: r.result.ok ? 'success' : r.result.reason });
    this.#e.checkDuration.observe(Math.max(0, r.endedAt - r.startedAt) / 1000);
  }

  #failed(f: AttemptFailure): void {
    this.#e.checkFailures.inc({ service: f.vs, real_server: f.rs, reason: f.failure.reason });
  }
}
