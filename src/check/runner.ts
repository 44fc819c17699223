// layer: behaviour (check)
// job: HealthChecks: run the checkers of virtual servers on one scheduler (shared probes), keep real-server and quorum state, and apply it through the sink.
import { EventEmitter } from 'node:events';
import { eventStream } from '../event-stream.js';
import {
  HEALTH_CHECK_EVENT_NAMES, type HealthCheckEvent, type HealthCheckEvents, type HealthStatus, type RealServerStatus,
  type ScriptRun, type VirtualServerStatus,
} from './events.js';
import { scheduledCheck } from './probe.js';
import { runProgram } from './process.js';
import { applyCheckerUpdate, effectiveWeight, initialHealth, type RealServerEvent, type RealServerHealth } from './real-server.js';
import { CheckScheduler, type AttemptReport, type SchedulerOptions } from './scheduler.js';
import { SharedChecks, type CheckSubscription } from './share.js';
import { applySinkOp, destinationKey, planSinkOps, type DestinationSink, type SinkDestination } from './sink.js';
import type { ResolvedRealServer, ResolvedVirtualServer, VirtualServerSpec } from './spec.js';
import type { CheckConfig, Probe } from './types.js';
import { validateVirtualServer } from './validate.js';
import { desiredDestinations, initialQuorum, liveWeight, nextQuorum, quorumThreshold, sorryActive } from './virtual-server.js';

/** The scheduler's options (clock, random, maxInFlight, jitterRatio, overdueGraceMs, timerSlackMs), and: */
export interface HealthChecksOptions<S> extends SchedulerOptions {
  /** Where weight/add/remove decisions go (an IPVS client adapter, or MemorySink). */
  sink: DestinationSink<S>;
  /** notify_up/down and quorum_up/down are killed (as a process group) after this. Default 10,000 ms. */
  scriptTimeoutMs?: number;
  /** The attempt of a checker (default: the real TCP/HTTP/MISC probe). For tests of pure behaviour. */
  probeFor?: (config: CheckConfig) => Probe;
}

export interface AddOptions {
  /** What the kernel already holds for this service (default: nothing); only the difference is applied. */
  present?: SinkDestination[];
}

interface Runtime<S> {
  spec: ResolvedVirtualServer<S>;
  health: Map<string, RealServerHealth>;
  quorumUp: boolean;
  applied: Map<string, SinkDestination>;
  subscriptions: { rs: string; checker: ResolvedRealServer['checkers'][number]; sub: CheckSubscription }[];
  syncing?: Promise<void>;
  dirty: boolean;
  removed: boolean;
  /** omega at shutdown: the service should hold nothing. */
  withdrawn: boolean;
}

/**
 * Health checks for virtual servers. `add()` validates a virtual server, starts its checkers (a
 * check identical to one already running is shared, not run twice) and applies the initial pool;
 * from then on every change of a real server (UP/DOWN, dynamic weight) and of the quorum is
 * applied through the sink, in an order that never empties the pool needlessly. Events: see
 * HealthCheckEvents (also as one async iterator, `events()`).
 */
export class HealthChecks<S> extends EventEmitter<HealthCheckEvents> {
  readonly #sink: DestinationSink<S>;
  readonly #scheduler: CheckScheduler;
  readonly #shared: SharedChecks;
  readonly #scriptTimeoutMs: number;
  readonly #vs = new Map<string, Runtime<S>>();
  readonly #scripts = new Set<Promise<void>>();
  #closed = false;

  constructor(options: HealthChecksOptions<S>) {
    super();
    this.#sink = options.sink;
    this.#scriptTimeoutMs = options.scriptTimeoutMs ?? 10_000;
    this.#scheduler = new CheckScheduler(options);
    this.#scheduler.on('overdue', (r) => this.emit('overdue', r));
    this.#scheduler.on('recovered', (r) => this.emit('recovered', r));
    const probeFor = options.probeFor;
    this.#shared = new SharedChecks(this.#scheduler, {
      ...(probeFor ? { toScheduled: (c: CheckConfig) => scheduledCheck(c, probeFor(c)) } : {}),
      onAttempt: (key, report) => { if (this.listenerCount('attempt') > 0) this.emit('attempt', { key, report }); },
    });
  }

  /** The scheduler (for stats and overdue status). */
  get scheduler(): CheckScheduler {
    return this.#scheduler;
  }

  /** Distinct checks running (shared ones count once). */
  get checks(): number {
    return this.#shared.size;
  }

  /** Validate `spec` (throws CheckConfigError naming the field), start its checkers, apply its initial pool. */
  async add(spec: VirtualServerSpec<S>, options: AddOptions = {}): Promise<void> {
    if (this.#closed) throw new Error('health checks are shut down');
    const resolved = validateVirtualServer(spec);
    if (this.#vs.has(resolved.id)) throw new Error(`virtual server ${resolved.id} is already checked`);
    const rt: Runtime<S> = {
      spec: resolved, health: new Map(), quorumUp: false, dirty: false, removed: false, withdrawn: false, subscriptions: [],
      applied: new Map((options.present ?? []).map((d) => [destinationKey(d), { ...d }])),
    };
    this.#vs.set(resolved.id, rt);
    for (const rs of resolved.realServers) {
      const initial = rs.checkers.map((checker) => {
        const sub = this.#shared.subscribe(checker.config, (report) => this.#onReport(rt, rs, sub.key, report));
        rt.subscriptions.push({ rs: rs.id, checker, sub });
        return { key: sub.key, alpha: checker.alpha, state: sub.state };
      });
      rt.health.set(rs.id, initialHealth(rs.destination.weight, initial));
    }
    rt.quorumUp = initialQuorum(resolved.policy, liveWeight(rt.health.values()));
    await this.#sync(rt);
  }

  /** Stop checking a virtual server (its destinations stay as they are). */
  async remove(id: string): Promise<boolean> {
    const rt = this.#vs.get(id);
    if (!rt) return false;
    this.#vs.delete(id);
    rt.removed = true;
    for (const s of rt.subscriptions) s.sub.unsubscribe();
    await rt.syncing;
    return true;
  }

  /** Re-apply what a virtual server should have (after a `sink-error`); resolves when applied. */
  async resync(id: string): Promise<void> {
    const rt = this.#vs.get(id);
    if (rt) await this.#sync(rt);
  }

  /** Resolves when no sink operation and no script is in flight. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...[...this.#vs.values()].map((rt) => rt.syncing), ...this.#scripts].filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  #onReport(rt: Runtime<S>, rs: ResolvedRealServer, key: string, report: AttemptReport): void {
    // Attempts without a verdict change nothing here (their results are in the scheduler's status).
    if (!report.verdict || rt.removed || this.#closed) return;
    const health = rt.health.get(rs.id)!;
    const update = report.verdict ? { result: report.result, verdict: report.verdict } : { result: report.result };
    const { health: next, events } = applyCheckerUpdate(health, key, update);
    rt.health.set(rs.id, next);
    if (events.length === 0) return;
    for (const event of events) this.#realServerEvent(rt, rs, event);
    this.#evaluateQuorum(rt);
    void this.#sync(rt);
  }

  #realServerEvent(rt: Runtime<S>, rs: ResolvedRealServer, event: RealServerEvent): void {
    this.emit('real-server', { vs: rt.spec.id, rs: rs.id, event });
    if (event.type === 'up' && rs.notifyUp) this.#script('notify_up', rt, rs.notifyUp, rs.id);
    if (event.type === 'down' && rs.notifyDown) this.#script('notify_down', rt, rs.notifyDown, rs.id);
  }

  #evaluateQuorum(rt: Runtime<S>): void {
    const { policy } = rt.spec;
    const weight = liveWeight(rt.health.values());
    const up = nextQuorum(policy, rt.quorumUp, weight);
    if (up === rt.quorumUp) return;
    const threshold = quorumThreshold(policy, rt.quorumUp);
    rt.quorumUp = up;
    this.#quorumChanged(rt, up, weight, threshold);
  }

  #quorumChanged(rt: Runtime<S>, up: boolean, weight: number, threshold: number): void {
    const { policy } = rt.spec;
    this.emit('quorum', { vs: rt.spec.id, up, weight, threshold });
    if (policy.sorryServer) this.emit('sorry-server', { vs: rt.spec.id, active: sorryActive(policy, up), destination: destinationKey(policy.sorryServer) });
    const script = up ? rt.spec.quorumUp : rt.spec.quorumDown;
    if (script) this.#script(up ? 'quorum_up' : 'quorum_down', rt, script);
  }

  #desired(rt: Runtime<S>): Map<string, SinkDestination> {
    if (rt.withdrawn) return new Map();
    return desiredDestinations(rt.spec.policy, rt.spec.realServers, rt.health, rt.quorumUp);
  }

  /** Apply the difference between what is applied and what should be, one operation at a time per service. */
  #sync(rt: Runtime<S>): Promise<void> {
    if (rt.syncing) {
      rt.dirty = true;
      return rt.syncing;
    }
    const run = async (): Promise<void> => {
      do {
        rt.dirty = false;
        for (const op of planSinkOps(rt.applied, this.#desired(rt))) {
          try {
            await applySinkOp(this.#sink, rt.spec.service, op);
          } catch (error) {
            this.emit('sink-error', { vs: rt.spec.id, op, error });
            break;
          }
          const key = destinationKey(op.destination);
          if (op.op === 'remove') rt.applied.delete(key);
          else rt.applied.set(key, { ...op.destination });
          this.emit('applied', { vs: rt.spec.id, op });
        }
      } while (rt.dirty && !rt.removed);
    };
    rt.syncing = run().finally(() => { rt.syncing = undefined; });
    return rt.syncing;
  }

  #script(kind: ScriptRun['kind'], rt: Runtime<S>, argv: string[], rs?: string): void {
    const p = runProgram({ argv, timeoutMs: this.#scriptTimeoutMs, maxOutputBytes: 4096 }).then((outcome) => {
      this.#scripts.delete(p);
      this.emit('script', { kind, vs: rt.spec.id, argv, outcome, ...(rs !== undefined ? { rs } : {}) });
    });
    this.#scripts.add(p);
  }

  /**
   * Stop every check. Virtual servers with `omega` then take their real servers down (events,
   * notify_down), lose quorum (event, quorum_down) and have every destination removed; the others
   * are left as they are. Resolves when the sink and the scripts are done.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#scheduler.stop();
    for (const rt of this.#vs.values()) {
      for (const s of rt.subscriptions) s.sub.unsubscribe();
      if (!rt.spec.omega) continue;
      for (const rs of rt.spec.realServers) {
        if (rt.health.get(rs.id)?.up) this.#realServerEvent(rt, rs, { type: 'down', checker: 'shutdown' });
      }
      if (rt.quorumUp) {
        rt.quorumUp = false;
        this.#quorumChanged(rt, false, 0, quorumThreshold(rt.spec.policy, true));
      }
      rt.withdrawn = true;
      void this.#sync(rt);
    }
    await this.settled();
    this.emit('close');
  }

  status(): HealthStatus {
    return { virtualServers: [...this.#vs.values()].map((rt) => this.#vsStatus(rt)), scheduler: this.#scheduler.stats() };
  }

  #vsStatus(rt: Runtime<S>): VirtualServerStatus {
    const { policy } = rt.spec;
    return {
      id: rt.spec.id, quorumUp: rt.quorumUp, liveWeight: liveWeight(rt.health.values()), threshold: quorumThreshold(policy, rt.quorumUp),
      sorryActive: sorryActive(policy, rt.quorumUp), realServers: rt.spec.realServers.map((rs) => this.#rsStatus(rt, rs)),
    };
  }

  #rsStatus(rt: Runtime<S>, rs: ResolvedRealServer): RealServerStatus {
    const health = rt.health.get(rs.id)!;
    const applied = rt.applied.get(destinationKey(rs.destination));
    const out: RealServerStatus = {
      id: rs.id, up: health.up, weight: effectiveWeight(health),
      checkers: rt.subscriptions.filter((s) => s.rs === rs.id).map(({ checker, sub }) => {
        const job = this.#scheduler.status(sub.key);
        const seen = health.checkers.get(sub.key);
        return {
          kind: checker.config.kind, key: sub.key, up: seen?.up ?? false, overdue: job?.overdue ?? false, attempts: job?.attempts ?? 0,
          ...(job ? { state: job.state } : {}), ...(job?.lastResult ? { last: job.lastResult } : {}),
        };
      }),
    };
    if (applied) out.appliedWeight = applied.weight;
    if (health.downReason) out.downReason = health.downReason;
    return out;
  }

  /** Every event, tagged with its name, until shutdown or `signal` aborts. */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<HealthCheckEvent> {
    return eventStream(this, HEALTH_CHECK_EVENT_NAMES,
      (type, payload) => ({ type, ...(payload as object) }) as HealthCheckEvent, { ...options, closed: this.#closed });
  }
}
