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
  /** A notification that did not decode (the watcher goes on). */
  error: [err: Error];
  close: [];
}

/**
 * Link state kept current from rtnetlink notifications. It subscribes before it dumps, so no
 * change between the snapshot and the first notification is lost.
 */
export class LinkWatcher extends EventEmitter<LinkWatcherEvents> {
  private readonly known = new Map<number, Link>();
  private closed = false;

  private constructor(private readonly engine: NetlinkEngine) {
    super();
    engine.on('notification', (msg) => this.onNotification(msg));
  }

  /** Open the socket, subscribe, then take the snapshot (it watches from then on; close() ends it). */
  static async open(options: { netns?: string } = {}): Promise<LinkWatcher> {
    const socketOptions: NetlinkSocketOptions = { protocol: NETLINK_ROUTE, groups: [RTNLGRP_LINK] };
    if (options.netns !== undefined) socketOptions.netns = options.netns;
    const watcher = new LinkWatcher(openNetlink(socketOptions));
    try {
      const replies = await watcher.engine.request({ type: RTM_GETLINK, dump: true, payload: encodeIfInfoMsg(), op: 'RTM_GETLINK' });
      for (const m of replies) {
        if (m.header.type !== RTM_NEWLINK) continue;
        const link = decodeLink(m.payload);
        watcher.known.set(link.index, link);
      }
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
    const previous = this.known.get(link.index);
    const kind = msg.header.type === RTM_NEWLINK ? 'new' : 'del';
    if (kind === 'new') this.known.set(link.index, link); else this.known.delete(link.index);
    const change: LinkChange = previous ? { kind, link, previous } : { kind, link };
    this.emit('change', change);
    const wasUp = previous?.up ?? false;
    const isUp = kind === 'new' && link.up;
    if (isUp && !wasUp) this.emit('up', link);
    if (!isUp && wasUp) this.emit('down', link);
  }
}
