// layer: daemon (composition)
// job: watch the IPVS sync daemon's interface: say when it goes down (connections stop being synced to the peer) and when it returns, and start the sync daemon again then if the kernel no longer runs it.
import type { Link } from '../rtnl/link.js';
import { LinkWatcher } from '../rtnl/watch.js';
import type { SyncDaemonControl } from './sync-daemon.js';

/**
 * The sync daemon's interface went down or came back; `initial`: its state when the balancer
 * started. While it is down the kernel's sync thread sends (or receives) nothing: connections
 * made meanwhile are not on the peer, a takeover loses them.
 */
export interface SyncInterfaceEvent {
  type: 'sync-interface';
  /** The VRRP instance driving the sync daemon. */
  instance: string;
  interface: string;
  /** Up and running (IFF_UP and IFF_RUNNING); a missing interface is down. */
  up: boolean;
  initial: boolean;
  /** Back up: the sync daemon's role (absent when VRRP has asked for none yet). */
  role?: 'master' | 'backup';
  /** Back up: the kernel no longer ran the daemon for that role, so it was started again. */
  restarted?: boolean;
  /** Starting it again failed. */
  error?: Error;
}

/** Pure: whether a state seen for the watched interface is news, given the last one reported (undefined: none yet). */
export function syncInterfaceChange(lastUp: boolean | undefined, link: Pick<Link, 'up'> | undefined): { up: boolean; initial: boolean } | undefined {
  const up = link?.up ?? false;
  if (lastUp === undefined) return { up, initial: true };
  return up === lastUp ? undefined : { up, initial: false };
}

/** The interface of the sync daemon `control` drives, followed through a LinkWatcher; events through `emit` once started. */
export class SyncInterfaceWatch {
  #lastUp: boolean | undefined;
  #name: string | undefined;
  #started = false;

  private constructor(private readonly watcher: LinkWatcher, private readonly control: SyncDaemonControl, private readonly emit: (e: SyncInterfaceEvent) => void) {
    watcher.on('change', () => this.check());
    watcher.on('error', () => undefined); // a notification that did not decode: the next one carries the state again
  }

  static async open(control: SyncDaemonControl, netns: string | undefined, emit: (e: SyncInterfaceEvent) => void): Promise<SyncInterfaceWatch> {
    const watcher = await LinkWatcher.start(netns !== undefined ? { netns } : {});
    return new SyncInterfaceWatch(watcher, control, emit);
  }

  /** Reports the interface's state now, then every change. */
  start(): void {
    this.#started = true;
    this.check();
  }

  /** Compare the watched interface's state with the last reported (also after a reload changed the settings). */
  check(): void {
    const settings = this.control.settings;
    if (!this.#started || !settings) return;
    if (settings.interface !== this.#name) {
      this.#name = settings.interface;
      this.#lastUp = undefined;
    }
    const link = [...this.watcher.links().values()].find((l) => l.name === settings.interface);
    const change = syncInterfaceChange(this.#lastUp, link);
    if (!change) return;
    this.#lastUp = change.up;
    const base = { type: 'sync-interface' as const, instance: settings.instance ?? '', interface: settings.interface, ...change };
    if (!change.up || change.initial) {
      this.emit(base);
      return;
    }
    this.control.reapply().then(
      (done) => this.emit({ ...base, ...(done ?? {}) }),
      (error: unknown) => this.emit({ ...base, error: error as Error }),
    );
  }

  close(): void {
    this.watcher.close();
  }
}
