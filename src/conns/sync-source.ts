// layer: kernel client (IPVS connections)
// job: what both sync sources share: options, decoding each datagram, counters of what was taken and dropped, typed events.
import { EventEmitter, on } from 'node:events';
import { performance } from 'node:perf_hooks';
import { IP_VS_SYNC_GROUP, IP_VS_SYNC_PORT } from './constants.js';
import { decodeSyncMessage } from './sync-codec.js';
import { SyncDecodeError, type SyncConnRejection, type SyncDropReason, type SyncMessage } from './sync-message.js';

/** Where a sync stream flows: the sync daemon's settings (keepalived's `lvs_sync_daemon`). */
export interface SyncStreamOptions {
  /** The sync interface (`lvs_sync_daemon IF`, `--mcast-interface`). */
  interface: string;
  /** Network namespace of the load balancer. */
  netns?: string;
  /** Accept only this sync id; 0 or absent: any (as a backup daemon with sync id 0 does). */
  syncId?: number;
  /** Multicast group; default 224.0.0.81 (IP_VS_SYNC_GROUP). */
  group?: string;
  /** First port; default 8848 (IP_VS_SYNC_PORT). Sync thread N uses port + N. */
  port?: number;
  /** Sync threads (net.ipv4.vs.sync_ports); default 1. */
  ports?: number;
  /** Milliseconds on a monotonic clock, stamped on each message; default performance.now(). */
  clock?: () => number;
}

/** Why a captured or received datagram was not decoded, beyond the protocol's own reasons. */
export type SyncStreamDropReason = SyncDropReason | 'not-sync' | 'capture-truncated';

/** Running totals of a sync stream: messages, connections, drops by reason. */
export interface SyncStreamCounters {
  datagrams: number;
  messages: number;
  conns: number;
  /** Datagrams dropped whole, by reason. */
  dropped: Partial<Record<SyncStreamDropReason, number>>;
  /** Single connections skipped inside otherwise good messages, by reason. */
  rejectedConns: Partial<Record<SyncConnRejection, number>>;
  /** Optional options of unknown type skipped. */
  skippedOptions: number;
}

/** Where a message came from. */
export interface SyncMessageInfo {
  receivedAtMs: number;
  /** Source address of the datagram. */
  from?: string;
  /** Destination port (the sync thread it belongs to is port − first port). */
  port?: number;
}

/** Events of a sync stream (its `on()` names and their arguments). */
export interface SyncStreamEvents {
  message: [message: SyncMessage, info: SyncMessageInfo];
  drop: [reason: SyncStreamDropReason, detail: string];
  error: [error: Error];
  close: [];
}

/** Default sync settings filled in. */
export function syncDefaults(options: SyncStreamOptions): Required<Pick<SyncStreamOptions, 'group' | 'port' | 'ports' | 'syncId'>> {
  const ports = options.ports ?? 1;
  if (!Number.isInteger(ports) || ports < 1 || ports > 127) throw new RangeError(`ports must be 1..127, got ${ports}`);
  return { group: options.group ?? IP_VS_SYNC_GROUP, port: options.port ?? IP_VS_SYNC_PORT, ports, syncId: options.syncId ?? 0 };
}

/** A stream of decoded sync messages; the sources feed it payloads. */
export abstract class SyncStream extends EventEmitter<SyncStreamEvents> {
  readonly counters: SyncStreamCounters = { datagrams: 0, messages: 0, conns: 0, dropped: {}, rejectedConns: {}, skippedOptions: 0 };
  readonly #syncId: number;
  readonly #clock: () => number;

  protected constructor(options: SyncStreamOptions) {
    super();
    this.#syncId = options.syncId ?? 0;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Datagrams dropped, all reasons. */
  get droppedTotal(): number {
    return Object.values(this.counters.dropped).reduce((a, b) => a + (b ?? 0), 0);
  }

  /** Async iterator of messages; ends on close. */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<{ message: SyncMessage; info: SyncMessageInfo }> {
    const events = on(this as unknown as EventEmitter, 'message', { ...options, close: ['close'] });
    for await (const [message, info] of events as AsyncIterableIterator<[SyncMessage, SyncMessageInfo]>) yield { message, info };
  }

  abstract close(): void;

  /** Decode one sync payload and emit it, or count why not. */
  protected handlePayload(payload: Buffer, info: Omit<SyncMessageInfo, 'receivedAtMs'>): void {
    this.counters.datagrams++;
    let message: SyncMessage;
    try {
      message = decodeSyncMessage(payload, { syncId: this.#syncId });
    } catch (error) {
      if (error instanceof SyncDecodeError) return this.drop(error.reason, error.message);
      throw error;
    }
    this.counters.messages++;
    this.counters.conns += message.conns.length;
    this.counters.skippedOptions += message.skippedOptions;
    for (const r of message.rejected) this.counters.rejectedConns[r.reason] = (this.counters.rejectedConns[r.reason] ?? 0) + 1;
    this.emit('message', message, { ...info, receivedAtMs: this.#clock() });
  }

  protected drop(reason: SyncStreamDropReason, detail: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    if (this.listenerCount('drop') > 0) this.emit('drop', reason, detail);
  }
}
