// layer: test helpers (unit tier)
// job: a fake clock for the check scheduler, a seeded random source, and scripted probes that record when they ran.
import type { Clock, Random } from '../../src/check/clock.js';
import type { CheckResult, Probe } from '../../src/check/types.js';

/** Lets every pending promise chain run (microtasks and one macrotask turn). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A clock that moves only when told; timers fire in time order, each at its own instant. */
export class FakeClock implements Clock {
  nowMs = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  #seq = 0;

  now(): number {
    return this.nowMs;
  }

  setTimer(atMs: number, fn: () => void): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: Math.max(atMs, this.nowMs), fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer due on the way (letting promises settle after each). */
  async advance(ms: number): Promise<void> {
    const target = this.nowMs + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].at);
      next[1].fn();
    }
    this.nowMs = target;
    await flush();
  }
}

/** A deterministic random source (mulberry32). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a scripted probe does on one attempt: a result after `afterMs` (fake time), or never ('hang' ignores abort). */
export type Step = CheckResult | { result: CheckResult; afterMs: number } | 'hang' | 'until-abort';

/** A probe that replays `steps` (the last one repeats) and records the fake time of each call. */
export class ScriptedProbe {
  readonly calls: number[] = [];
  readonly aborts: { at: number; reason: unknown }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #release: (() => void)[] = [];

  constructor(private readonly clock: FakeClock, public steps: Step[]) {}

  /** Let every 'hang' attempt finish with a failure. */
  releaseHung(): void {
    for (const r of this.#release.splice(0)) r();
  }

  readonly probe: Probe = (signal) => {
    const step = this.steps[Math.min(this.calls.length, this.steps.length - 1)]!;
    this.calls.push(this.clock.now());
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = (r: CheckResult): CheckResult => { this.inFlight -= 1; return r; };
    signal.addEventListener('abort', () => this.aborts.push({ at: this.clock.now(), reason: signal.reason }), { once: true });
    if (step === 'hang') return new Promise((resolve) => this.#release.push(() => resolve(done({ ok: false, reason: 'deadline', message: 'released' }))));
    if (step === 'until-abort') {
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(done({ ok: false, reason: signal.reason === 'deadline' ? 'deadline' : 'aborted', message: 'aborted' })), { once: true }));
    }
    if ('afterMs' in step) {
      return new Promise((resolve) => {
        const h = this.clock.setTimer(this.clock.now() + step.afterMs, () => resolve(done(step.result)));
        signal.addEventListener('abort', () => { this.clock.clearTimer(h); resolve(done({ ok: false, reason: 'aborted', message: 'aborted' })); }, { once: true });
      });
    }
    return Promise.resolve(done(step));
  };
}

export const OK: CheckResult = { ok: true };
export const FAIL: CheckResult = { ok: false, reason: 'refused', message: 'connect to 192.0.2.1:80: ECONNREFUSED' };
