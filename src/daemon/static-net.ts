// layer: daemon (composition)
// job: the balancer's static_ipaddress / static_routes / static_rules: added at start, reconciled as a difference on reload,
//      removed at a graceful stop (kept through a restart), each change reported as a `net` event.
import { RtnlClient } from '../rtnl/client.js';
import type { NetEvent } from '../vrrp/events.js';
import { applyNetSteps } from '../vrrp/net-apply.js';
import { addSteps, reloadSteps, removeSteps, type NetSet } from '../vrrp/net-plan.js';

/** The owner name static changes are reported under. */
export const STATIC_OWNER = 'static';

export class StaticNet {
  #rtnl: RtnlClient | undefined;

  constructor(private readonly netns: string | undefined, private readonly emit: (e: NetEvent) => void) {}

  /** The rtnetlink socket, opened at first use (a configuration without static blocks opens none). */
  #client(): RtnlClient {
    this.#rtnl ??= RtnlClient.open(this.netns !== undefined ? { netns: this.netns } : {});
    return this.#rtnl;
  }

  /** At start: every static address, route and rule (those already there are kept: `start = adopt`). */
  async start(set: NetSet | undefined): Promise<void> {
    if (set) await applyNetSteps(this.#client(), addSteps(set), STATIC_OWNER, this.emit);
  }

  /** On reload: what is gone removed, what is new added, the rest untouched. */
  async reload(prev: NetSet | undefined, next: NetSet | undefined): Promise<void> {
    const steps = reloadSteps(prev ?? {}, next ?? {});
    if (steps.length > 0) await applyNetSteps(this.#client(), steps, STATIC_OWNER, this.emit);
  }

  /** At a graceful stop: rules, routes, then addresses removed (keepalived does the same). */
  async release(set: NetSet | undefined): Promise<void> {
    if (set) await applyNetSteps(this.#client(), removeSteps(set), STATIC_OWNER, this.emit);
  }

  close(): void {
    this.#rtnl?.close();
    this.#rtnl = undefined;
  }
}
