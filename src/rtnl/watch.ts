// layer: kernel client (rtnetlink)
// job: follow link changes (RTNLGRP_LINK) from a consistent snapshot, as typed events and an async iterator.
import { EventEmitter, on } from 'node:events';
import type { NetlinkEngine } from '../netlink/engine.js';
import type { NlMessage } from '../netlink/message.js';
import { openNetlink, type NetlinkSocketOptions } from '../netlink/socket.js';
import { NETLINK_ROUTE, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, RTNLGRP_LINK } from './constants.js';
import { decodeLink, encodeIfInfoMsg, type Link } from './link.js';

/** One link change. `previous` is what the watcher knew before (absent for a new link). */
export interface LinkChange {
  kind: 'new' | 'del';
  link: Link;
  previous?: Link;
}

/** Events of a `LinkWatcher`: every link change, a link up or down, a notification that did not decode. */
export interface LinkWatcherEvents {
  /** Every RTM_NEWLINK / RTM_DELLINK after the initial snapshot. */
  change: [change: LinkChange];
  /** A link became up and running (IFF_UP and IFF_RUNNING). */
  up: [link: Link];
  /** A link stopped being up and running, or was deleted while up. */
  down: [link: Link];
  /** A notification that did not decode, or a resync dump that failed (the watcher goes on). */
  error: [err: Error];
  /**
   * The socket's receive buffer overflowed (ENOBUFS: notifications were lost) and the state was
   * read again from a fresh dump; the differences were emitted as changes before this.
   */
  resync: [resync: LinkResync];
  close: [];
}

/** A resync's dump: its deadline, how many tries, the pause between them. */
const RESYNC_DUMP_TIMEOUT_MS = 5000;
const RESYNC_TRIES = 50;
const RESYNC_RETRY_MS = 100;

/** A resync after lost notifications: how many overruns it answers, how many links it found changed, new or gone. */
export interface LinkResync {
  overruns: number;
  changed: number;
}

/**
 * Link state kept current from rtnetlink notifications. It subscribes before it dumps, so no
 * change between the snapshot and the first notification is lost. When notifications are lost
 * (ENOBUFS: a burst of changes outran the reader) it dumps again and reports what differs.
 */
export class LinkWatcher extends EventEmitter<LinkWatcherEvents> {
  private readonly known = new Map<number, Link>();
  private closed = false;
  /** Overruns not yet answered by a resync; a resync under way. */
  private overruns = 0;
  private resyncing = false;

  private constructor(private readonly engine: NetlinkEngine) {
    super();
    engine.on('notification', (msg) => this.onNotification(msg));
    engine.on('enobufs', () => {
      this.overruns++;
      void this.resync();
    });
  }

  private async dumpLinks(timeoutMs?: number): Promise<Map<number, Link>> {
    const links = new Map<number, Link>();
    const replies = await this.engine.request({ type: RTM_GETLINK, dump: true, payload: encodeIfInfoMsg(), op: 'RTM_GETLINK', ...(timeoutMs ? { timeoutMs } : {}) });
    for (const m of replies) {
      if (m.header.type !== RTM_NEWLINK) continue;
      const link = decodeLink(m.payload);
      links.set(link.index, link);
    }
    return links;
  }

  /** Dump again until a dump completes with no overrun during it; emit the differences, then `resync`. */
  private async resync(): Promise<void> {
    if (this.resyncing || this.closed) return;
    this.resyncing = true;
    try {
      for (let tries = 0; this.overruns > 0 && !this.closed; tries++) {
        const answered = this.overruns;
        let now: Map<number, Link>;
        try {
          now = await this.dumpLinks(RESYNC_DUMP_TIMEOUT_MS);
        } catch (err) {
          if (tries >= RESYNC_TRIES || this.closed) throw err;
          // Overrun again while dumping (the burst goes on), or the kernel still busy with the last dump: a little later.
          await new Promise((resolve) => setTimeout(resolve, RESYNC_RETRY_MS));
          continue;
        }
        if (this.closed) return;
        const changed = this.applySnapshot(now);
        this.overruns -= answered;
        this.emit('resync', { overruns: answered, changed });
      }
    } catch (err) {
      this.emit('error', new Error(`link state may be stale: the resync after lost notifications failed: ${(err as Error).message}`, { cause: err }));
    } finally {
      this.resyncing = false;
    }
  }

  /** Take `now` as the state, emitting a change (and up/down) for each link that differs; their count. */
  private applySnapshot(now: Map<number, Link>): number {
    let changed = 0;
    for (const [index, previous] of [...this.known]) {
      if (now.has(index)) continue;
      changed++;
      this.update('del', previous);
    }
    for (const link of now.values()) {
      const previous = this.known.get(link.index);
      if (previous && JSON.stringify(previous) === JSON.stringify(link)) continue;
      changed++;
      this.update('new', link);
    }
    return changed;
  }

  /** Open the socket, subscribe, then take the snapshot (it watches from then on; close() ends it). */
  static async open(options: { netns?: string; receiveBufferBytes?: number } = {}): Promise<LinkWatcher> {
    const socketOptions: NetlinkSocketOptions = { protocol: NETLINK_ROUTE, groups: [RTNLGRP_LINK] };
    if (options.netns !== undefined) socketOptions.netns = options.netns;
    if (options.receiveBufferBytes !== undefined) socketOptions.receiveBufferBytes = options.receiveBufferBytes;
    const watcher = new LinkWatcher(openNetlink(socketOptions));
    try {
      for (const [index, link] of await watcher.dumpLinks()) watcher.known.set(index, link);
    } catch (err) {
      watcher.close();
      throw err;
    }
    return watcher;
  }

  /** The current state of every link, by index. */
  links(): ReadonlyMap<number, Link> {
    return this.known;
  }

  /** Link changes as an async iterator; ends when the watcher closes or `signal` aborts. */
  async *changes(options: { signal?: AbortSignal } = {}): AsyncGenerator<LinkChange> {
    if (this.closed) return;
    for await (const [change] of on(this as EventEmitter, 'change', { ...options, close: ['close'] })) {
      yield change as LinkChange;
    }
  }

  /** Let the process exit while the watcher is open (or not). */
  unref(): void { this.engine.unref(); }
  ref(): void { this.engine.ref(); }

  /** Stop watching and close the socket (which until then keeps the process alive, unless `unref()`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.close();
    this.emit('close');
  }

  /** `using watcher = await rtnl.watchLinks()`: closed when the scope ends. */
  [Symbol.dispose](): void { this.close(); }

  private onNotification(msg: NlMessage): void {
    if (msg.header.type !== RTM_NEWLINK && msg.header.type !== RTM_DELLINK) return;
    let link: Link;
    try {
      link = decodeLink(msg.payload);
    } catch (err) {
      this.emit('error', err as Error);
      return;
    }
    this.update(msg.header.type === RTM_NEWLINK ? 'new' : 'del', link);
  }

  private update(kind: 'new' | 'del', link: Link): void {
    const previous = this.known.get(link.index);
    if (kind === 'new') this.known.set(link.index, link); else this.known.delete(link.index);
    const change: LinkChange = previous ? { kind, link, previous } : { kind, link };
    this.emit('change', change);
    const wasUp = previous?.up ?? false;
    const isUp = kind === 'new' && link.up;
    if (isUp && !wasUp) this.emit('up', link);
    if (!isUp && wasUp) this.emit('down', link);
  }
}
