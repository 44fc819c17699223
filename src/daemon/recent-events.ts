// layer: daemon (composition)
// job: the last events of a balancer as log lines (time, level, source, type, message), kept in memory for `lvskit top` over the control socket.
import { describeEvent } from './describe.js';
import type { BalancerEvent } from './events.js';
import type { RecentEvent } from './status-http.js';

export type { RecentEvent };

/** How many events are kept (as many as /status.json keeps). */
export const RECENT_EVENT_LIMIT = 50;

/** Follows a balancer's events from now on and keeps the last `limit` of them (debug ones left out), oldest first. */
export class RecentEvents {
  readonly #kept: RecentEvent[] = [];

  constructor(source: { on(name: 'event', listener: (e: BalancerEvent) => void): unknown }, readonly limit = RECENT_EVENT_LIMIT, private readonly nowMs: () => number = Date.now) {
    source.on('event', (e) => this.#remember(e));
  }

  #remember(e: BalancerEvent): void {
    const line = describeEvent(e);
    if (line.level === 'debug') return;
    this.#kept.push({ atMs: this.nowMs(), level: line.level, source: e.source, type: e.type, message: line.message });
    if (this.#kept.length > this.limit) this.#kept.shift();
  }

  /** The events kept, oldest first (at most `last` of the newest). */
  list(last = this.limit): RecentEvent[] {
    return last <= 0 ? [] : this.#kept.slice(-last);
  }
}
