// layer: behaviour (check)
// job: the clock the scheduler reads and arms its one timer on: the system's monotonic clock, or a fake one in tests.
import { performance } from 'node:perf_hooks';

/** Time in ms (any origin, monotonic) and one-shot timers at absolute times on that clock. */
export interface Clock {
  now(): number;
  /** Call `fn` at `atMs` (at once if that has passed). Returns a handle for clearTimer. */
  setTimer(atMs: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

/** performance.now() and setTimeout: monotonic, unaffected by wall-clock steps. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (atMs, fn) => setTimeout(fn, Math.max(0, atMs - performance.now())),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A source of uniform random numbers in [0, 1) (Math.random, or a seeded one in tests). */
export type Random = () => number;
