// layer: netlink (request engine)
// job: the one place that enforces sequence numbers, port ids, ACKs, dumps, DUMP_INTR retries and ENOBUFS.
import { EventEmitter, on } from 'node:events';
import { constants } from 'node:os';
import {
  NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
  NLMSG_HDRLEN, NLMSG_OVERRUN, nlmsgAlign,
} from './constants.js';
import {
  DumpInterruptedError, NetlinkDecodeError, NetlinkError, NetlinkOverrunError, RequestCancelledError,
  RequestTimeoutError, type ExtAck,
} from './errors.js';
import { copyInto, zeroRange } from '../bytes.js';
import { Fifo } from '../fifo.js';
import { decodeDone, decodeError, decodeMessages, writeHeader, writeHeaderFields, type NlMessage, type NlMessageHeader } from './message.js';

/** A bound netlink socket, as the engine needs it. The native layer provides one; tests a fake. */
export interface NetlinkTransport {
  /** Our netlink port id (nl_pid) as the kernel assigned it at bind. */
  readonly portId: number;
  /**
   * Send one datagram to the kernel (parts are a scatter list: one datagram, several netlink
   * messages); the transport queues on EAGAIN itself. May throw, or return a promise that rejects
   * when a queued send fails later; either fails the requests in it.
   */
  send(data: Buffer | readonly Buffer[]): void | Promise<unknown>;
  /** Every received datagram, with the sender's multicast group mask and port id (0 = kernel). */
  onDatagram(handler: (data: Buffer, fromGroups: number, fromPid: number) => void): void;
  /** Receive errors, e.g. ENOBUFS when the receive buffer overflowed. */
  onError(handler: (err: Error & { errno?: number; code?: string }) => void): void;
  close(): void;
  /** Optional: let the socket keep the event loop alive (default for sockets). */
  ref?(): void;
  /** Optional: let the process exit while the socket is open (e.g. a notification watcher). */
  unref?(): void;
}

/** Options of a NetlinkEngine. */
export interface NetlinkEngineOptions {
  /** Requests sent and not yet complete, at most; later ones wait in FIFO order. Default 256. */
  maxInFlight?: number;
  /** Sequence number of the first request (1 … 2³²−1). Default 1. */
  firstSeq?: number;
  /** Timeout for requests that set none; 0 or absent means none. */
  timeoutMs?: number;
  /**
   * Requests made in the same tick are sent together, several netlink messages in one datagram
   * (the kernel processes them in order and answers each), up to this many bytes. Default 32 KiB;
   * 0 sends one message per datagram.
   */
  maxBatchBytes?: number;
}

/**
 * A payload the engine writes straight into the datagram: exactly `length` bytes at `at`. For
 * bulk work (thousands of requests) it saves a buffer per request.
 */
export interface PayloadWriter {
  readonly length: number;
  write(buf: Buffer, at: number): void;
}

/** One request. The engine adds NLM_F_REQUEST, NLM_F_ACK and NLM_F_DUMP as these options say. */
export interface NetlinkRequest {
  /** nlmsg_type, e.g. RTM_NEWADDR or a generic netlink family id. */
  type: number;
  /** Extra nlmsg_flags, e.g. NLM_F_CREATE | NLM_F_EXCL. */
  flags?: number;
  /** The payload after the nlmsghdr (family header and attributes): one buffer, parts, or a writer. */
  payload?: Buffer | readonly Buffer[] | PayloadWriter;
  /** Dump request: sets NLM_F_DUMP and collects NLM_F_MULTI replies until NLMSG_DONE. */
  dump?: boolean;
  /** Ask for an ACK (NLM_F_ACK) and resolve at it. Default true for non-dumps, false for dumps. */
  ack?: boolean;
  /**
   * Send without NLM_F_ACK and let the engine close the datagram with an acknowledged
   * NLMSG_NOOP (a fence). The kernel carries out a datagram's messages in order and answers only
   * refusals, so the fence's ACK proves that every earlier message of the datagram that drew no
   * NLMSG_ERROR succeeded: one ACK per datagram instead of one per request. Resolves at the fence
   * with the replies collected (usually none). Not for dumps.
   */
  fenced?: boolean;
  /** Reject with RequestTimeoutError when not complete this long after the call. */
  timeoutMs?: number;
  /** Name of the operation for errors (`syscall`), e.g. `RTM_NEWADDR`. Default `nlmsg_type=N`. */
  op?: string;
  /** How often an NLM_F_DUMP_INTR dump is re-sent before DumpInterruptedError. Default 5. */
  maxDumpRetries?: number;
}

/**
 * Requests made on demand, for requestAll(): `at(i)` is asked for request i when it is sent, and
 * again only if the kernel answers it or it must be named in an error — so a lot of thousands
 * need not hold thousands of request objects. `at` must give the same request each time.
 */
export interface RequestSource {
  readonly length: number;
  at(index: number): NetlinkRequest;
}

/** Why a received message was dropped. */
export type StrayReason =
  /** A reply to a request in flight, but nlmsg_pid is not our port id. */
  | 'port-id'
  /** Addressed to our port id with a sequence number we are not waiting for (e.g. after a timeout). */
  | 'unknown-seq'
  /** Unicast from another socket, not the kernel. */
  | 'not-from-kernel';

/** Events of a NetlinkEngine. */
export interface NetlinkEngineEvents {
  /** Multicast messages, and kernel messages that answer no request of ours (e.g. seq 0). */
  notification: [msg: NlMessage];
  /** The receive buffer overflowed; in-flight requests were rejected with NetlinkOverrunError. */
  enobufs: [err: Error];
  /** A message that was dropped, and why. */
  stray: [msg: NlMessage, reason: StrayReason];
  /** A datagram that did not decode; it was dropped whole. */
  malformed: [err: NetlinkDecodeError, datagram: Buffer];
  /** A transport error other than ENOBUFS (Node semantics: unhandled, it throws). */
  error: [err: Error];
  /** The engine was closed. */
  close: [];
}

/** Counters since the engine was made. */
export interface NetlinkEngineStats {
  sent: number;
  notifications: number;
  stray: number;
  malformed: number;
  dumpRetries: number;
  /** ENOBUFS: the receive buffer overflowed (recv ENOBUFS, or NLMSG_OVERRUN). */
  overruns: number;
  /** Requests the kernel refused (NLMSG_ERROR with an errno: NetlinkError). */
  refused: number;
  /** Requests without a complete reply in time (RequestTimeoutError). */
  timeouts: number;
}

/** The sum of several engines' counters (a client with several sockets, or clients that came and went). */
export function addEngineStats(all: readonly Readonly<NetlinkEngineStats>[]): NetlinkEngineStats {
  const sum: NetlinkEngineStats = { sent: 0, notifications: 0, stray: 0, malformed: 0, dumpRetries: 0, overruns: 0, refused: 0, timeouts: 0 };
  for (const s of all) for (const k of Object.keys(sum) as (keyof NetlinkEngineStats)[]) sum[k] += s[k];
  return sum;
}

interface Pending {
  readonly req: NetlinkRequest;
  readonly op: string;
  readonly dump: boolean;
  readonly ack: boolean;
  readonly fenced: boolean;
  readonly maxDumpRetries: number;
  /** Settles a request made alone (request()); a request of a requestAll() lot settles through `batch`. */
  readonly resolve: ((replies: NlMessage[]) => void) | undefined;
  readonly reject: ((err: Error) => void) | undefined;
  /** The requestAll() lot this request belongs to, and its place in it. */
  readonly batch: SettleAll | undefined;
  readonly index: number;
  seq: number;
  /** nlmsg_flags and nlmsg_len as sent (the header object is made only for an error: headerOf). */
  flags: number;
  length: number;
  attempts: number;
  interrupted: boolean;
  /** Replies so far; none (the usual case for fenced requests) allocates nothing. */
  replies: NlMessage[] | undefined;
  timer?: NodeJS.Timeout;
  done: boolean;
  /** Waiting in the queue (not yet sent). */
  queued: boolean;
}

/** The outcome of a request that drew no reply message (shared: it allocates nothing). */
const NO_REPLIES: NlMessage[] = Object.freeze([]) as unknown as NlMessage[];
const FULFILLED_NONE: PromiseSettledResult<NlMessage[]> = Object.freeze({ status: 'fulfilled', value: NO_REPLIES });

/**
 * requestAll(): the lot's results, filled as its requests settle (no closure or promise per
 * request; one shared, frozen result for every request that drew no reply).
 */
class SettleAll {
  readonly results: PromiseSettledResult<NlMessage[]>[];
  private left: number;
  constructor(count: number, private readonly done: (results: PromiseSettledResult<NlMessage[]>[]) => void) {
    this.results = new Array<PromiseSettledResult<NlMessage[]>>(count);
    this.left = count;
  }
  settle(index: number, outcome: Error | NlMessage[]): void {
    this.results[index] = outcome instanceof Error ? { status: 'rejected', reason: outcome }
      : outcome === NO_REPLIES ? FULFILLED_NONE : { status: 'fulfilled', value: outcome };
    if (--this.left === 0) this.done(this.results);
  }
}

/**
 * A requestAll() lot whose requests are all fenced (the bulk path): it waits in the queue as one
 * entry and goes out in chunks, a datagram each, with no per-request state — a request is only
 * asked of its source again if the kernel answers it (usually a refusal).
 */
class Lot {
  /** The first request not yet sent. */
  next = 0;
  /** Request `next`, when it was made but did not fit in the last chunk. */
  peeked: NetlinkRequest | undefined;
  /** Requests not yet settled. */
  unsettled: number;
  /** Its chunks in flight. */
  readonly chunks = new Set<LotChunk>();
  timer: NodeJS.Timeout | undefined;
  /** Settled whole (timeout, close): what is left is dropped when it reaches the head of the queue. */
  done = false;
  constructor(readonly source: RequestSource, readonly settle: SettleAll, readonly timeoutMs: number) {
    this.unsettled = source.length;
  }
  /** The name of request `index`, for errors. */
  opAt(index: number): string { return opOf(this.source.at(index)); }
}

/**
 * One datagram of a lot: requests `start … start+count−1` under sequence numbers `seq …
 * seq+count−1`, then the fence at `seq+count`.
 */
class LotChunk {
  /** Requests of the chunk settled before the fence (answered by the kernel); made at the first. */
  settled: Uint8Array | undefined;
  /** Replies other than errors, by place in the chunk (rare for fenced requests). */
  replies: Map<number, NlMessage[]> | undefined;
  constructor(readonly lot: Lot, readonly start: number, readonly count: number, readonly seq: number) {}
  get fenceSeq(): number { return this.seq + this.count; }
  /** Holds sequence number `seq` (a request's, not the fence's). */
  holds(seq: number): boolean { return seq >= this.seq && seq < this.seq + this.count; }
  isSettled(i: number): boolean { return this.settled !== undefined && this.settled[i] === 1; }
}

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
  /** Lots not yet settled whole, and their requests in flight. */
  private readonly lots = new Set<Lot>();
  private lotInFlight = 0;
  private readonly maxInFlight: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxBatchBytes: number;
  private pumpScheduled = false;
  private nextSeq: number;
  private closed = false;
  /** Counters since construction. */
  readonly stats: NetlinkEngineStats = { sent: 0, notifications: 0, stray: 0, malformed: 0, dumpRetries: 0, overruns: 0, refused: 0, timeouts: 0 };

  constructor(private readonly transport: NetlinkTransport, options: NetlinkEngineOptions = {}) {
    super();
    this.maxInFlight = options.maxInFlight ?? 256;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError(`maxInFlight must be ≥ 1: ${this.maxInFlight}`);
    this.nextSeq = options.firstSeq ?? 1;
    if (!Number.isInteger(this.nextSeq) || this.nextSeq < 1 || this.nextSeq > 0xffffffff) {
      throw new RangeError(`firstSeq must be in 1…2^32-1: ${this.nextSeq}`);
    }
    this.defaultTimeoutMs = options.timeoutMs ?? 0;
    this.maxBatchBytes = options.maxBatchBytes ?? 32 * 1024;
    transport.onDatagram((data, fromGroups, fromPid) => this.receive(data, fromGroups, fromPid));
    transport.onError((err) => this.transportError(err));
  }

  /** Requests sent and not yet complete. */
  get inFlightCount(): number { return this.inFlight.size + this.lotInFlight; }
  /** Requests waiting for a free slot in the window. */
  get queuedCount(): number { return this.queuedLive; }

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
      if (!isRequestArray(reqs)) {
        if (this.closed) for (let i = 0; i < reqs.length; i++) batch.settle(i, new RequestCancelledError(opOf(reqs.at(i))));
        else this.enqueueLot(new Lot(reqs, batch, this.defaultTimeoutMs));
        return;
      }
      const timeoutMs = this.closed ? undefined : lotTimeout(reqs, this.defaultTimeoutMs);
      if (timeoutMs !== undefined) return this.enqueueLot(new Lot({ length: reqs.length, at: (i) => reqs[i] as NetlinkRequest }, batch, timeoutMs));
      for (let i = 0; i < reqs.length; i++) this.enqueue(reqs[i] as NetlinkRequest, undefined, undefined, batch, i);
    });
  }

  /** Queue a lot of fenced requests as one entry (see Lot); its timer runs from now, as a request's would. */
  private enqueueLot(lot: Lot): void {
    if (lot.timeoutMs > 0) lot.timer = setTimeout(() => this.endLot(lot, (i) => new RequestTimeoutError(lot.opAt(i), lot.timeoutMs)), lot.timeoutMs);
    this.lots.add(lot);
    this.queue.push(lot);
    this.queuedLive += lot.source.length;
    this.schedulePump();
  }

  /** Check `req` and queue it; it settles exactly once, through its callbacks or its lot (`batch`, at `index`). */
  private enqueue(req: NetlinkRequest, resolve: Pending['resolve'], reject: Pending['reject'], batch: SettleAll | undefined, index: number): void {
    const op = req.op ?? `nlmsg_type=${req.type}`;
    if (this.closed) return refuse(reject, batch, index, new RequestCancelledError(op));
    if (!Number.isInteger(req.type) || req.type < 0 || req.type > 0xffff) {
      return refuse(reject, batch, index, new RangeError(`nlmsg_type out of range: ${req.type}`));
    }
    if (req.fenced && req.dump) return refuse(reject, batch, index, new TypeError(`${op}: a dump cannot be fenced`));
    const dump = req.dump ?? false;
    const fenced = req.fenced ?? false;
    const p: Pending = {
      req, op, dump, fenced, ack: !fenced && (req.ack ?? !dump), maxDumpRetries: req.maxDumpRetries ?? 5,
      // Every field set, in one order, so all requests share one object shape.
      resolve, reject, batch, index,
      seq: 0, flags: 0, length: 0, attempts: 0, interrupted: false, replies: undefined, done: false, queued: true,
    };
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
    for (const lot of [...this.lots]) this.endLot(lot, (i) => new RequestCancelledError(lot.opAt(i)));
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
        if (!this.transmitLotChunk(head)) return;
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
      const size = nlmsgAlign(NLMSG_HDRLEN + payloadLength(next.req.payload));
      const fence = fenced || next.fenced ? NLMSG_HDRLEN : 0;
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

  private allocSeq(): number {
    let seq: number;
    do {
      seq = this.nextSeq;
      this.nextSeq = seq >= 0xffffffff ? 1 : seq + 1;
    } while (this.seqInUse(seq));
    return seq;
  }

  /** `n` consecutive free sequence numbers (n ≤ the window + 1), never wrapping inside the range. */
  private allocSeqRange(n: number): number {
    for (;;) {
      const start = this.nextSeq + n - 1 > 0xffffffff ? 1 : this.nextSeq;
      const end = start + n; // exclusive
      this.nextSeq = end > 0xffffffff ? 1 : end;
      const clash = this.lastSeqInUse(start, end);
      if (clash === 0) return start;
      this.nextSeq = clash >= 0xffffffff ? 1 : clash + 1; // try again past the last number in use
    }
  }

  /** The highest sequence number in [start, end) that is in use, or 0: per request and fence, or per number, whichever is fewer. */
  private lastSeqInUse(start: number, end: number): number {
    let clash = 0;
    for (const lot of this.lots) {
      for (const chunk of lot.chunks) {
        if (chunk.seq < end && start <= chunk.fenceSeq) clash = Math.max(clash, Math.min(end - 1, chunk.fenceSeq));
      }
    }
    if (this.inFlight.size + this.fences.size < end - start) {
      for (const seq of this.inFlight.keys()) if (seq >= start && seq < end && seq > clash) clash = seq;
      for (const seq of this.fences.keys()) if (seq >= start && seq < end && seq > clash) clash = seq;
    } else {
      for (let seq = start; seq < end; seq++) if (this.inFlight.has(seq) || this.fences.has(seq)) clash = seq;
    }
    return clash;
  }

  private seqInUse(seq: number): boolean {
    return this.inFlight.has(seq) || this.fences.has(seq) || (this.lotInFlight > 0 && this.chunkHolding(seq) !== undefined);
  }

  /** The lot chunk in flight whose requests include sequence number `seq`. */
  private chunkHolding(seq: number): LotChunk | undefined {
    for (const lot of this.lots) for (const chunk of lot.chunks) if (chunk.holds(seq)) return chunk;
    return undefined;
  }

  /**
   * Send the lot's next requests in one datagram closed by a fence: as many as the window and the
   * datagram size allow (at least one). False when the window is full.
   */
  private transmitLotChunk(lot: Lot): boolean {
    if (lot.done) {
      this.queue.shift();
      return true;
    }
    const room = this.maxInFlight - this.inFlightCount;
    if (room <= 0) return false;
    const { source } = lot;
    const sending: NetlinkRequest[] = [];
    let bytes = NLMSG_HDRLEN;
    while (lot.next + sending.length < source.length && sending.length < room) {
      const index = lot.next + sending.length;
      const req = lot.peeked ?? source.at(index);
      lot.peeked = undefined;
      const refused = lotRefusal(req);
      if (refused) {
        if (sending.length > 0) { // a chunk is consecutive requests: this one starts the next
          lot.peeked = req;
          break;
        }
        lot.next += 1;
        this.queuedLive -= 1;
        this.settleInLot(lot, index, refused);
        continue;
      }
      const size = nlmsgAlign(NLMSG_HDRLEN + payloadLength(req.payload));
      if (sending.length > 0 && bytes + size > this.maxBatchBytes) {
        lot.peeked = req;
        break;
      }
      sending.push(req);
      bytes += size;
    }
    const count = sending.length;
    if (lot.next + count === source.length) this.queue.shift();
    if (count === 0) return true;
    const chunk = new LotChunk(lot, lot.next, count, this.allocSeqRange(count + 1));
    lot.next += count;
    this.queuedLive -= count;
    lot.chunks.add(chunk);
    this.lotInFlight += count;
    this.fences.set(chunk.fenceSeq, chunk);
    const fail = (err: unknown): void => {
      if (this.fences.get(chunk.fenceSeq) !== chunk) return;
      this.endChunk(chunk, () => (err instanceof Error ? err : new Error(String(err))));
    };
    try {
      const sent = this.transport.send(lotDatagramOf(chunk, sending, bytes));
      this.stats.sent += count;
      if (sent) sent.catch(fail);
    } catch (err) {
      fail(err);
    }
    return true;
  }

  /** Settle request `i` of `chunk` (before its fence), once. */
  private settleInChunk(chunk: LotChunk, i: number, outcome: Error | NlMessage[]): void {
    if (chunk.isSettled(i)) return;
    (chunk.settled ??= new Uint8Array(chunk.count))[i] = 1;
    this.settleInLot(chunk.lot, chunk.start + i, outcome);
    this.lotInFlight -= 1;
  }

  private settleInLot(lot: Lot, index: number, outcome: Error | NlMessage[]): void {
    this.countOutcome(outcome);
    lot.unsettled -= 1;
    if (lot.unsettled === 0) {
      if (lot.timer) clearTimeout(lot.timer);
      this.lots.delete(lot);
    }
    lot.settle.settle(index, outcome);
    this.schedulePump();
  }

  /**
   * Take `chunk` out of flight and settle its open requests: `outcome(index in the lot, seq)`, or
   * their replies so far when it gives none.
   */
  private endChunk(chunk: LotChunk, outcome: (index: number, seq: number) => Error | undefined): void {
    if (this.fences.get(chunk.fenceSeq) === chunk) this.fences.delete(chunk.fenceSeq);
    chunk.lot.chunks.delete(chunk);
    for (let i = 0; i < chunk.count; i++) {
      if (chunk.isSettled(i)) continue;
      const err = outcome(chunk.start + i, chunk.seq + i);
      this.settleInChunk(chunk, i, err ?? chunk.replies?.get(i) ?? NO_REPLIES);
    }
  }

  /** Settle every open request of `lot` (timeout, close): those in flight and those not yet sent. */
  private endLot(lot: Lot, error: (index: number) => Error): void {
    if (lot.done || lot.unsettled === 0) return;
    lot.done = true;
    lot.peeked = undefined;
    for (const chunk of [...lot.chunks]) this.endChunk(chunk, error);
    const { length } = lot.source;
    this.queuedLive -= length - lot.next;
    while (lot.next < length) {
      const index = lot.next++;
      this.settleInLot(lot, index, error(index));
    }
  }

  /** Send (or re-send) requests in one datagram, each under a fresh sequence number; each holds a slot. */
  private transmit(batch: Pending[]): void {
    for (const p of batch) this.register(p);
    const fenced = batch.filter((p) => p.fenced);
    let fence: NlMessageHeader | undefined;
    if (fenced.length > 0) {
      fence = { length: NLMSG_HDRLEN, type: NLMSG_NOOP, flags: NLM_F_REQUEST | NLM_F_ACK, seq: this.allocSeq(), pid: 0 };
      this.fences.set(fence.seq, fenced);
    }
    const fail = (err: unknown): void => {
      if (fence) this.fences.delete(fence.seq);
      for (const p of batch) this.finish(p, err instanceof Error ? err : new Error(String(err)));
    };
    try {
      const sent = this.transport.send(datagramOf(batch, fence));
      this.stats.sent += batch.length;
      if (sent) sent.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** Give `p` a sequence number, its header, and a place among the requests in flight. */
  private register(p: Pending): void {
    p.seq = this.allocSeq();
    p.attempts += 1;
    p.interrupted = false;
    p.replies = undefined;
    p.flags = NLM_F_REQUEST | (p.req.flags ?? 0) | (p.ack ? NLM_F_ACK : 0) | (p.dump ? NLM_F_DUMP : 0);
    p.length = NLMSG_HDRLEN + payloadLength(p.req.payload);
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
      if (this.fences.has(seq)) return this.fenceReached(seq, msg);
      const chunk = this.lotInFlight > 0 ? this.chunkHolding(seq) : undefined;
      if (chunk) return this.lotReply(chunk, seq - chunk.seq, msg);
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
      case NLMSG_ERROR: return this.ended(p, () => decodeError(msg.payload, flags));
      case NLMSG_DONE: return this.ended(p, () => decodeDone(msg.payload, flags));
      default:
        (p.replies ??= []).push(msg);
        if (!p.dump && !p.ack && !p.fenced && (flags & NLM_F_MULTI) === 0) this.complete(p);
    }
  }

  /**
   * The fence closing a datagram answered: its fenced requests that drew no NLMSG_ERROR were
   * carried out (the kernel answers a datagram's messages in order).
   */
  private fenceReached(seq: number, msg: NlMessage): void {
    const fenced = this.fences.get(seq) ?? [];
    if (fenced instanceof LotChunk) return this.lotFenceReached(fenced, msg);
    this.fences.delete(seq);
    if (msg.header.type !== NLMSG_ERROR) return;
    let error = 0;
    try {
      error = decodeError(msg.payload, msg.header.flags).error;
    } catch (err) {
      for (const p of fenced) this.finish(p, err as Error);
      return;
    }
    for (const p of fenced) {
      if (error === 0) this.complete(p);
      else this.finish(p, new NetlinkError(Math.abs(error), `${p.op} (fence)`, headerOf(p)));
    }
  }

  /** The fence of a lot chunk answered: as fenceReached, for the chunk's requests. */
  private lotFenceReached(chunk: LotChunk, msg: NlMessage): void {
    if (msg.header.type !== NLMSG_ERROR) return;
    let error = 0;
    let bad: Error | undefined;
    try {
      error = decodeError(msg.payload, msg.header.flags).error;
    } catch (err) {
      bad = err as Error;
    }
    this.endChunk(chunk, (index, seq) => {
      if (bad || error === 0) return bad;
      const req = chunk.lot.source.at(index);
      return new NetlinkError(Math.abs(error), `${opOf(req)} (fence)`, lotHeaderOf(req, seq));
    });
  }

  /** A message answering request `i` of a lot chunk (fenced: usually its refusal). As reply() does for a request. */
  private lotReply(chunk: LotChunk, i: number, msg: NlMessage): void {
    if (chunk.isSettled(i)) return this.stray(msg, 'unknown-seq');
    const req = (): NetlinkRequest => chunk.lot.source.at(chunk.start + i);
    const { type, flags } = msg.header;
    const replies = (): NlMessage[] => chunk.replies?.get(i) ?? NO_REPLIES;
    switch (type) {
      case NLMSG_NOOP: return;
      case NLMSG_OVERRUN: return this.settleInChunk(chunk, i, new NetlinkOverrunError(opOf(req())));
      case NLMSG_ERROR:
      case NLMSG_DONE: {
        let end: { error: number; extack: ExtAck; requestPayload?: Buffer };
        try {
          end = type === NLMSG_ERROR ? decodeError(msg.payload, flags) : decodeDone(msg.payload, flags);
        } catch (err) {
          return this.settleInChunk(chunk, i, err as Error);
        }
        if (end.error === 0) return this.settleInChunk(chunk, i, replies());
        const hasExtAck = Object.keys(end.extack).length > 0;
        const refused = req();
        return this.settleInChunk(chunk, i, new NetlinkError(Math.abs(end.error), opOf(refused), lotHeaderOf(refused, chunk.seq + i),
          hasExtAck ? end.extack : undefined, end.requestPayload));
      }
      default: {
        const map = chunk.replies ??= new Map();
        const list = map.get(i);
        if (list) list.push(msg);
        else map.set(i, [msg]);
      }
    }
  }

  /** NLMSG_ERROR or NLMSG_DONE ended request `p`: refused, or complete. */
  private ended(p: Pending, decode: () => { error: number; extack: ExtAck; requestPayload?: Buffer }): void {
    let end: { error: number; extack: ExtAck; requestPayload?: Buffer };
    try {
      end = decode();
    } catch (err) {
      return this.finish(p, err as Error);
    }
    if (end.error !== 0) {
      const hasExtAck = Object.keys(end.extack).length > 0;
      return this.finish(p, new NetlinkError(Math.abs(end.error), p.op, headerOf(p),
        hasExtAck ? end.extack : undefined, end.requestPayload));
    }
    this.complete(p);
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
    const chunks = [...this.lots].flatMap((lot) => [...lot.chunks]);
    this.fences.clear();
    this.emit('enobufs', err);
    for (const p of [...this.inFlight.values()]) this.finish(p, new NetlinkOverrunError(p.op));
    for (const chunk of chunks) this.endChunk(chunk, (index) => new NetlinkOverrunError(chunk.lot.opAt(index)));
  }
}

/** The header `p` was sent with, for errors. */
function headerOf(p: Pending): NlMessageHeader {
  return { length: p.length, type: p.req.type, flags: p.flags, seq: p.seq, pid: 0 };
}

/** A request's name for errors. */
function opOf(req: NetlinkRequest): string {
  return req.op ?? `nlmsg_type=${req.type}`;
}

/** The header a lot's request was sent with, for errors. */
function lotHeaderOf(req: NetlinkRequest, seq: number): NlMessageHeader {
  return { length: NLMSG_HDRLEN + payloadLength(req.payload), type: req.type, flags: NLM_F_REQUEST | (req.flags ?? 0), seq, pid: 0 };
}

/**
 * The timeout of `reqs` as one lot (the bulk path of requestAll), or undefined when they cannot
 * be one: each must be fenced, not a dump, with a valid type, and all must share one timeout.
 */
function lotTimeout(reqs: readonly NetlinkRequest[], defaultTimeoutMs: number): number | undefined {
  const first = reqs[0]?.timeoutMs;
  for (const req of reqs) if (req.timeoutMs !== first || lotRefusal(req)) return undefined;
  return first ?? defaultTimeoutMs;
}

/** Why `req` cannot go in a lot, or undefined when it can. */
function lotRefusal(req: NetlinkRequest): Error | undefined {
  if (!Number.isInteger(req.type) || req.type < 0 || req.type > 0xffff) return new RangeError(`nlmsg_type out of range: ${req.type}`);
  if (req.fenced !== true || req.dump === true) return new TypeError(`${opOf(req)}: a request from a RequestSource must be fenced and not a dump`);
  return undefined;
}

function isRequestArray(reqs: readonly NetlinkRequest[] | RequestSource): reqs is readonly NetlinkRequest[] {
  return Array.isArray(reqs);
}

/** Settle a request that was never queued. */
function refuse(reject: Pending['reject'], batch: SettleAll | undefined, index: number, err: Error): void {
  if (batch) batch.settle(index, err);
  else reject?.(err);
}

function isWriter(payload: NetlinkRequest['payload']): payload is PayloadWriter {
  return payload !== undefined && !Buffer.isBuffer(payload) && !Array.isArray(payload);
}

/** Bytes of a request payload given as one buffer, as parts, or as a writer. */
function payloadLength(payload: NetlinkRequest['payload']): number {
  if (payload === undefined) return 0;
  if (Buffer.isBuffer(payload) || isWriter(payload)) return payload.length;
  let n = 0;
  for (const part of payload as readonly Buffer[]) n += part.length;
  return n;
}

/**
 * One datagram holding the batch's messages (and the fence, if any), each padded to
 * NLMSG_ALIGNTO: one allocation per datagram, payloads copied once.
 */
function datagramOf(batch: readonly Pending[], fence: NlMessageHeader | undefined): Buffer {
  let total = fence ? NLMSG_HDRLEN : 0;
  for (const p of batch) total += nlmsgAlign(p.length);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of batch) at = writeMessage(out, at, p.length, p.req.type, p.flags, p.seq, p.req.payload);
  if (fence) writeHeader(out, at, fence);
  return out;
}

/** One datagram of a lot chunk (`bytes` long): its requests under consecutive sequence numbers, then the fence. */
function lotDatagramOf(chunk: LotChunk, sending: readonly NetlinkRequest[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = 0; i < chunk.count; i++) {
    const req = sending[i] as NetlinkRequest;
    at = writeMessage(out, at, NLMSG_HDRLEN + payloadLength(req.payload), req.type, NLM_F_REQUEST | (req.flags ?? 0), chunk.seq + i, req.payload);
  }
  writeHeaderFields(out, at, NLMSG_HDRLEN, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, chunk.fenceSeq, 0);
  return out;
}

/** Write one message (header, payload, padding) at `at`; returns where the next one goes. */
function writeMessage(out: Buffer, at: number, length: number, type: number, flags: number, seq: number, payload: NetlinkRequest['payload']): number {
  writeHeaderFields(out, at, length, type, flags, seq, 0);
  let end = at + NLMSG_HDRLEN;
  if (Buffer.isBuffer(payload)) end += copyInto(payload, out, end);
  else if (isWriter(payload)) {
    payload.write(out, end);
    end += payload.length;
  } else for (const part of payload ?? []) end += copyInto(part, out, end);
  const padded = at + nlmsgAlign(length);
  zeroRange(out, end, padded);
  return padded;
}
