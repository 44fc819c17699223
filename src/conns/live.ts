// layer: kernel client (IPVS connections)
// job: a live connection table: the sync stream of this host (captured as master, received as backup, or both) feeding a ConnTracker.
import { SyncCapture } from './sync-capture.js';
import { SyncReceiver } from './sync-receiver.js';
import type { SyncStream, SyncStreamOptions } from './sync-source.js';
import { ConnTracker, type TrackerOptions } from './tracker.js';

/** Which half of the sync stream to follow: what this host sends (master) or receives (backup). */
export type SyncRole = 'master' | 'backup';

/** Options of `LiveConnTable.open()`: the sync stream to follow and the tracker's threshold. */
export interface LiveTableOptions extends SyncStreamOptions, Omit<TrackerOptions, 'clock'> {
  /**
   * Default both: a balancer that is master for some services and backup for others holds both
   * halves in its table, as `ipvsadm -lnc` shows it.
   */
  roles?: readonly SyncRole[];
}

/**
 * The tracker and the sources feeding it. Closing it closes the sources; the tracker keeps
 * what it has.
 */
export class LiveConnTable {
  private constructor(readonly tracker: ConnTracker, readonly streams: ReadonlyMap<SyncRole, SyncStream>) {}

  static async open(options: LiveTableOptions): Promise<LiveConnTable> {
    const tracker = new ConnTracker(options);
    const streams = new Map<SyncRole, SyncStream>();
    try {
      const roles: readonly SyncRole[] = options.roles ?? ['master', 'backup'];
      for (const role of new Set(roles)) {
        const stream = role === 'master' ? await SyncCapture.open(options) : await SyncReceiver.open(options);
        stream.on('message', (message, info) => tracker.apply(message, info.receivedAtMs));
        streams.set(role, stream);
      }
    } catch (error) {
      for (const s of streams.values()) s.close();
      throw error;
    }
    return new LiveConnTable(tracker, streams);
  }

  /** Let the process exit while the sources are open. */
  unref(): this {
    for (const s of this.streams.values()) (s as SyncCapture | SyncReceiver).unref();
    return this;
  }

  /** Close the sync streams' sockets (which until then keep the process alive, unless `unref()`). */
  close(): void {
    for (const s of this.streams.values()) s.close();
  }

  /** `using live = await LiveConnTable.open(...)`: closed when the scope ends. */
  [Symbol.dispose](): void { this.close(); }
}
