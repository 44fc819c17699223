// layer: daemon (composition)
// job: notice the wall clock being stepped (NTP, an operator's `date -s`): compared with the monotonic clock every second; each step reported once, with its size.

/** A reading of both clocks at (nearly) the same moment. */
export interface ClockReading {
  /** Date.now(): the wall clock, which NTP or an operator can step. */
  wallMs: number;
  /** The monotonic clock (performance.now()), which every timer of VRRP and the checks runs on. */
  monoMs: number;
}

/** Steps smaller than this are not reported (NTP slews at most 0.5 ms per second; a step is ≥ 128 ms). */
export const CLOCK_STEP_THRESHOLD_MS = 100;

/** Pure: how far the wall clock was stepped between two readings (negative: back), or undefined when less than `thresholdMs`. */
export function wallClockStep(before: ClockReading, after: ClockReading, thresholdMs = CLOCK_STEP_THRESHOLD_MS): number | undefined {
  const stepMs = (after.wallMs - before.wallMs) - (after.monoMs - before.monoMs);
  return Math.abs(stepMs) >= thresholdMs ? stepMs : undefined;
}

const read = (): ClockReading => ({ wallMs: Date.now(), monoMs: performance.now() });

/** Reads both clocks every `intervalMs` (the timer does not keep the process alive) and calls `onStep` for each step. */
export class ClockWatch {
  #last = read();
  readonly #timer: NodeJS.Timeout;

  constructor(onStep: (stepMs: number, wallMs: number) => void, intervalMs = 1000) {
    this.#timer = setInterval(() => {
      const now = read();
      const step = wallClockStep(this.#last, now);
      this.#last = now;
      if (step !== undefined) onStep(step, now.wallMs);
    }, intervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
