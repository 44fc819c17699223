// layer: behaviour (track)
// job: vrrp_track_process: the matching processes counted once from /proc, then kept by the kernel's process events (fork, exec, comm, exit) on one connector socket; each tracker's quorum with its delays.
import { systemClock, type Clock } from '../check/clock.js';
import { errnoCode } from '../errors.js';
import { openSocket, type Socket } from '../native/socket.js';
import { CN_IDX_PROC, decodeProcEvent, encodeListen, NETLINK_CONNECTOR, type ProcEvent } from './proc-events.js';
import { procfs, type ProcReader } from './procfs.js';
import { countChanged, delayElapsed, initialQuorum, processMatches, recounted, type ProcessCause, type ProcessQuorum } from './process-state.js';
import type { TrackerEvent, TrackProcessSpec } from './types.js';

/** The process events' source: the connector socket, or a fake in tests. */
export interface ProcEventSource {
  close(): void;
}

/** Opens the source; `lost` is called when the kernel dropped events (ENOBUFS). Throws when it cannot listen. */
export type ProcEventOpener = (on: { event(e: ProcEvent): void; lost(): void; error(e: Error): void }, netns: string | undefined) => ProcEventSource;

/** The connector in `netns` (default: this thread's): bound to CN_IDX_PROC, PROC_CN_MCAST_LISTEN sent. */
export const connectorEvents: ProcEventOpener = (on, netns) => {
  const socket: Socket = openSocket({ family: 'netlink', type: 'dgram', protocol: NETLINK_CONNECTOR, maxDatagramBytes: 256, ...(netns !== undefined ? { netns } : {}) });
  try {
    socket.bind({ family: 'netlink', pid: 0, groups: CN_IDX_PROC });
    socket.setReceiveBuffer(1 << 20);
    socket.on('message', (data, info) => {
      if (info.from?.family === 'netlink' && (info.from.pid ?? 0) !== 0) return; // only the kernel's
      const e = decodeProcEvent(data);
      if (e) on.event(e);
    });
    socket.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ENOBUFS' ? on.lost() : on.error(error)));
    socket.send(encodeListen(true)).catch((error: unknown) => on.error(error as Error));
  } catch (error) {
    socket.close();
    throw error;
  }
  return { close: () => socket.close() };
};

/** What ProcessTrackers runs on: a clock, /proc, the process events, and where its reports go. */
export interface ProcessDeps {
  clock?: Clock;
  /** /proc (a fake in tests). */
  proc?: ProcReader;
  /** The process events (a fake in tests). */
  events?: ProcEventOpener;
  /** Where the connector socket is opened (the initial network namespace; default this thread's). */
  netns?: string;
  emit(event: TrackerEvent): void;
  /** Called when some tracker's quorum changed. */
  changed(): void;
}

interface Tracked {
  spec: TrackProcessSpec;
  q: ProcessQuorum;
  timer?: unknown;
}

/** Events lost: /proc is read again this long after (keepalived waits a second for things to settle). */
const RECOUNT_AFTER_MS = 1000;
/** How long start waits for the kernel to confirm the listen (its PROC_EVENT_NONE) before going on without the answer. */
const LISTEN_ACK_MS = 1000;

/** Every vrrp_track_process of a configuration over one connector socket. */
export class ProcessTrackers {
  readonly #tracked = new Map<string, Tracked>();
  /** Each counted process and the trackers counting it. */
  readonly #pids = new Map<number, Set<string>>();
  readonly #clock: Clock;
  readonly #proc: ProcReader;
  #source: ProcEventSource | undefined;
  #disabled: string | undefined;
  #started = false;
  #recount: unknown;
  /** Settles when the kernel confirmed the listen, refused it, or did not answer in time. */
  #listening: Promise<void> = Promise.resolve();
  #confirm: (() => void) | undefined;

  constructor(private readonly deps: ProcessDeps) {
    this.#clock = deps.clock ?? systemClock;
    this.#proc = deps.proc ?? procfs;
  }

  /** Whether process events could not be had (why), so no tracker counts. */
  get disabled(): string | undefined { return this.#disabled; }

  /** Apply `specs`: an unchanged one keeps its count and quorum; new and changed ones are counted afresh (at once if started). */
  configure(specs: readonly TrackProcessSpec[], same: (a: TrackProcessSpec, b: TrackProcessSpec) => boolean): void {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, t] of this.#tracked) {
      const next = wanted.get(name);
      if (!next || !same(t.spec, next)) this.#drop(name);
    }
    const fresh = specs.filter((s) => !this.#tracked.has(s.name));
    for (const spec of fresh) this.#tracked.set(spec.name, { spec, q: { count: 0, ok: false } });
    if (this.#tracked.size === 0) {
      this.#close();
      return;
    }
    if (!this.#started) return;
    if (!this.#source && !this.#disabled) this.#open();
    this.#count(fresh.map((s) => s.name));
  }

  /** Listen to the process events, then count what runs now. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#tracked.size === 0) return;
    this.#open();
    this.#count([...this.#tracked.keys()]);
  }

  /**
   * A tracker's quorum as instances read it (undefined before start). Without process events it is
   * the quorum of no process, as keepalived's: it counts nothing when it cannot listen.
   */
  ok(name: string): boolean | undefined {
    if (!this.#started) return undefined;
    return this.#tracked.get(name)?.q.ok;
  }

  /** Each tracker: its matching processes and quorum. */
  status(): { spec: TrackProcessSpec; count: number; ok: boolean }[] {
    return [...this.#tracked.values()].map((t) => ({ spec: t.spec, count: t.q.count, ok: t.q.ok }));
  }

  stop(): void {
    for (const name of [...this.#tracked.keys()]) this.#drop(name);
    this.#close();
    this.#started = false;
  }

  /** Settles once the kernel confirmed (or refused) listening to its process events, at most LISTEN_ACK_MS after start. */
  listening(): Promise<void> { return this.#listening; }

  #open(): void {
    this.#listening = new Promise((resolve) => {
      const timer = this.#clock.setTimer(this.#clock.now() + LISTEN_ACK_MS, () => this.#confirm?.());
      this.#confirm = () => {
        this.#clock.clearTimer(timer);
        this.#confirm = undefined;
        resolve();
      };
    });
    try {
      this.#source = (this.deps.events ?? connectorEvents)({
        event: (e) => this.#event(e),
        lost: () => this.#lost(),
        error: (error) => this.#fail(error),
      }, this.deps.netns);
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  /** No process events: every tracker is disabled at the quorum of no process (keepalived's count when it cannot listen), with a located event each. */
  #fail(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? (typeof (error as NodeJS.ErrnoException).errno === 'number' ? errnoCode((error as NodeJS.ErrnoException).errno!) : undefined);
    const hint = code === 'EPERM' || code === 'EACCES' ? ' (it needs CAP_NET_ADMIN)'
      : code === 'ECONNREFUSED' || code === 'EPROTONOSUPPORT' ? ' (the kernel has them only in its initial network namespace, with CONFIG_PROC_EVENTS)' : '';
    this.#disabled = `cannot listen to the kernel's process events: ${error.message}${hint}`;
    this.#confirm?.();
    this.#source?.close();
    this.#source = undefined;
    this.#pids.clear();
    for (const t of this.#tracked.values()) {
      this.#clearTimer(t);
      t.q = initialQuorum(t.spec, 0);
      const { name, location } = t.spec;
      this.deps.emit({ type: 'tracker-error', kind: 'process', name, message: `vrrp_track_process ${name} disabled: ${this.#disabled}; it counts no process (as keepalived's does)`, error, ...(location ? { location } : {}) });
    }
    this.deps.changed();
  }

  #close(): void {
    this.#confirm?.();
    this.#source?.close();
    this.#source = undefined;
    if (this.#recount !== undefined) this.#clock.clearTimer(this.#recount);
    this.#recount = undefined;
  }

  #drop(name: string): void {
    const t = this.#tracked.get(name);
    if (t) this.#clearTimer(t);
    this.#tracked.delete(name);
    for (const [pid, names] of this.#pids) {
      names.delete(name);
      if (names.size === 0) this.#pids.delete(pid);
    }
  }

  /** Which of `names` a process matches (reading /proc/PID/cmdline only if one of them needs it). */
  #matching(pid: number, names: readonly string[], comm?: string): string[] | undefined {
    const specs = names.map((n) => this.#tracked.get(n)!.spec);
    const who = this.#proc.identity(pid, specs.some((s) => s.fullCommand), comm);
    if (!who) return undefined;
    return specs.filter((s) => processMatches(s, who)).map((s) => s.name);
  }

  /** Count `names` from /proc: their processes recorded, their quorum set (reported if it is the first or changed). */
  #count(names: readonly string[]): void {
    if (names.length === 0) return;
    for (const [name, count] of this.#scan(names)) {
      const t = this.#tracked.get(name)!;
      this.#set(t, initialQuorum(t.spec, count), true);
    }
    this.deps.changed();
  }

  /** Read /proc for `names` (nothing without process events): their processes recorded, their counts. */
  #scan(names: readonly string[]): Map<string, number> {
    const counts = new Map(names.map((n) => [n, 0]));
    for (const pid of this.#disabled ? [] : this.#proc.pids()) {
      for (const name of this.#matching(pid, names) ?? []) {
        this.#pidSet(pid).add(name);
        counts.set(name, counts.get(name)! + 1);
      }
    }
    return counts;
  }

  #pidSet(pid: number): Set<string> {
    let s = this.#pids.get(pid);
    if (!s) this.#pids.set(pid, s = new Set());
    return s;
  }

  #event(e: ProcEvent): void {
    if (this.#disabled) return;
    if (e.what === 'ack') {
      this.#confirm?.();
      if (e.err !== 0) this.#fail(Object.assign(new Error(`PROC_CN_MCAST_LISTEN refused: ${errnoCode(e.err)}`), { errno: e.err, code: errnoCode(e.err) }));
      return;
    }
    // Threads are not processes: only events of a thread group's leader count (keepalived's rule).
    if (e.what === 'fork') {
      if (e.childPid !== e.childTgid) return;
      const names = this.#pids.get(e.parentTgid);
      if (!names) return;
      this.#pids.set(e.childTgid, new Set(names));
      for (const name of names) this.#step(name, 1, 'fork');
    } else if (e.what === 'exec' || e.what === 'comm') {
      if (e.pid !== e.tgid) return;
      this.#recheck(e.tgid, e.what, e.what === 'comm' ? e.comm : undefined);
    } else if (e.what === 'exit') {
      if (e.pid !== e.tgid) return;
      const names = this.#pids.get(e.tgid);
      if (!names) return;
      this.#pids.delete(e.tgid);
      for (const name of names) this.#step(name, -1, 'exit');
    }
  }

  /** After an exec (every tracker) or a rename (name-matched trackers only): counted where it now matches, uncounted where it no longer does. */
  #recheck(pid: number, cause: 'exec' | 'comm', comm: string | undefined): void {
    const names = [...this.#tracked.values()].filter((t) => cause === 'exec' || !t.spec.fullCommand).map((t) => t.spec.name);
    if (names.length === 0) return;
    const now = this.#matching(pid, names, comm);
    if (!now) return; // gone already: its exit will come
    const had = this.#pids.get(pid) ?? new Set<string>();
    for (const name of names) {
      const counted = had.has(name);
      if (now.includes(name) === counted) continue;
      if (counted) had.delete(name);
      else had.add(name);
      this.#step(name, counted ? -1 : 1, cause);
    }
    if (had.size > 0) this.#pids.set(pid, had);
    else this.#pids.delete(pid);
  }

  #step(name: string, delta: 1 | -1, cause: ProcessCause): void {
    const t = this.#tracked.get(name);
    if (t) this.#set(t, countChanged(t.spec, t.q, delta, cause, this.#clock.now()));
  }

  /** Events were lost: after a second, /proc is read again and each tracker recounted. */
  #lost(): void {
    if (this.#recount !== undefined) return;
    this.#recount = this.#clock.setTimer(this.#clock.now() + RECOUNT_AFTER_MS, () => {
      this.#recount = undefined;
      this.#pids.clear();
      for (const [name, count] of this.#scan([...this.#tracked.keys()])) {
        const t = this.#tracked.get(name)!;
        this.#set(t, recounted(t.spec, t.q, count, this.#clock.now()));
      }
    });
  }

  /** A tracker's new quorum: its delay timer armed or cleared, a change reported. */
  #set(t: Tracked, q: ProcessQuorum, first = false): void {
    const was = t.q;
    t.q = q;
    if (q.pending !== was.pending) {
      this.#clearTimer(t);
      if (q.pending) {
        t.timer = this.#clock.setTimer(q.pending.dueMs, () => {
          t.timer = undefined;
          this.#set(t, delayElapsed(t.spec, t.q, Math.max(this.#clock.now(), t.q.pending?.dueMs ?? 0)));
        });
      }
    }
    if (!first && q.ok === was.ok) return;
    const { name, location } = t.spec;
    this.deps.emit({ type: 'tracker', kind: 'process', name, state: q.ok ? 'ok' : 'failed', value: q.count,
      ...(q.ok ? {} : { reason: quorumText(t.spec, q.count) }), ...(location ? { location } : {}) });
    if (!first) this.deps.changed();
  }

  #clearTimer(t: Tracked): void {
    if (t.timer !== undefined) this.#clock.clearTimer(t.timer);
    t.timer = undefined;
  }
}

/** Why a quorum is not met, in words. */
export function quorumText(spec: Pick<TrackProcessSpec, 'quorum' | 'quorumMax'>, count: number): string {
  const range = spec.quorumMax === undefined ? `at least ${spec.quorum}` : spec.quorum === spec.quorumMax ? `exactly ${spec.quorum}` : `${spec.quorum}..${spec.quorumMax}`;
  return `${count} matching process${count === 1 ? '' : 'es'}, quorum ${range}`;
}
