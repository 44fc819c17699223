// layer: behaviour (vrrp)
// job: the clock a runner reads and arms timers on: the system's monotonic clock (sub-millisecond when asked), or a fake one in tests.
import { performance } from 'node:perf_hooks';

/** Time in ms (any origin, monotonic) and one-shot timers at absolute times on that clock. */
export interface Clock {
  now(): number;
  /**
   * Call `fn` at `atMs` (soon, but never synchronously, if that has passed). `precise`: within a
   * fraction of a millisecond rather than within about one; `prepare` then runs just before the
   * last sub-millisecond wait, for the work that does not depend on the exact moment (nothing else
   * runs on this thread between it and `fn`). Returns a handle for clearTimer.
   */
  setTimer(atMs: number, fn: () => void, precise?: boolean, prepare?: () => void): unknown;
  clearTimer(handle: unknown): void;
  /**
   * A CLOCK_MONOTONIC time in ns (a kernel receive timestamp) on this clock's scale; absent on
   * clocks that are not the system's (a fake clock keeps its own time).
   */
  fromMonotonicNs?(ns: number): number;
}

/** How early a precise timer's libuv timer wakes before its deadline. */
const EARLY_MS = 2;
/** How long before its deadline a precise timer stops sleeping and spins. */
const SPIN_MS = 0.2;
/** Something to wait on: nothing ever wakes it, so Atomics.wait is a precise sleep. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

interface SystemTimer { timeout?: ReturnType<typeof setTimeout>; cancelled: boolean }

/**
 * performance.now() and process.hrtime() both read libuv's CLOCK_MONOTONIC; this is their offset
 * in ms. One pair of reads can straddle a preemption (measured under load: 8 ms), which would put
 * every kernel timestamp off by as much: the offset comes from the tightest of several hrtime
 * brackets around a performance.now().
 */
const monotonicOffsetMs = ((): number => {
  let best = { width: Infinity, offset: 0 };
  for (let i = 0; i < 16; i++) {
    const before = process.hrtime.bigint();
    const now = performance.now();
    const after = process.hrtime.bigint();
    const width = Number(after - before);
    if (width < best.width) best = { width, offset: (Number(before) + width / 2) / 1e6 - now };
  }
  return best.offset;
})();

/**
 * performance.now() and setTimeout. libuv timers have whole-millisecond resolution and fire up to a
 * millisecond late; a `precise` timer (the Master_Down_Timer: Skew_Time at a 50 ms interval is
 * 30.5 ms, and keepalived's timers are microsecond timers) wakes `EARLY_MS` early, sleeps with
 * Atomics.wait — a futex with a nanosecond timeout, which wakes about 0.1 ms late here — until
 * `SPIN_MS` before its deadline, runs `prepare`, and spins the rest. It blocks this thread for at
 * most those 2 ms, once per takeover.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  fromMonotonicNs: (ns) => ns / 1e6 - monotonicOffsetMs,
  setTimer: (atMs, fn, precise = false, prepare) => {
    const timer: SystemTimer = { cancelled: false };
    const fire = (): void => {
      timer.timeout = undefined;
      if (timer.cancelled) return;
      if (precise) {
        const left = atMs - performance.now();
        if (left > SPIN_MS) Atomics.wait(sleeper, 0, 0, left - SPIN_MS);
        prepare?.();
        while (performance.now() < atMs);
      }
      fn();
    };
    const left = atMs - performance.now();
    timer.timeout = setTimeout(fire, precise ? Math.max(0, left - EARLY_MS) : Math.max(0, left));
    return timer;
  },
  clearTimer: (handle) => {
    const timer = handle as SystemTimer;
    timer.cancelled = true;
    if (timer.timeout) clearTimeout(timer.timeout);
  },
};
