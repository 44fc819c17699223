// layer: behaviour (vrrp)
// job: VMACs deleted behind the runner's back (with their base link, mostly): reported, their instance in FAULT, made again once the base is back and the instance moved onto the new link, as keepalived does.
import type { Link } from '../rtnl/link.js';
import type { LinkChange } from '../rtnl/watch.js';
import type { InstanceDriver } from './driver.js';
import type { VrrpRunnerEvent } from './events.js';
import type { VmacLinks } from './vmac-links.js';

/** What the keeper needs from its runner. */
export interface VmacKeeperDeps {
  vmacs: VmacLinks;
  /** The runner's instances in configuration order. */
  drivers(): ReadonlyMap<string, InstanceDriver>;
  linkByName(name: string): Link | undefined;
  /** Run `work` after the runner's reconfigure()s and stop() queued before it. */
  exclusive(work: () => Promise<void>): Promise<void>;
  /** Make the instance's VMAC (VmacLinks.ensure) and move its channel there; rejects while that cannot be done. */
  remake(driver: InstanceDriver, index: number): Promise<void>;
  /** Re-read every instance's tracking (a stale one is in FAULT). */
  retrack(): void;
  emit(event: VrrpRunnerEvent): void;
  stopped(): boolean;
}

/** Retry period while a VMAC cannot be made again (its base link has no address yet). */
const RETRY_MS = 1000;

/** The VMACs of a runner that went and are to be made again. */
export class VmacKeeper {
  readonly #deps: VmacKeeperDeps;
  /** Instances whose VMAC went: a FAULT until it is made again. */
  readonly #stale = new Set<string>();
  readonly #busy = new Set<string>();
  readonly #reported = new Set<string>();

  constructor(deps: VmacKeeperDeps) { this.#deps = deps; }

  /** Whether `instance`'s VMAC went and is not made again yet (its tracking is then a FAULT). */
  stale(instance: string): boolean { return this.#stale.has(instance); }

  /** A link change from the runner's watcher: a VMAC of ours gone is reported; a stale one whose base is there is made again. */
  linkChanged(change: LinkChange): void {
    if (this.#deps.stopped()) return;
    for (const d of this.#deps.drivers().values()) {
      const vmac = d.config.vmac;
      if (!vmac) continue;
      if (change.kind === 'del' && change.link.name === vmac.name && this.#deps.vmacs.has(vmac.name)) {
        this.#deps.vmacs.forget(vmac.name);
        this.#stale.add(d.name);
        this.#deps.emit({ type: 'warning', instance: d.name, field: this.#field(d.name), message: `${vmac.kind} ${vmac.name} on ${vmac.base} was deleted (with ${vmac.base}, or by hand); it is made again when ${vmac.base} is there` });
      }
      if (this.#stale.has(d.name) && this.#deps.linkByName(vmac.base) && !this.#busy.has(d.name)) this.#remake(d);
    }
  }

  #field(name: string): string { return `instances[${[...this.#deps.drivers().keys()].indexOf(name)}].vmac`; }

  #remake(driver: InstanceDriver): void {
    this.#busy.add(driver.name);
    const vmac = driver.config.vmac!;
    void this.#deps.exclusive(async () => {
      if (this.#deps.stopped() || this.#deps.drivers().get(driver.name) !== driver) return;
      await this.#deps.remake(driver, [...this.#deps.drivers().keys()].indexOf(driver.name));
      this.#stale.delete(driver.name);
      this.#deps.emit({ type: 'warning', instance: driver.name, field: this.#field(driver.name), message: `${vmac.kind} ${vmac.name} made again on ${vmac.base}` });
      this.#deps.retrack();
    }).then(() => {
      this.#busy.delete(driver.name);
      this.#reported.delete(driver.name);
    }, (error: Error) => {
      // The base went too (its deletion comes just after its VMAC's): its return starts this again.
      if (this.#deps.stopped() || !this.#deps.linkByName(vmac.base)) {
        this.#busy.delete(driver.name);
        return;
      }
      if (!this.#reported.has(driver.name)) {
        this.#deps.emit({ type: 'warning', instance: driver.name, field: this.#field(driver.name), message: `making ${vmac.name} again failed (retried every second): ${error.message}`, error });
      }
      this.#reported.add(driver.name);
      setTimeout(() => {
        this.#busy.delete(driver.name);
        if (!this.#deps.stopped() && this.#stale.has(driver.name) && this.#deps.linkByName(vmac.base)) this.#remake(driver);
      }, RETRY_MS).unref();
    });
  }
}
