// layer: netlink (request engine)
// job: the bulk path of requestAll(): a lot of fenced requests as one queue entry, sent in chunks closed by a fence, with no state per request.
import { NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.js';
import { DatagramWriter, FENCE_BYTES, messageBytes, sentHeader } from './datagram.js';
import type { NetlinkRequest, RequestSource, StrayReason } from './engine-types.js';
import { NetlinkOverrunError, RequestCancelledError, RequestTimeoutError } from './errors.js';
import type { NlMessage } from './message.js';
import { endError, fenceError, fenceVerdict, NO_REPLIES, opOf, type SettleAll } from './outcome.js';

/** What the bulk path needs of the engine it runs in (the queue, the window, sequence numbers, the socket). */
export interface BulkHost {
  /** The most bytes in one datagram. */
  readonly maxBatchBytes: number;
  /** Fence sequence number → what it closes: the bulk path registers its chunks here. */
  readonly fences: Map<number, unknown>;
  /** Free slots in the window of requests in flight. */
  room(): number;
  /** Put a lot at the tail of the queue. */
  enqueue(lot: Lot): void;
  /** Take the lot at the head of the queue out (all of it sent or settled). */
  dequeue(): void;
  /** `n` consecutive free sequence numbers. */
  allocSeqRange(n: number): number;
  /** Send the datagram `encode()` makes, of `count` requests; `fail` is called when encoding or sending fails. */
  send(encode: () => Buffer, count: number, fail: (err: Error) => void): void;
  /** A request settled with `outcome`: counted, and the window may move. */
  settled(outcome: Error | NlMessage[]): void;
  /** A message was dropped. */
  stray(msg: NlMessage, reason: StrayReason): void;
}

/**
 * A requestAll() lot whose requests are all fenced (the bulk path): it waits in the queue as one
 * entry and goes out in chunks, a datagram each, with no per-request state — a request is only
 * asked of its source again if the kernel answers it (usually a refusal).
 */
export class Lot {
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
export class LotChunk {
  /** Requests of the chunk settled before the fence (answered by the kernel); made at the first. */
  settled: Uint8Array | undefined;
  /** Replies other than errors, by place in the chunk (rare for fenced requests). */
  replies: Map<number, NlMessage[]> | undefined;
  constructor(readonly lot: Lot, readonly start: number, readonly count: number, readonly seq: number) {}
  get fenceSeq(): number { return this.seq + this.count; }
  /** Holds sequence number `seq` (a request's, not the fence's). */
  holds(seq: number): boolean { return seq >= this.seq && seq < this.seq + this.count; }
  isSettled(i: number): boolean { return this.settled !== undefined && this.settled[i] === 1; }
  /** Request `i` of the chunk, asked of the lot's source again. */
  request(i: number): NetlinkRequest { return this.lot.source.at(this.start + i); }
}

/** nlmsg_flags of a lot's request: fenced, so no NLM_F_ACK. */
const flagsOf = (req: NetlinkRequest): number => NLM_F_REQUEST | (req.flags ?? 0);

/** The lots of one engine: queued, sent in chunks, settled by their fences, refusals and timers. */
export class BulkPath {
  /** Lots not yet settled whole. */
  private readonly lots = new Set<Lot>();
  /** Requests of lots in flight. */
  inFlight = 0;
  /** Requests of lots waiting in the queue. */
  queued = 0;

  constructor(private readonly host: BulkHost) {}

  /**
   * Queue `reqs` as one lot when they can be one (a RequestSource always; an array when every
   * request is fenced, none a dump, all with one timeout) and return true; false otherwise.
   * The lot's timer runs from now, as a request's would.
   */
  start(reqs: readonly NetlinkRequest[] | RequestSource, settle: SettleAll, defaultTimeoutMs: number): boolean {
    let lot: Lot;
    if (!Array.isArray(reqs)) lot = new Lot(reqs as RequestSource, settle, defaultTimeoutMs);
    else {
      const array = reqs as readonly NetlinkRequest[];
      const timeoutMs = lotTimeout(array, defaultTimeoutMs);
      if (timeoutMs === undefined) return false;
      lot = new Lot({ length: array.length, at: (i) => array[i] as NetlinkRequest }, settle, timeoutMs);
    }
    if (lot.timeoutMs > 0) lot.timer = setTimeout(() => this.endLot(lot, (i) => new RequestTimeoutError(lot.opAt(i), lot.timeoutMs)), lot.timeoutMs);
    this.lots.add(lot);
    this.queued += lot.source.length;
    this.host.enqueue(lot);
    return true;
  }

  /**
   * Send the lot's next requests in one datagram closed by a fence: as many as the window and the
   * datagram size allow (at least one). False when the window is full.
   */
  send(lot: Lot): boolean {
    if (lot.done) {
      this.host.dequeue();
      return true;
    }
    const room = this.host.room();
    if (room <= 0) return false;
    const { sending, bytes } = this.take(lot, room);
    const count = sending.length;
    if (lot.next + count === lot.source.length) this.host.dequeue();
    if (count === 0) return true;
    const chunk = new LotChunk(lot, lot.next, count, this.host.allocSeqRange(count + 1));
    lot.next += count;
    this.queued -= count;
    lot.chunks.add(chunk);
    this.inFlight += count;
    this.host.fences.set(chunk.fenceSeq, chunk);
    const encode = (): Buffer => {
      const writer = new DatagramWriter(bytes);
      for (let i = 0; i < count; i++) writer.message(sending[i] as NetlinkRequest, flagsOf(sending[i] as NetlinkRequest), chunk.seq + i);
      return writer.fence(chunk.fenceSeq).datagram;
    };
    this.host.send(encode, count, (err) => {
      if (this.host.fences.get(chunk.fenceSeq) === chunk) this.endChunk(chunk, () => err);
    });
    return true;
  }

  /**
   * The requests of the lot's next chunk: consecutive ones from `lot.next`, at most `room`, within
   * the datagram size (`bytes`, its fence included). A request that cannot go in a lot is refused
   * on its own (unsent).
   */
  private take(lot: Lot, room: number): { sending: NetlinkRequest[]; bytes: number } {
    const { source } = lot;
    const sending: NetlinkRequest[] = [];
    let bytes = FENCE_BYTES;
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
        this.queued -= 1;
        this.settleInLot(lot, index, refused);
        continue;
      }
      const size = messageBytes(req);
      if (sending.length > 0 && bytes + size > this.host.maxBatchBytes) {
        lot.peeked = req;
        break;
      }
      sending.push(req);
      bytes += size;
    }
    return { sending, bytes };
  }

  /** The lot chunk in flight whose requests include sequence number `seq`. */
  chunkHolding(seq: number): LotChunk | undefined {
    if (this.inFlight === 0) return undefined;
    for (const lot of this.lots) for (const chunk of lot.chunks) if (chunk.holds(seq)) return chunk;
    return undefined;
  }

  /** The highest sequence number in [start, end) that a chunk in flight holds (its fence included), or 0. */
  lastSeqInUse(start: number, end: number): number {
    let clash = 0;
    for (const lot of this.lots) {
      for (const chunk of lot.chunks) {
        if (chunk.seq < end && start <= chunk.fenceSeq) clash = Math.max(clash, Math.min(end - 1, chunk.fenceSeq));
      }
    }
    return clash;
  }

  /** The fence of `chunk` answered: its requests that drew no NLMSG_ERROR were carried out (see fenceVerdict). */
  fenceReached(chunk: LotChunk, msg: NlMessage): void {
    const verdict = fenceVerdict(msg);
    if (verdict === undefined) return;
    this.endChunk(chunk, (index, seq) => {
      if (verdict instanceof Error) return verdict;
      if (verdict === 0) return undefined;
      const req = chunk.lot.source.at(index);
      return fenceError(verdict, opOf(req), sentHeader(req, flagsOf(req), seq));
    });
  }

  /** A message answering request `i` of `chunk` (fenced: usually its refusal). */
  reply(chunk: LotChunk, i: number, msg: NlMessage): void {
    if (chunk.isSettled(i)) return this.host.stray(msg, 'unknown-seq');
    switch (msg.header.type) {
      case NLMSG_NOOP: return;
      case NLMSG_OVERRUN: return this.settleInChunk(chunk, i, new NetlinkOverrunError(opOf(chunk.request(i))));
      case NLMSG_ERROR:
      case NLMSG_DONE: {
        const err = endError(msg, () => {
          const req = chunk.request(i);
          return { op: opOf(req), header: sentHeader(req, flagsOf(req), chunk.seq + i) };
        });
        return this.settleInChunk(chunk, i, err ?? chunk.replies?.get(i) ?? NO_REPLIES);
      }
      default: {
        const map = chunk.replies ??= new Map();
        const list = map.get(i);
        if (list) list.push(msg);
        else map.set(i, [msg]);
      }
    }
  }

  /** The chunks in flight (taken before ENOBUFS clears the fences). */
  chunksInFlight(): LotChunk[] {
    return [...this.lots].flatMap((lot) => [...lot.chunks]);
  }

  /** ENOBUFS: the replies to `chunks` may be lost; their open requests fail with NetlinkOverrunError. */
  overrun(chunks: readonly LotChunk[]): void {
    for (const chunk of chunks) this.endChunk(chunk, (index) => new NetlinkOverrunError(chunk.lot.opAt(index)));
  }

  /** The engine closed: every open request of every lot fails with RequestCancelledError. */
  close(): void {
    for (const lot of [...this.lots]) this.endLot(lot, (i) => new RequestCancelledError(lot.opAt(i)));
  }

  /** Settle request `i` of `chunk` (before its fence), once. */
  private settleInChunk(chunk: LotChunk, i: number, outcome: Error | NlMessage[]): void {
    if (chunk.isSettled(i)) return;
    (chunk.settled ??= new Uint8Array(chunk.count))[i] = 1;
    this.settleInLot(chunk.lot, chunk.start + i, outcome);
    this.inFlight -= 1;
  }

  private settleInLot(lot: Lot, index: number, outcome: Error | NlMessage[]): void {
    lot.unsettled -= 1;
    if (lot.unsettled === 0) {
      if (lot.timer) clearTimeout(lot.timer);
      this.lots.delete(lot);
    }
    this.host.settled(outcome);
    lot.settle.settle(index, outcome);
  }

  /**
   * Take `chunk` out of flight and settle its open requests: `outcome(index in the lot, seq)`, or
   * their replies so far when it gives none.
   */
  private endChunk(chunk: LotChunk, outcome: (index: number, seq: number) => Error | undefined): void {
    if (this.host.fences.get(chunk.fenceSeq) === chunk) this.host.fences.delete(chunk.fenceSeq);
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
    this.queued -= length - lot.next;
    while (lot.next < length) {
      const index = lot.next++;
      this.settleInLot(lot, index, error(index));
    }
  }
}

/**
 * The timeout of `reqs` as one lot, or undefined when they cannot be one: each must be fenced,
 * not a dump, with a valid type, and all must share one timeout.
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
