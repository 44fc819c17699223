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
  /**
   * Back up as another link than before (deleted and created again): the kernel's sync thread was
   * bound to the old one and syncs nothing any more, so it is always started again.
   */
  recreated?: boolean;
  /** Back up: the sync daemon's role (absent when VRRP has asked for none yet). */
  role?: 'master' | 'backup';
  /** Back up: the kernel no longer ran the daemon for that role, so it was started again. */
  restarted?: boolean;
  /** Starting it again failed. */
  error?: Error;
}

/** What was last reported of the watched interface: up or not, and the ifindex of the link it last was. */
export interface SyncInterfaceSeen {
  up: boolean;
  index?: number;
}

/**
 * Pure: whether a state seen for the watched interface is news, given the last one reported
 * (undefined: none yet); `recreated` when it is up as a link other than the one it last was.
 */
export function syncInterfaceChange(last: SyncInterfaceSeen | undefined, link: Pick<Link, 'up' | 'index'> | undefined): { up: boolean; initial: boolean; recreated: boolean } | undefined {
  const up = link?.up ?? false;
  if (last === undefined) return { up, initial: true, recreated: false };
  if (up === last.up) return undefined;
  return { up, initial: false, recreated: up && last.index !== undefined && link!.index !== last.index };
}

/** The interface of the sync daemon `control` drives, followed through a LinkWatcher; events through `emit` once started. */
export class SyncInterfaceWatch {
  #last: SyncInterfaceSeen | undefined;
  #name: string | undefined;
  #started = false;

  private constructor(private readonly watcher: LinkWatcher, private readonly control: SyncDaemonControl, private readonly emit: (e: SyncInterfaceEvent) => void) {
    watcher.on('change', () => this.check());
    watcher.on('error', () => undefined); // a notification that did not decode: the next one carries the state again
  }

  static async open(control: SyncDaemonControl, netns: string | undefined, emit: (e: SyncInterfaceEvent) => void): Promise<SyncInterfaceWatch> {
    const watcher = await LinkWatcher.open(netns !== undefined ? { netns } : {});
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
      this.#last = undefined;
    }
    const link = [...this.watcher.links().values()].find((l) => l.name === settings.interface);
    const change = syncInterfaceChange(this.#last, link);
    if (!change) return;
    // A link that is gone keeps the index it had: the one that comes back is compared with it.
    this.#last = { up: change.up, ...(link ? { index: link.index } : this.#last?.index !== undefined ? { index: this.#last.index } : {}) };
    const { recreated, ...state } = change;
    const base = { type: 'sync-interface' as const, instance: settings.instance ?? '', interface: settings.interface, ...state, ...(recreated ? { recreated } : {}) };
    if (!change.up || change.initial) {
      this.emit(base);
      return;
    }
    this.control.reapply({ restart: recreated }).then(
      (done) => this.emit({ ...base, ...(done ?? {}) }),
      (error: unknown) => this.emit({ ...base, error: error as Error }),
    );
  }

  close(): void {
    this.watcher.close();
  }
}
