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
  overruns: number;
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

const ENOBUFS = constants.errno.ENOBUFS;
const isEnobufs = (err: { errno?: number; code?: string }): boolean =>
  err.code === 'ENOBUFS' || (err.errno !== undefined && Math.abs(err.errno) === ENOBUFS);

/**
 * Request/response engine over one netlink socket. Many requests may be in flight at once
 * (pipelining); replies are matched by sequence number, so they may arrive in any order.
 */
export class NetlinkEngine extends EventEmitter<NetlinkEngineEvents> {
  private readonly inFlight = new Map<number, Pending>();
  /** Waiting requests; finished ones (timeout, close) stay until they reach the head. */
  private readonly queue = new Fifo<Pending>();
  private queuedLive = 0;
  private readonly dumpsInFlight = new Set<Pending>();
  /** Fence sequence number → the fenced requests of its datagram. */
  private readonly fences = new Map<number, Pending[]>();
  private readonly maxInFlight: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxBatchBytes: number;
  private pumpScheduled = false;
  private nextSeq: number;
  private closed = false;
  /** Counters since construction. */
  readonly stats: NetlinkEngineStats = { sent: 0, notifications: 0, stray: 0, malformed: 0, dumpRetries: 0, overruns: 0 };

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
  get inFlightCount(): number { return this.inFlight.size; }
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
   */
  requestAll(reqs: readonly NetlinkRequest[]): Promise<PromiseSettledResult<NlMessage[]>[]> {
    return new Promise((resolveAll) => {
      if (reqs.length === 0) return resolveAll([]);
      const batch = new SettleAll(reqs.length, resolveAll);
      for (let i = 0; i < reqs.length; i++) this.enqueue(reqs[i] as NetlinkRequest, undefined, undefined, batch, i);
    });
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
    for (const p of [...this.queue.drain(), ...this.inFlight.values()]) this.finish(p, new RequestCancelledError(p.op));
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
    while (this.inFlight.size + batch.length < this.maxInFlight) {
      const next = this.queue.peek();
      if (!next) break;
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
    } while (this.inFlight.has(seq) || this.fences.has(seq));
    return seq;
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
    if (p.batch) p.batch.settle(p.index, outcome);
    else if (outcome instanceof Error) p.reject?.(outcome);
    else p.resolve?.(outcome === NO_REPLIES ? [] : outcome);
    this.schedulePump();
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
    if (!p && seq !== 0 && pid === this.transport.portId && this.fences.has(seq)) return this.fenceReached(seq, msg);
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
    this.fences.clear();
    this.emit('enobufs', err);
    for (const p of [...this.inFlight.values()]) this.finish(p, new NetlinkOverrunError(p.op));
  }
}

/** The header `p` was sent with, for errors. */
function headerOf(p: Pending): NlMessageHeader {
  return { length: p.length, type: p.req.type, flags: p.flags, seq: p.seq, pid: 0 };
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
  for (const p of batch) {
    writeHeaderFields(out, at, p.length, p.req.type, p.flags, p.seq, 0);
    let end = at + NLMSG_HDRLEN;
    const payload = p.req.payload;
    if (Buffer.isBuffer(payload)) end += copyInto(payload, out, end);
    else if (isWriter(payload)) {
      payload.write(out, end);
      end += payload.length;
    } else for (const part of payload ?? []) end += copyInto(part, out, end);
    const padded = at + nlmsgAlign(p.length);
    zeroRange(out, end, padded);
    at = padded;
  }
  if (fence) writeHeader(out, at, fence);
  return out;
}
