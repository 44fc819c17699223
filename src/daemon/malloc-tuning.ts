// layer: daemon (process-wide state)
// job: glibc malloc as `lvskit run` sets it: at most DAEMON_MALLOC_ARENAS arenas, and its free memory given back to the kernel once the daemon is quiet after a burst of work (reloads, VRRP transitions).
import { performance } from 'node:perf_hooks';

/**
 * glibc gives each thread that allocates an arena of its own, up to 8 per CPU: the main thread, the
 * VRRP worker, V8's compiler and GC helpers, libuv's pool. Each keeps the fragments its thread
 * frees, so on the soak's loop of reloads and failovers the arenas' resident memory grew from 2 to
 * 9 MiB in ten minutes while malloc's memory in use stayed at 5 MiB. With two arenas the frees of
 * one thread are reused by the others (docs/reliability.md § Soak). `MALLOC_ARENA_MAX` in the
 * environment (glibc's own variable) is left to win.
 */
export const DAEMON_MALLOC_ARENAS = 2;

/** The arena limit for this process, unless the environment sets glibc's own; true when applied. */
export function limitMallocArenas(env: NodeJS.ProcessEnv, apply: (arenas: number) => boolean): boolean {
  if (env.MALLOC_ARENA_MAX !== undefined) return false;
  return apply(DAEMON_MALLOC_ARENAS);
}

/**
 * Why: glibc keeps what its arenas free. A reload or a failover allocates in several threads (the
 * main thread, the VRRP worker, V8's compiler and GC helpers, libuv's pool), each with an arena of
 * its own, and the free chunks they leave stay resident: on the soak's loop, malloc's free bytes
 * grew from 2 to 7–9 MiB while what it had in use stayed at 5 MiB (docs/reliability.md § Soak).
 * malloc_trim(0) returns every arena's free pages; done once per burst, when the daemon has been
 * quiet for `quietMs` (or after `maxWaitMs` of work without a pause), it never runs on a timer of
 * its own: an idle daemon does nothing, a busy one trims at most once per `maxWaitMs`.
 */
export const TRIM_QUIET_MS = 2000;
export const TRIM_MAX_WAIT_MS = 30_000;

/** What the trims have done since the daemon started (`lvskit status --memory`). */
export interface TrimStats {
  /** Trims run, and how many of them gave memory back. */
  trims: number;
  released: number;
  /** Their total and slowest wall time, ms. */
  totalMs: number;
  maxMs: number;
}

export interface MallocTrimmerOptions {
  quietMs?: number;
  /** Work without a quiet pause this long still trims (once). */
  maxWaitMs?: number;
  /** malloc_trim (src/native/malloc.ts); true when memory went back. */
  trim: () => boolean;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { unref(): unknown };
  clearTimer?: (timer: unknown) => void;
}

/** One trim per burst of work: `poke()` at each piece of work; the trim runs `quietMs` after the last. */
export class MallocTrimmer {
  readonly #o: Required<MallocTrimmerOptions>;
  #timer: unknown;
  /** When the first poke since the last trim came. */
  #burstStart: number | undefined;
  readonly #stats: TrimStats = { trims: 0, released: 0, totalMs: 0, maxMs: 0 };

  constructor(options: MallocTrimmerOptions) {
    this.#o = {
      quietMs: TRIM_QUIET_MS, maxWaitMs: TRIM_MAX_WAIT_MS, now: () => performance.now(), setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
      ...options,
    };
  }

  /** Work happened: the trim moves to `quietMs` from now, but no later than `maxWaitMs` after the burst's first poke. */
  poke(): void {
    const now = this.#o.now();
    this.#burstStart ??= now;
    if (this.#timer !== undefined) this.#o.clearTimer(this.#timer);
    const delay = Math.max(0, Math.min(this.#o.quietMs, this.#burstStart + this.#o.maxWaitMs - now));
    const timer = this.#o.setTimer(() => this.#run(), delay);
    timer.unref();
    this.#timer = timer;
  }

  #run(): void {
    this.#timer = undefined;
    this.#burstStart = undefined;
    const t0 = this.#o.now();
    const released = this.#o.trim();
    const ms = this.#o.now() - t0;
    this.#stats.trims++;
    if (released) this.#stats.released++;
    this.#stats.totalMs += ms;
    this.#stats.maxMs = Math.max(this.#stats.maxMs, ms);
  }

  stats(): TrimStats {
    return { ...this.#stats };
  }

  /** No trim pending any more. */
  close(): void {
    if (this.#timer !== undefined) this.#o.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#burstStart = undefined;
  }
}
