// layer: daemon (composition)
// job: a Balancer's Prometheus metrics (prom-client, a private registry): gauges read from its status() at each scrape, counters fed by its events; rendered in the text format.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CheckAttempt } from '../check/events.js';
import type { VrrpStateName } from '../vrrp/machine.js';
import type { BalancerEmitterEvents } from './balancer.js';
import type { BalancerEvent, BalancerStatus, RealServerView } from './events.js';

/** The states `lvskit_vrrp_instance_state` has a series for (keepalived's four). */
export const VRRP_STATES: readonly VrrpStateName[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT'];

/** What the metrics read: a Balancer, or anything with its status() and events. */
export interface MetricsSource {
  status(): Promise<BalancerStatus>;
  on<K extends keyof BalancerEmitterEvents>(name: K, listener: (...args: BalancerEmitterEvents[K]) => void): unknown;
}

export interface BalancerMetricsOptions {
  /** prom-client's default Node.js process metrics (process_*, nodejs_*) in the same registry (default true). */
  processMetrics?: boolean;
}

function realServerLabel(r: RealServerView): string {
  return `${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`;
}

/**
 * The metrics of one Balancer. Counters start at 0 when this is made (make it before `start()`
 * to count the start's transitions); `metrics()` reads status() once and renders everything.
 */
export class BalancerMetrics {
  readonly registry = new Registry();
  readonly #source: MetricsSource;
  readonly #g: ReturnType<typeof gauges>;
  readonly #c: ReturnType<typeof counters>;

  constructor(source: MetricsSource, options: BalancerMetricsOptions = {}) {
    this.#source = source;
    this.#g = gauges(this.registry);
    this.#c = counters(this.registry);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    for (const outcome of ['success', 'failure']) this.#c.reloads.inc({ outcome }, 0);
    source.on('event', (e) => this.#count(e));
    source.on('attempt', (a) => this.#attempt(a));
  }

  /** The Prometheus content type of `metrics()`. */
  get contentType(): string { return this.registry.contentType; }

  /** Everything in the text format; gauges from status() now (when that fails, they are left out and lvskit_status_errors_total counts it). */
  async metrics(): Promise<string> {
    for (const g of Object.values(this.#g)) g.reset();
    try {
      this.#observe(await this.#source.status());
    } catch {
      this.#c.statusErrors.inc();
    }
    return this.registry.metrics();
  }

  #observe(s: BalancerStatus): void {
    const g = this.#g;
    g.startTime.set(s.startedAtMs / 1000);
    for (const i of s.instances) {
      for (const state of VRRP_STATES) g.vrrpState.set({ instance: i.name, state }, i.state === state ? 1 : 0);
      g.vrrpPriority.set({ instance: i.name }, i.priority);
      g.vrrpAdvertsSent.set({ instance: i.name }, i.stats.advertsSent);
      g.vrrpAdvertsReceived.set({ instance: i.name }, i.stats.advertsReceived);
      g.vrrpVips.set({ instance: i.name }, i.vips.length);
    }
    for (const svc of s.services) {
      g.servicePresent.set({ service: svc.name }, svc.present ? 1 : 0);
      if (svc.quorumUp !== undefined) g.serviceQuorumUp.set({ service: svc.name }, svc.quorumUp ? 1 : 0);
      for (const r of svc.realServers) {
        const labels = { service: svc.name, real_server: realServerLabel(r) };
        if (r.up !== undefined) g.rsUp.set(labels, r.up ? 1 : 0);
        if (r.kernelWeight !== undefined) g.rsWeight.set(labels, r.kernelWeight);
        if (r.activeConns !== undefined) g.rsActive.set(labels, r.activeConns);
        if (r.inactiveConns !== undefined) g.rsInactive.set(labels, r.inactiveConns);
      }
    }
    if (s.autoban) {
      const set = { set: s.autoban.set };
      g.autobanBanned.set(set, s.autoban.bans.length);
      if (s.autoban.trackedConnections !== undefined) g.autobanTracked.set(set, s.autoban.trackedConnections);
    }
  }

  #count(e: BalancerEvent): void {
    const c = this.#c;
    if (e.source === 'vrrp' && e.type === 'transition') c.transitions.inc({ instance: e.instance, to: e.to });
    else if (e.source === 'vrrp' && e.type === 'drop') c.drops.inc({ interface: e.interface, reason: e.reason });
    else if (e.source === 'daemon' && e.type === 'reloaded') {
      c.reloads.inc({ outcome: 'success' });
      c.lastReload.set(e.result.durationMs / 1000);
    } else if (e.source === 'daemon' && e.type === 'reload-failed') c.reloads.inc({ outcome: 'failure' });
    else if (e.source === 'checks' && e.type === 'overdue') c.checksOverdue.inc();
    else if (e.source === 'autoban' && e.type === 'ban' && !e.dryRun) c.bans.inc();
  }

  #attempt(a: CheckAttempt): void {
    const r = a.report;
    this.#c.checkResults.inc({ result: r.result.ok ? 'success' : r.result.reason });
    this.#c.checkDuration.observe(Math.max(0, r.endedAt - r.startedAt) / 1000);
  }
}

function gauges(registry: Registry) {
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  return {
    startTime: gauge('lvskit_start_time_seconds', 'When the balancer started running (Unix time)'),
    vrrpState: gauge('lvskit_vrrp_instance_state', 'VRRP instance state: 1 for the state the instance is in, 0 for the others', ['instance', 'state']),
    vrrpPriority: gauge('lvskit_vrrp_instance_priority', 'VRRP instance priority now (configured, adjusted by tracking)', ['instance']),
    vrrpAdvertsSent: gauge('lvskit_vrrp_instance_adverts_sent', 'Adverts sent by the instance since it was created (reset when a reload replaces it)', ['instance']),
    vrrpAdvertsReceived: gauge('lvskit_vrrp_instance_adverts_received', 'Adverts received and accepted by the instance since it was created', ['instance']),
    vrrpVips: gauge('lvskit_vrrp_instance_vips', 'Virtual addresses configured on the instance', ['instance']),
    servicePresent: gauge('lvskit_service_present', 'The declared IPVS service is in the kernel table (1) or not (0)', ['service']),
    serviceQuorumUp: gauge('lvskit_service_quorum_up', 'The service has its quorum of healthy real servers', ['service']),
    rsUp: gauge('lvskit_real_server_up', 'Real server health from its checks: 1 UP, 0 DOWN', ['service', 'real_server']),
    rsWeight: gauge('lvskit_real_server_weight', 'Real server weight in the kernel\'s IPVS table', ['service', 'real_server']),
    rsActive: gauge('lvskit_real_server_active_connections', 'Active connections of the real server (IPVS)', ['service', 'real_server']),
    rsInactive: gauge('lvskit_real_server_inactive_connections', 'Inactive connections of the real server (IPVS)', ['service', 'real_server']),
    autobanBanned: gauge('lvskit_autoban_banned', 'Bans in force in the autoban\'s ipset (absent: the autoban is off)', ['set']),
    autobanTracked: gauge('lvskit_autoban_tracked_connections', 'Connections the sync-stream tracker holds (absent: off, or procfs as the source)', ['set']),
  };
}

function counters(registry: Registry) {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    transitions: counter('lvskit_vrrp_transitions_total', 'VRRP state transitions, by instance and the state entered', ['instance', 'to']),
    drops: counter('lvskit_vrrp_dropped_total', 'Received VRRP datagrams dropped, by interface and reason (RFC 3768/5798 §7.1 checks)', ['interface', 'reason']),
    checkResults: counter('lvskit_check_results_total', 'Health-check attempts by result: success, or the failure\'s reason', ['result']),
    checksOverdue: counter('lvskit_checks_overdue_total', 'Times a health check did not finish in time (hung or starved)'),
    checkDuration: new Histogram({
      name: 'lvskit_check_duration_seconds', help: 'Health-check attempt duration', registers: [registry],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    reloads: counter('lvskit_reloads_total', 'Configuration reloads by outcome (failure: refused, nothing changed)', ['outcome']),
    bans: counter('lvskit_autoban_bans_total', 'Bans the autoban put in force (dry runs not counted)'),
    lastReload: new Gauge({ name: 'lvskit_reload_last_duration_seconds', help: 'How long the last successful reload took (0: none yet)', registers: [registry] }),
    statusErrors: counter('lvskit_status_errors_total', 'Scrapes whose status read failed (the gauges were left out)'),
  };
}
