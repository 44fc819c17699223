// layer: behaviour (check)
// job: one scheduler for every check: delay_loop, retries, warmup, jitter, a bound on attempts in flight, deadlines, and overdue detection (the liveness signal).
import { EventEmitter } from 'node:events';
import { Fifo } from '../fifo.js';
import { systemClock, type Clock, type Random } from './clock.js';
import { TimerHeap } from './heap.js';
import { AttemptAbort } from './signal.js';
import { INITIAL_CHECKER_STATE, retryStep, type CheckerState } from './retry.js';
import type { CheckFailure, CheckResult, CheckTiming, Probe } from './types.js';

/** What the scheduler runs: the timing, a bound on one attempt, and the attempt itself. */
export interface ScheduledCheck {
  timing: CheckTiming;
  /** The attempt's signal aborts with reason `'deadline'` this long after it starts. */
  attemptTimeoutMs: number;
  probe: Probe;
}

/** One finished attempt, as the scheduler hands it to the check's listener. */
export interface AttemptReport {
  id: string;
  result: CheckResult;
  /** When the attempt was due, started and ended (scheduler clock, ms). */
  dueAt: number;
  startedAt: number;
  endedAt: number;
  /** 1 for a first attempt, 2.. for retries. */
  attempt: number;
  /** The failure will be retried after delay_before_retry. */
  retrying: boolean;
  state: CheckerState;
  /** Present when the checker turned UP or DOWN, or its dynamic weight changed. */
  verdict?: { up: boolean; weight: number | undefined };
}

/** A check that has not finished an attempt in time: queued too long, or a probe that ignores its deadline. */
export interface OverdueReport {
  id: string;
  phase: JobPhase;
  dueAt: number;
  /** How far past due it is (at detection), or was (at recovery). */
  lateMs: number;
}

/** Events of the check scheduler: a check overdue, and back on time. */
export interface SchedulerEvents {
  overdue: [OverdueReport];
  recovered: [OverdueReport];
}

/** Where a check is in its cycle: waiting for its time, queued for a slot, or running. */
export type JobPhase = 'waiting' | 'queued' | 'running';

/** Options of the check scheduler: clock, random source, attempts in flight, jitter. */
export interface SchedulerOptions {
  clock?: Clock;
  random?: Random;
  /** Attempts running at once; more wait in a FIFO (file descriptors stay bounded). Default 256. */
  maxInFlight?: number;
  /**
   * Spread: without warmup the first attempt starts in [0, jitterRatio × delay_loop), and each
   * delay_loop is stretched by a factor in [1 − jitterRatio/2, 1 + jitterRatio/2). Retries are exact. Default 0.1.
   */
  jitterRatio?: number;
  /** A check is overdue when not finished by due + max(delay_loop, attempt timeout) + this. Default 1000. */
  overdueGraceMs?: number;
  /**
   * The one timer is armed this much after the earliest due entry, so entries due close together
   * run in one wake-up (thousands of checks cost far fewer loop iterations). Checks start at most
   * this late; never early. Default 10.
   */
  timerSlackMs?: number;
}

/** A check's place in the scheduler, for status. */
export interface JobStatus {
  id: string;
  phase: JobPhase;
  dueAt: number;
  overdue: boolean;
  state: CheckerState;
  attempts: number;
  lastResult?: CheckResult;
}

/** Counters since the scheduler was made. */
export interface SchedulerStats {
  checks: number;
  inFlight: number;
  queued: number;
  maxInFlightSeen: number;
  attempts: number;
  overdueNow: number;
  overdueEvents: number;
  /** Largest (start − due) seen, ms: how late attempts start under load. */
  maxStartLatenessMs: number;
}

interface Job {
  id: string;
  check: ScheduledCheck;
  onReport: (report: AttemptReport) => void;
  state: CheckerState;
  phase: JobPhase;
  dueAt: number;
  cycle: number;
  startedAt: number;
  controller?: AttemptAbort;
  overdue: boolean;
  attempts: number;
  lastResult?: CheckResult;
  removed: boolean;
}

interface Entry {
  at: number;
  job: Job;
  cycle: number;
  type: 'due' | 'deadline' | 'overdue';
}

/** Entries due within this of now run now (setTimeout rounds to whole ms). */
const EARLY_MS = 1;

/**
 * Runs many checks with one timer. Each check runs, at most one attempt at a time, per keepalived's
 * rules (see retryStep); the listener given to `add` gets every attempt. Events: `overdue` when a
 * check has not finished by its due time plus max(delay_loop, attempt timeout) plus the grace
 * (queued behind the in-flight bound, or a probe that ignores its deadline), `recovered` when it
 * finishes. `status()` and `stats()` compute overdue from the clock as well, so a check whose
 * alarm could not fire (a blocked event loop) still shows.
 */
export class CheckScheduler extends EventEmitter<SchedulerEvents> {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #maxInFlight: number;
  readonly #jitterRatio: number;
  readonly #graceMs: number;
  readonly #slackMs: number;
  readonly #jobs = new Map<string, Job>();
  readonly #heap = new TimerHeap<Entry>();
  readonly #queue = new Fifo<Job>();
  /** Resolves stop() once the last attempt in flight has settled. */
  #drained?: () => void;
  #timer: unknown;
  #timerAt = Infinity;
  #inFlight = 0;
  /** Holds in force (hold()): no attempt starts while any is. */
  #holds = 0;
  #stopped = false;
  #stopping?: Promise<void>;
  readonly #stats = { maxInFlightSeen: 0, attempts: 0, overdueEvents: 0, maxStartLatenessMs: 0 };

  constructor(options: SchedulerOptions = {}) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#maxInFlight = options.maxInFlight ?? 256;
    this.#jitterRatio = options.jitterRatio ?? 0.1;
    this.#graceMs = options.overdueGraceMs ?? 1000;
    this.#slackMs = options.timerSlackMs ?? 10;
    if (!(this.#maxInFlight >= 1)) throw new RangeError(`maxInFlight must be at least 1, not ${this.#maxInFlight}`);
    if (!(this.#jitterRatio >= 0 && this.#jitterRatio < 1)) throw new RangeError(`jitterRatio must be in [0, 1), not ${this.#jitterRatio}`);
  }

  /** Start running `check` under `id`; the first attempt is after the warmup (or the jitter spread). */
  add(id: string, check: ScheduledCheck, onReport: (report: AttemptReport) => void): void {
    if (this.#stopped) throw new Error('the check scheduler is stopped');
    if (this.#jobs.has(id)) throw new Error(`check ${id} is already scheduled`);
    const job: Job = {
      id, check, onReport, state: INITIAL_CHECKER_STATE, phase: 'waiting', dueAt: 0, cycle: 0, startedAt: 0,
      overdue: false, attempts: 0, removed: false,
    };
    this.#jobs.set(id, job);
    const { warmupMs, delayLoopMs } = check.timing;
    const firstMs = warmupMs > 0 ? this.#random() * warmupMs : this.#random() * this.#jitterRatio * delayLoopMs;
    this.#schedule(job, this.#clock.now() + firstMs);
    this.#arm();
  }

  /** Stop running `id`; an attempt in flight is aborted (its result is dropped). */
  remove(id: string): boolean {
    const job = this.#jobs.get(id);
    if (!job) return false;
    this.#jobs.delete(id);
    job.removed = true;
    job.cycle += 1;
    job.controller?.abort('aborted');
    return true;
  }

  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  /**
   * Start no new attempt until the returned release is called (attempts in flight finish; checks
   * that fall due wait in the queue and start, in order, at the release). For work that must have
   * the event loop for a moment — a reload's changes, as keepalived's checker pauses for its
   * reload. Holds nest; releasing twice is harmless. A check held past its overdue limit is
   * reported overdue as usual.
   */
  hold(): () => void {
    this.#holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds === 0 && !this.#stopped) {
        this.#pump();
        this.#arm();
      }
    };
  }

  /** Whether a hold() is in force. */
  get held(): boolean {
    return this.#holds > 0;
  }

  /** Abort everything; resolves when every attempt in flight has settled. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    for (const id of [...this.#jobs.keys()]) this.remove(id);
    this.#queue.drain();
    this.#heap.clear();
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#inFlight > 0) await new Promise<void>((resolve) => { this.#drained = resolve; });
  }

  status(id: string): JobStatus | undefined {
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    const s: JobStatus = { id, phase: job.phase, dueAt: job.dueAt, overdue: job.overdue || this.#isOverdue(job), state: job.state, attempts: job.attempts };
    if (job.lastResult) s.lastResult = job.lastResult;
    return s;
  }

  stats(): SchedulerStats {
    let overdueNow = 0;
    for (const job of this.#jobs.values()) if (job.overdue || this.#isOverdue(job)) overdueNow += 1;
    return { checks: this.#jobs.size, inFlight: this.#inFlight, queued: this.#queue.length, overdueNow, ...this.#stats };
  }

  #limitMs(job: Job): number {
    return Math.max(job.check.timing.delayLoopMs, job.check.attemptTimeoutMs) + this.#graceMs;
  }

  #isOverdue(job: Job): boolean {
    return this.#clock.now() > job.dueAt + this.#limitMs(job);
  }

  #schedule(job: Job, at: number): void {
    job.cycle += 1;
    job.phase = 'waiting';
    job.dueAt = at;
    this.#heap.push({ at, job, cycle: job.cycle, type: 'due' });
  }

  /**
   * Arm the overdue alarm of the job's current cycle. Only done when something is off the normal
   * path (queued behind the in-flight bound, or running past its deadline), so a healthy check costs
   * no extra heap entry.
   */
  #watch(job: Job, now: number): void {
    if (!job.overdue) this.#heap.push({ at: Math.max(now, job.dueAt + this.#limitMs(job)), job, cycle: job.cycle, type: 'overdue' });
  }

  #arm(): void {
    const top = this.#heap.peek();
    const at = top ? top.at + this.#slackMs : Infinity;
    if (at >= this.#timerAt) return;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timerAt = at;
    this.#timer = at === Infinity ? undefined : this.#clock.setTimer(at, () => this.#fire());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    for (let top = this.#heap.peek(); top && top.at <= now + EARLY_MS; top = this.#heap.peek()) {
      this.#heap.pop();
      if (top.job.removed || top.cycle !== top.job.cycle) continue;
      this.#handle(top, now);
    }
    this.#pump();
    this.#arm();
  }

  #handle(entry: Entry, now: number): void {
    const { job } = entry;
    if (entry.type === 'due' && job.phase === 'waiting') {
      job.phase = 'queued';
      this.#queue.push(job);
      if (this.#holds > 0 || this.#queue.length + this.#inFlight > this.#maxInFlight) this.#watch(job, now);
    } else if (entry.type === 'deadline' && job.phase === 'running') {
      this.#watch(job, now);
      job.controller?.abort('deadline');
    } else if (entry.type === 'overdue' && !job.overdue) {
      job.overdue = true;
      this.#stats.overdueEvents += 1;
      this.emit('overdue', { id: job.id, phase: job.phase, dueAt: job.dueAt, lateMs: now - job.dueAt });
    }
  }

  #pump(): void {
    while (this.#holds === 0 && this.#inFlight < this.#maxInFlight) {
      const job = this.#queue.shift();
      if (!job) return;
      if (job.removed || job.phase !== 'queued') continue;
      this.#start(job);
    }
  }

  #start(job: Job): void {
    const now = this.#clock.now();
    job.phase = 'running';
    job.startedAt = now;
    job.attempts += 1;
    this.#stats.attempts += 1;
    this.#stats.maxStartLatenessMs = Math.max(this.#stats.maxStartLatenessMs, now - job.dueAt);
    this.#inFlight += 1;
    this.#stats.maxInFlightSeen = Math.max(this.#stats.maxInFlightSeen, this.#inFlight);
    const controller = new AttemptAbort();
    job.controller = controller;
    const cycle = job.cycle;
    this.#heap.push({ at: now + job.check.attemptTimeoutMs, job, cycle, type: 'deadline' });
    const settle = (result: CheckResult): void => {
      this.#inFlight -= 1;
      if (!job.removed && job.cycle === cycle) this.#finish(job, result);
      if (!this.#stopped) {
        this.#pump();
        this.#arm();
      } else if (this.#inFlight === 0) {
        this.#drained?.();
      }
    };
    let pending: Promise<CheckResult>;
    try {
      pending = job.check.probe(controller);
    } catch (error) {
      pending = Promise.resolve(thrownFailure(error));
    }
    pending.then(settle, (error: unknown) => settle(thrownFailure(error)));
  }

  #finish(job: Job, result: CheckResult): void {
    const now = this.#clock.now();
    const attempt = job.state.retryIt + 1;
    const step = retryStep(job.state, result, job.check.timing);
    job.state = step.state;
    job.lastResult = result;
    job.controller = undefined;
    const report: AttemptReport = {
      id: job.id, result, dueAt: job.dueAt, startedAt: job.startedAt, endedAt: now, attempt, retrying: step.retrying, state: step.state,
    };
    if (step.verdict) report.verdict = step.verdict;
    if (job.overdue) {
      job.overdue = false;
      this.emit('recovered', { id: job.id, phase: job.phase, dueAt: job.dueAt, lateMs: now - job.dueAt });
    }
    const delayMs = step.retrying ? step.delayMs : step.delayMs * (1 + this.#jitterRatio * (this.#random() - 0.5));
    this.#schedule(job, now + delayMs);
    // A listener that throws must not leave the scheduler half-updated: it runs on its own.
    queueMicrotask(() => job.onReport(report));
  }
}

function thrownFailure(error: unknown): CheckFailure {
  return { ok: false, reason: 'connect-error', message: `checker threw: ${error instanceof Error ? error.message : String(error)}` };
}
