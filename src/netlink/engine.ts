// layer: netlink (request engine)
// job: the engine's core: the queue, the window, sequence numbers, the pump, dispatch of replies, fences, dump retries and ENOBUFS.
import { EventEmitter, on } from 'node:events';
import { constants } from 'node:os';
import { NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.js';
import { DatagramWriter, FENCE_BYTES, messageBytes } from './datagram.js';
import { BulkPath, Lot, LotChunk } from './engine-bulk.js';
import type { NetlinkEngineEvents, NetlinkEngineOptions, NetlinkEngineStats, NetlinkRequest, NetlinkTransport, RequestSource, StrayReason } from './engine-types.js';
import { DumpInterruptedError, NetlinkDecodeError, NetlinkOverrunError, RequestCancelledError, RequestTimeoutError, NetlinkError } from './errors.js';
import { Fifo } from '../fifo.js';
import { flagsOf, headerOf, newPending, type Pending } from './pending.js';
import { Sequences } from './sequence.js';
import { decodeMessages, type NlMessage } from './message.js';
import { endError, fenceError, fenceVerdict, NO_REPLIES, opOf, SettleAll } from './outcome.js';

export {
  addEngineStats, type NetlinkEngineEvents, type NetlinkEngineOptions, type NetlinkEngineStats, type NetlinkRequest,
  type NetlinkTransport, type PayloadWriter, type RequestSource, type StrayReason,
} from './engine-types.js';

const ENOBUFS = constants.errno.ENOBUFS;
const isEnobufs = (err: { errno?: number; code?: string }): boolean =>
  err.code === 'ENOBUFS' || (err.errno !== undefined && Math.abs(err.errno) === ENOBUFS);

/**
 * Request/response engine over one netlink socket. Many requests may be in flight at once
 * (pipelining); replies are matched by sequence number, so they may arrive in any order.
 */
export class NetlinkEngine extends EventEmitter<NetlinkEngineEvents> {
  private readonly inFlight = new Map<number, Pending>();
  /** Waiting requests and lots; finished ones (timeout, close) stay until they reach the head. */
  private readonly queue = new Fifo<Pending | Lot>();
  private queuedLive = 0;
  private readonly dumpsInFlight = new Set<Pending>();
  /** Fence sequence number → the fenced requests of its datagram, or the lot chunk it closes. */
  private readonly fences = new Map<number, Pending[] | LotChunk>();
  /** requestAll()'s lots of fenced requests. */
  private readonly bulk: BulkPath;
  private readonly maxInFlight: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxBatchBytes: number;
  private readonly seqs: Sequences;
  private pumpScheduled = false;
  private closed = false;
  /** Counters since construction. */
  readonly stats: NetlinkEngineStats = { sent: 0, notifications: 0, stray: 0, malformed: 0, dumpRetries: 0, overruns: 0, refused: 0, timeouts: 0 };

  constructor(private readonly transport: NetlinkTransport, options: NetlinkEngineOptions = {}) {
    super();
    this.maxInFlight = options.maxInFlight ?? 256;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError(`maxInFlight must be ≥ 1: ${this.maxInFlight}`);
    this.defaultTimeoutMs = options.timeoutMs ?? 0;
    this.maxBatchBytes = options.maxBatchBytes ?? 32 * 1024;
    this.bulk = new BulkPath({
      maxBatchBytes: this.maxBatchBytes,
      fences: this.fences,
      room: () => this.maxInFlight - this.inFlightCount,
      enqueue: (lot) => {
        this.queue.push(lot);
        this.schedulePump();
      },
      dequeue: () => this.queue.shift(),
      allocSeqRange: (n) => this.seqs.range(n),
      send: (encode, count, fail) => this.send(encode, count, fail),
      settled: (outcome) => {
        this.countOutcome(outcome);
        this.schedulePump();
      },
      stray: (msg, reason) => this.stray(msg, reason),
    });
    const bulk = this.bulk;
    this.seqs = new Sequences(options.firstSeq ?? 1, {
      requests: this.inFlight, fences: this.fences,
      chunkHolds: (seq) => bulk.chunkHolding(seq) !== undefined, chunkLastInUse: (start, end) => bulk.lastSeqInUse(start, end),
    });
    transport.onDatagram((data, fromGroups, fromPid) => this.receive(data, fromGroups, fromPid));
    transport.onError((err) => this.transportError(err));
  }

  /** Requests sent and not yet complete. */
  get inFlightCount(): number { return this.inFlight.size + this.bulk.inFlight; }
  /** Requests waiting for a free slot in the window. */
  get queuedCount(): number { return this.queuedLive + this.bulk.queued; }

  /**
   * Send a request and collect its replies (without NLMSG_DONE and the ACK). Rejects with
   * NetlinkError when the kernel refuses, DumpInterruptedError, RequestTimeoutError,
   * NetlinkOverrunError (ENOBUFS while in flight) or RequestCancelledError (closed).
   */
  request(req: NetlinkRequest): Promise<NlMessage[]> {
    return new Promise<NlMessage[]>((resolve, reject) => this.enqueue(req, resolve, reject, undefined, 0));
  }

  /**
   * Send many requests, in order, as `request()` would (pipelined, packed into datagrams), and
   * settle once all have: one promise for the lot instead of one per request, for bulk work
   * such as applying thousands of IPVS operations.
   *
   * When every request is fenced (none a dump, all with one timeout), the lot takes the bulk
   * path: it keeps no state per request, and a RequestSource (instead of an array) lets the
   * caller make each request only when it is sent — for a source, every request must be fenced
   * and not a dump (any other is refused with TypeError, unsent), and the engine's default
   * timeout applies.
   */
  requestAll(reqs: readonly NetlinkRequest[] | RequestSource): Promise<PromiseSettledResult<NlMessage[]>[]> {
    return new Promise((resolveAll) => {
      if (reqs.length === 0) return resolveAll([]);
      const batch = new SettleAll(reqs.length, resolveAll);
      const at = Array.isArray(reqs) ? (i: number) => reqs[i] as NetlinkRequest : (i: number) => (reqs as RequestSource).at(i);
      if (this.closed) {
        for (let i = 0; i < reqs.length; i++) batch.settle(i, new RequestCancelledError(opOf(at(i))));
      } else if (!this.bulk.start(reqs, batch, this.defaultTimeoutMs)) {
        for (let i = 0; i < reqs.length; i++) this.enqueue(at(i), undefined, undefined, batch, i);
      }
    });
  }

  /** Check `req` and queue it; it settles exactly once, through its callbacks or its lot (`batch`, at `index`). */
  private enqueue(req: NetlinkRequest, resolve: Pending['resolve'], reject: Pending['reject'], batch: SettleAll | undefined, index: number): void {
    const op = opOf(req);
    const refuse = (err: Error): void => (batch ? batch.settle(index, err) : reject?.(err));
    if (this.closed) return refuse(new RequestCancelledError(op));
    if (!Number.isInteger(req.type) || req.type < 0 || req.type > 0xffff) return refuse(new RangeError(`nlmsg_type out of range: ${req.type}`));
    if (req.fenced && req.dump) return refuse(new TypeError(`${op}: a dump cannot be fenced`));
    const p = newPending(req, op, resolve, reject, batch, index);
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    if (timeoutMs > 0) p.timer = setTimeout(() => this.finish(p, new RequestTimeoutError(op, timeoutMs)), timeoutMs);
    this.queue.push(p);
    this.queuedLive += 1;
    this.schedulePump();
  }

  /** Multicast notifications as an async iterator; ends when the engine closes or `signal` aborts. */
  async *notifications(options: { signal?: AbortSignal } = {}): AsyncGenerator<NlMessage> {
    if (this.closed) return;
    const events = on(this as EventEmitter, 'notification', { ...options, close: ['close'] });
    for await (const [msg] of events) yield msg as NlMessage;
  }

  /** Keep the event loop alive while the socket is open (delegates to the transport, if it can). */
  ref(): void { this.transport.ref?.(); }
  /** Let the process exit while the socket is open (delegates to the transport, if it can). */
  unref(): void { this.transport.unref?.(); }

  /** Reject every pending request with RequestCancelledError and close the transport. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fences.clear();
    for (const p of [...this.queue.drain(), ...this.inFlight.values()]) {
      if (p instanceof Lot) continue;
      this.finish(p, new RequestCancelledError(p.op));
    }
    this.bulk.close();
    this.transport.close();
    this.emit('close');
  }

  /**
   * Send what the window allows once the current tick is over, so that requests made together
   * (and slots freed together by one batch of replies) go out together.
   */
  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.closed) {
      const head = this.queue.peek();
      if (head instanceof Lot) {
        if (!this.bulk.send(head)) return;
        continue;
      }
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      this.transmit(batch);
    }
  }

  /** Take from the queue the requests of the next datagram: as many as window and size allow. */
  private nextBatch(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    let fenced = false;
    while (this.inFlightCount + batch.length < this.maxInFlight) {
      const next = this.queue.peek();
      if (!next || next instanceof Lot) break; // a lot goes in datagrams of its own
      if (next.done) { // finished while queued (timeout)
        this.queue.shift();
        continue;
      }
      // The kernel runs one dump per socket at a time (a second one is EBUSY): a dump goes alone,
      // after the one in flight, and later requests wait behind it, so order is kept.
      if (next.dump && (batch.length > 0 || this.dumpsInFlight.size > 0)) break;
      const size = messageBytes(next.req);
      const fence = fenced || next.fenced ? FENCE_BYTES : 0;
      if (batch.length > 0 && bytes + size + fence > this.maxBatchBytes) break;
      this.queue.shift();
      next.queued = false;
      this.queuedLive -= 1;
      batch.push(next);
      bytes += size;
      fenced ||= next.fenced;
      if (next.dump) break;
    }
    return batch;
  }

  /** Send (or re-send) requests in one datagram, each under a fresh sequence number; each holds a slot. */
  private transmit(batch: Pending[]): void {
    let bytes = 0;
    for (const p of batch) {
      this.register(p);
      bytes += messageBytes(p.req);
    }
    const fenced = batch.filter((p) => p.fenced);
    let fenceSeq = 0;
    if (fenced.length > 0) {
      fenceSeq = this.seqs.one();
      this.fences.set(fenceSeq, fenced);
      bytes += FENCE_BYTES;
    }
    const encode = (): Buffer => {
      const writer = new DatagramWriter(bytes);
      for (const p of batch) writer.message(p.req, p.flags, p.seq);
      if (fenceSeq !== 0) writer.fence(fenceSeq);
      return writer.datagram;
    };
    this.send(encode, batch.length, (err) => {
      if (fenceSeq !== 0) this.fences.delete(fenceSeq);
      for (const p of batch) this.finish(p, err);
    });
  }

  /** Send the datagram `encode()` makes, of `count` requests; `fail` when encoding or sending fails, now or later. */
  private send(encode: () => Buffer, count: number, fail: (err: Error) => void): void {
    const failed = (err: unknown): void => fail(err instanceof Error ? err : new Error(String(err)));
    try {
      const sent = this.transport.send(encode());
      this.stats.sent += count;
      if (sent) sent.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  /** Give `p` a sequence number, its flags, and a place among the requests in flight. */
  private register(p: Pending): void {
    p.seq = this.seqs.one();
    p.attempts += 1;
    p.interrupted = false;
    p.replies = undefined;
    p.flags = flagsOf(p);
    this.inFlight.set(p.seq, p);
    if (p.dump) this.dumpsInFlight.add(p);
  }

  /** Settle `p` once: free its slot or queue place, stop its timer, let the next request go. */
  private finish(p: Pending, outcome: Error | NlMessage[]): void {
    if (p.done) return;
    p.done = true;
    if (p.timer) clearTimeout(p.timer);
    if (this.inFlight.get(p.seq) === p) this.inFlight.delete(p.seq);
    this.dumpsInFlight.delete(p);
    if (p.queued) {
      p.queued = false;
      this.queuedLive -= 1;
    }
    this.countOutcome(outcome);
    if (p.batch) p.batch.settle(p.index, outcome);
    else if (outcome instanceof Error) p.reject?.(outcome);
    else p.resolve?.(outcome === NO_REPLIES ? [] : outcome);
    this.schedulePump();
  }

  /** A request's end in the counters: refused by the kernel, or timed out. */
  private countOutcome(outcome: Error | NlMessage[]): void {
    if (outcome instanceof NetlinkError) this.stats.refused += 1;
    else if (outcome instanceof RequestTimeoutError) this.stats.timeouts += 1;
  }

  private receive(data: Buffer, fromGroups: number, fromPid: number): void {
    if (this.closed) return;
    let messages: NlMessage[];
    try {
      messages = decodeMessages(data);
    } catch (err) {
      this.stats.malformed += 1;
      if (err instanceof NetlinkDecodeError) this.emit('malformed', err, data);
      else this.emit('malformed', new NetlinkDecodeError(0, String(err), {}, { cause: err }), data);
      return;
    }
    for (const msg of messages) this.dispatch(msg, fromGroups, fromPid);
  }

  private dispatch(msg: NlMessage, fromGroups: number, fromPid: number): void {
    if (fromPid !== 0) return this.stray(msg, 'not-from-kernel');
    if (fromGroups !== 0) return this.notify(msg);
    const { seq, pid } = msg.header;
    const p = seq !== 0 ? this.inFlight.get(seq) : undefined;
    if (!p && seq !== 0 && pid === this.transport.portId) {
      const fence = this.fences.get(seq);
      if (fence instanceof LotChunk) return this.bulk.fenceReached(fence, msg);
      if (fence) return this.fenceReached(seq, fence, msg);
      const chunk = this.bulk.chunkHolding(seq);
      if (chunk) return this.bulk.reply(chunk, seq - chunk.seq, msg);
    }
    if (!p) return seq !== 0 && pid === this.transport.portId ? this.stray(msg, 'unknown-seq') : this.notify(msg);
    if (pid !== this.transport.portId) return this.stray(msg, 'port-id');
    this.reply(p, msg);
  }

  private notify(msg: NlMessage): void {
    this.stats.notifications += 1;
    this.emit('notification', msg);
  }

  private stray(msg: NlMessage, reason: StrayReason): void {
    this.stats.stray += 1;
    this.emit('stray', msg, reason);
  }

  /** One message answering request `p`. */
  private reply(p: Pending, msg: NlMessage): void {
    const { type, flags } = msg.header;
    if ((flags & NLM_F_DUMP_INTR) !== 0) p.interrupted = true;
    switch (type) {
      case NLMSG_NOOP: return;
      case NLMSG_OVERRUN: return this.finish(p, new NetlinkOverrunError(p.op));
      case NLMSG_ERROR:
      case NLMSG_DONE: {
        const err = endError(msg, () => ({ op: p.op, header: headerOf(p) }));
        return err ? this.finish(p, err) : this.complete(p);
      }
      default:
        (p.replies ??= []).push(msg);
        if (!p.dump && !p.ack && !p.fenced && (flags & NLM_F_MULTI) === 0) this.complete(p);
    }
  }

  /** The fence closing a datagram of single requests answered (see fenceVerdict). */
  private fenceReached(seq: number, fenced: readonly Pending[], msg: NlMessage): void {
    this.fences.delete(seq);
    const verdict = fenceVerdict(msg);
    if (verdict === undefined) return;
    for (const p of fenced) {
      if (verdict instanceof Error) this.finish(p, verdict);
      else if (verdict === 0) this.complete(p);
      else this.finish(p, fenceError(verdict, p.op, headerOf(p)));
    }
  }

  private complete(p: Pending): void {
    if (!(p.dump && p.interrupted)) return this.finish(p, p.replies ?? NO_REPLIES);
    if (p.attempts > p.maxDumpRetries) return this.finish(p, new DumpInterruptedError(p.op, p.attempts));
    this.stats.dumpRetries += 1;
    this.inFlight.delete(p.seq);
    this.transmit([p]);
  }

  private transportError(err: Error & { errno?: number; code?: string }): void {
    if (this.closed) return;
    if (!isEnobufs(err)) {
      this.emit('error', err);
      return;
    }
    this.stats.overruns += 1;
    const chunks = this.bulk.chunksInFlight();
    this.fences.clear();
    this.emit('enobufs', err);
    for (const p of [...this.inFlight.values()]) this.finish(p, new NetlinkOverrunError(p.op));
    this.bulk.overrun(chunks);
  }
}
