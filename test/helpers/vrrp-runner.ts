// layer: test helpers (kernel tier)
// job: an in-process VrrpRunner in a namespace whose events are recorded with their time, stopped in teardown.
import type { ExecutionContext } from 'ava';
import { performance } from 'node:perf_hooks';
import type { VrrpRunnerEvent } from '../../src/vrrp/events.js';
import { VrrpRunner, type VrrpRunnerOptions, type VrrpStartOptions } from '../../src/vrrp/runner.js';
import type { Netns } from './netns.js';

export interface RecordedRunner {
  runner: VrrpRunner;
  events: Array<VrrpRunnerEvent & { seenMs: number }>;
  /** The first event (already recorded, or to come) that passes `accept`. */
  waitFor<E extends VrrpRunnerEvent>(accept: (e: VrrpRunnerEvent) => e is E, timeoutMs: number): Promise<E & { seenMs: number }>;
  waitFor(accept: (e: VrrpRunnerEvent) => boolean, timeoutMs: number): Promise<VrrpRunnerEvent & { seenMs: number }>;
}

/** Open a runner in `ns`, record every event from the first transition on, start it (with `start`); stop it in teardown. */
export async function startRunner(t: ExecutionContext, ns: Netns, options: Omit<VrrpRunnerOptions, 'netns'>, start: VrrpStartOptions = {}): Promise<RecordedRunner> {
  const runner = await VrrpRunner.open({ ...options, netns: ns.name });
  t.teardown(() => runner.stop());
  const events: Array<VrrpRunnerEvent & { seenMs: number }> = [];
  const waiters = new Set<{ accept: (e: VrrpRunnerEvent) => boolean; resolve: (e: VrrpRunnerEvent & { seenMs: number }) => void }>();
  const stream = runner.events();
  void (async () => {
    for await (const e of stream) {
      const recorded = Object.assign(e, { seenMs: performance.now() });
      events.push(recorded);
      for (const w of waiters) if (w.accept(e)) { waiters.delete(w); w.resolve(recorded); }
    }
  })();
  runner.start(start);
  const waitFor = (accept: (e: VrrpRunnerEvent) => boolean, timeoutMs: number): Promise<VrrpRunnerEvent & { seenMs: number }> => {
    const already = events.find(accept);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const w = { accept, resolve: (e: VrrpRunnerEvent & { seenMs: number }) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no matching event in ${timeoutMs} ms; events: ${events.map((e) => (e.type === 'transition' ? `${e.instance}:${e.from}→${e.to}` : e.type)).join(', ')}`));
      }, timeoutMs);
      waiters.add(w);
    });
  };
  return { runner, events, waitFor: waitFor as RecordedRunner['waitFor'] };
}

/** Matches a transition of `instance` to `to`. */
export const entered = (instance: string, to: string) => (e: VrrpRunnerEvent): boolean =>
  e.type === 'transition' && e.instance === instance && e.to === to;
