// layer: behaviour (check)
// job: HealthChecks: run the checkers of virtual servers on one scheduler (shared probes), keep real-server and quorum state, apply it through the sink, and take new settings in place (reload).
import { EventEmitter } from 'node:events';
import { eventStream } from '../event-stream.js';
import { diffVirtualServers } from './diff.js';
import {
  HEALTH_CHECK_EVENT_NAMES, type HealthCheckEvent, type HealthCheckEvents, type HealthStatus, type RealServerStatus,
  type ScriptRun, type VirtualServerReplaced, type VirtualServerStatus,
} from './events.js';
import { scheduledCheck } from './probe.js';
import { runProgram } from './process.js';
import {
  applyCheckerUpdate, carriedHealth, effectiveWeight, healthEvents, initialHealth, type InitialChecker, type RealServerEvent, type RealServerHealth,
} from './real-server.js';
import { CheckScheduler, type AttemptReport, type SchedulerOptions } from './scheduler.js';
import { SharedChecks, type CheckSubscription } from './share.js';
import { applySinkOp, destinationKey, planSinkOps, type DestinationSink, type SinkDestination, type SinkOp } from './sink.js';
import type { ResolvedRealServer, ResolvedVirtualServer, VirtualServerSpec } from './spec.js';
import type { CheckConfig, Probe } from './types.js';
import { CheckConfigError, validateVirtualServer } from './validate.js';
import {
  desiredDestinations, initialQuorum, liveWeight, nextQuorum, quorumThreshold, sorryActive, sorryTransitions, type VirtualServerPolicy,
} from './virtual-server.js';

/** The scheduler's options (clock, random, maxInFlight, jitterRatio, overdueGraceMs, timerSlackMs), and: */
export interface HealthChecksOptions<S> extends SchedulerOptions {
  /** Where weight/add/remove decisions go (an IPVS client adapter, or MemorySink). */
  sink: DestinationSink<S>;
  /** notify_up/down and quorum_up/down are killed (as a process group) after this. Default 10,000 ms. */
  scriptTimeoutMs?: number;
  /** The attempt of a checker (default: the real TCP/HTTP/MISC probe). For tests of pure behaviour. */
  probeFor?: (config: CheckConfig) => Probe;
}

/** Options of `HealthChecks.add()`: what the kernel already holds, so only the difference is applied. */
export interface AddOptions {
  /** What the kernel already holds for this service (default: nothing); only the difference is applied. */
  present?: SinkDestination[];
  /**
   * Real servers (`address:port`) that start DOWN, as with `alpha`, until their checkers succeed:
   * a daemon that adopts a table found them DOWN (weight 0, or absent) when its predecessor stopped.
   */
  startDown?: ReadonlySet<string>;
}

/** Options of `HealthChecks.replace()`: what the kernel already holds. */
export interface ReplaceOptions {
  /** What the kernel holds for this service now (a fresh dump): taken as applied first, as `reconcile()` does. */
  present?: SinkDestination[];
}

/** The sink operations made while a call brought the service to what it should hold. */
export interface SyncReport {
  /** Applied, in order. */
  ops: SinkOp[];
  /** Refused (also `sink-error` events); retried with the next change, `resync()` or `reconcile()`. */
  failures: { op: SinkOp; error: unknown }[];
}

/** What `replace()` changed. */
export interface ReplaceResult extends SyncReport, Omit<VirtualServerReplaced, 'vs'> {
  /** The settings equal the running ones: nothing was touched (only `present`, if given, was reconciled). */
  unchanged: boolean;
  /** Check keys kept (state carried over), started and stopped, over all real servers. */
  checkers: { kept: number; started: number; stopped: number };
}

interface Runtime<S> {
  spec: ResolvedVirtualServer<S>;
  health: Map<string, RealServerHealth>;
  quorumUp: boolean;
  applied: Map<string, SinkDestination>;
  subscriptions: { rs: string; checker: ResolvedRealServer['checkers'][number]; sub: CheckSubscription }[];
  syncing?: Promise<void>;
  /** Reports of calls waiting for a sync (replace, reconcile): every op applied or refused meanwhile. */
  watchers: Set<SyncReport>;
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
      applied: destinationMap(options.present ?? []), watchers: new Set(),
    };
    this.#vs.set(resolved.id, rt);
    for (const rs of resolved.realServers) {
      const down = options.startDown?.has(rs.id) === true;
      rt.health.set(rs.id, initialHealth(rs.destination.weight, this.#subscribe(rt, rs).map((c) => (down ? { ...c, alpha: true } : c))));
    }
    rt.quorumUp = initialQuorum(resolved.policy, liveWeight(rt.health.values()));
    await this.#sync(rt);
  }

  /**
   * New settings for a running virtual server (a reload), applied as a difference. Validated first
   * (CheckConfigError naming the field; nothing changes). Settings equal to the running ones
   * (real servers in any order) change nothing at all. Otherwise real servers are matched by
   * `address:port`: a checker whose check key is unchanged keeps its probe, schedule and verdict, a
   * real server whose checkers all stay keeps its health (UP/DOWN, dynamic weight, down reason); a
   * new checker starts as `add()` starts it (alpha: DOWN until its first success), as does a new
   * real server; a removed one is removed from the service. Quorum and the sorry server are
   * evaluated again under the new policy, and only the difference goes to the sink (a new weight is
   * one `set-weight`). Events: `replaced`, then `real-server`, `quorum`, `sorry-server` and
   * `applied` for what follows. The service identity cannot change (remove() and add() instead).
   * Resolves when the sink has what the new settings say.
   */
  async replace(spec: VirtualServerSpec<S>, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    const resolved = validateVirtualServer(spec);
    const rt = this.#running(resolved.id);
    const diff = diffVirtualServers(rt.spec, resolved);
    if (diff.serviceChanged) {
      throw new CheckConfigError('virtualServer.service', spec.service, 'is not the running virtual server\'s: replace() keeps the service (remove() and add() move it)');
    }
    const change = { added: diff.added, removed: diff.removed, changed: diff.kept.filter((k) => k.changed).map((k) => k.id), policyChanged: diff.policyChanged };
    const result = { unchanged: diff.unchanged, ...change, checkers: diff.checkers };
    if (diff.unchanged && !options.present) return { ...result, ops: [], failures: [] };
    if (!diff.unchanged) this.#swap(rt, resolved, { vs: resolved.id, ...change });
    if (options.present) rt.applied = destinationMap(options.present);
    return { ...result, ...(await this.#syncReport(rt)) };
  }

  /**
   * Tell a running virtual server what the kernel holds for its service now (a fresh dump, e.g.
   * `IpvsClient.dumpTable()`), then bring it back to what health says: a destination deleted or
   * edited behind our back is put back, one that should not be there is removed — only the
   * difference. A dump older than an operation of ours only makes that operation again (the sink's
   * operations are idempotent). Resolves when applied.
   */
  async reconcile(id: string, present: readonly SinkDestination[]): Promise<SyncReport> {
    const rt = this.#running(id);
    rt.applied = destinationMap(present);
    return this.#syncReport(rt);
  }

  #running(id: string): Runtime<S> {
    if (this.#closed) throw new Error('health checks are shut down');
    const rt = this.#vs.get(id);
    if (!rt) throw new Error(`virtual server ${id} is not checked (add() it first)`);
    return rt;
  }

  /** Subscribe the checkers of `rs` (reports go to `rt`); how each starts. */
  #subscribe(rt: Runtime<S>, rs: ResolvedRealServer): InitialChecker[] {
    return rs.checkers.map((checker) => {
      const sub = this.#shared.subscribe(checker.config, (report) => this.#onReport(rt, rs, sub.key, report));
      rt.subscriptions.push({ rs: rs.id, checker, sub });
      const dynamic = (checker.config.kind === 'MISC_CHECK' && checker.config.dynamic) || checker.config.kind === 'FILE_CHECK';
      return { key: sub.key, alpha: checker.alpha, state: sub.state, dynamic };
    });
  }

  /** Take `next` as the running settings, carrying state over (see replace()); events for what changed. */
  #swap(rt: Runtime<S>, next: ResolvedVirtualServer<S>, change: VirtualServerReplaced): void {
    const before = { policy: rt.spec.policy, health: rt.health, subscriptions: rt.subscriptions };
    rt.spec = next;
    rt.health = new Map();
    rt.subscriptions = [];
    for (const rs of next.realServers) {
      const initial = this.#subscribe(rt, rs);
      const previous = before.health.get(rs.id);
      rt.health.set(rs.id, previous ? carriedHealth(previous, rs.destination.weight, initial) : initialHealth(rs.destination.weight, initial));
    }
    // Only now the old subscriptions go: a check kept has had a subscriber throughout, so it was never stopped.
    for (const s of before.subscriptions) s.sub.unsubscribe();
    this.emit('replaced', change);
    for (const rs of next.realServers) {
      const previous = before.health.get(rs.id);
      if (previous) for (const event of healthEvents(previous, rt.health.get(rs.id)!)) this.#realServerEvent(rt, rs, event);
    }
    this.#evaluateQuorum(rt, before.policy);
  }

  /** Sync `rt`, reporting the operations made meanwhile. */
  async #syncReport(rt: Runtime<S>): Promise<SyncReport> {
    const report: SyncReport = { ops: [], failures: [] };
    rt.watchers.add(report);
    try {
      await this.#sync(rt);
    } finally {
      rt.watchers.delete(report);
    }
    return report;
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
    if (!report.result.ok && !rt.removed && this.listenerCount('attempt-failed') > 0) {
      this.emit('attempt-failed', { vs: rt.spec.id, rs: rs.id, key, failure: report.result, retrying: report.retrying });
    }
    // Attempts without a verdict change nothing here (their results are in the scheduler's status).
    const health = rt.health.get(rs.id);
    if (!report.verdict || !health || rt.removed || this.#closed) return;
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

  /** Quorum after a change of health, or of the policy (`previousPolicy`: the one before a replace). */
  #evaluateQuorum(rt: Runtime<S>, previousPolicy: VirtualServerPolicy = rt.spec.policy): void {
    const weight = liveWeight(rt.health.values());
    this.#setQuorum(rt, nextQuorum(rt.spec.policy, rt.quorumUp, weight), weight, previousPolicy);
  }

  /** Events (quorum, then sorry server) and the quorum script for a new quorum state. */
  #setQuorum(rt: Runtime<S>, up: boolean, weight: number, previousPolicy: VirtualServerPolicy = rt.spec.policy): void {
    const { id, policy } = rt.spec;
    const was = rt.quorumUp;
    rt.quorumUp = up;
    if (up !== was) this.emit('quorum', { vs: id, up, weight, threshold: quorumThreshold(policy, was) });
    for (const t of sorryTransitions({ policy: previousPolicy, quorumUp: was }, { policy, quorumUp: up })) this.emit('sorry-server', { vs: id, ...t });
    const script = up ? rt.spec.quorumUp : rt.spec.quorumDown;
    if (up !== was && script) this.#script(up ? 'quorum_up' : 'quorum_down', rt, script);
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
            for (const w of rt.watchers) w.failures.push({ op, error });
            this.emit('sink-error', { vs: rt.spec.id, op, error });
            break;
          }
          const key = destinationKey(op.destination);
          if (op.op === 'remove') rt.applied.delete(key);
          else rt.applied.set(key, { ...op.destination });
          for (const w of rt.watchers) w.ops.push(op);
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
   * are left as they are. `omega: false` leaves every one as it is (a daemon stopping for a
   * restart, whose successor adopts the table). Resolves when the sink and the scripts are done.
   */
  async stop(options: { omega?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#scheduler.stop();
    for (const rt of this.#vs.values()) {
      for (const s of rt.subscriptions) s.sub.unsubscribe();
      if (!rt.spec.omega || options.omega === false) continue;
      for (const rs of rt.spec.realServers) {
        if (rt.health.get(rs.id)?.up) this.#realServerEvent(rt, rs, { type: 'down', checker: 'shutdown' });
      }
      if (rt.quorumUp) this.#setQuorum(rt, false, 0);
      rt.withdrawn = true;
      void this.#sync(rt);
    }
    await this.settled();
    this.emit('close');
  }

  /** Release everything: stop() with its defaults, unless stopped already. Idempotent. */
  close(): Promise<void> {
    return this.stop();
  }

  /** `await using hc = new HealthChecks(...)`: close() when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> { return this.close(); }

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

  /** Every event, tagged with its name, until stop() or `signal` aborts. */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<HealthCheckEvent> {
    return eventStream(this, HEALTH_CHECK_EVENT_NAMES,
      (type, payload) => ({ type, ...(payload as object) }) as HealthCheckEvent, { ...options, closed: this.#closed });
  }
}

/** `address:port` → a copy of each destination. */
function destinationMap(list: readonly SinkDestination[]): Map<string, SinkDestination> {
  return new Map(list.map((d) => [destinationKey(d), { ...d }]));
}
