// layer: test helpers (kernel and IPVS tiers)
// job: drive HealthChecks in real time: record its events, wait for one, shut it down in teardown.
import type { ExecutionContext } from 'ava';
import type { HealthCheckEvent } from '../../src/check/events.js';
import { HealthChecks, type HealthChecksOptions } from '../../src/check/runner.js';

export type Stamped = HealthCheckEvent & { at: number };

export interface Recorded<S> {
  hc: HealthChecks<S>;
  /** Every event so far, with the time it came (performance.now). */
  events: (HealthCheckEvent & { at: number })[];
  /** Resolves with the first event (already seen or coming) that matches; rejects after `withinMs`. */
  waitFor(match: (e: Stamped) => boolean, withinMs?: number, what?: string): Promise<Stamped>;
}

/** HealthChecks with every event recorded; shut down in teardown. */
export function recordedHealthChecks<S>(t: ExecutionContext, options: HealthChecksOptions<S>): Recorded<S> {
  const hc = new HealthChecks<S>(options);
  t.teardown(() => hc.stop());
  const events: Recorded<S>['events'] = [];
  const waiters = new Set<{ match: (e: Stamped) => boolean; resolve: (e: Stamped) => void }>();
  void (async () => {
    for await (const e of hc.events()) {
      const stamped = { ...e, at: performance.now() };
      events.push(stamped);
      for (const w of [...waiters]) if (w.match(stamped)) { waiters.delete(w); w.resolve(stamped); }
    }
  })();
  const waitFor: Recorded<S>['waitFor'] = (match, withinMs = 10_000, what = 'event') => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (e: Stamped) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`no ${what} within ${withinMs} ms; events: ${events.map((e) => e.type).join(', ')}`)); }, withinMs);
      waiters.add(w);
    });
  };
  return { hc, events, waitFor };
}
