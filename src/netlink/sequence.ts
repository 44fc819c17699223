// layer: netlink (request engine)
// job: sequence numbers: the next free one, or a run of consecutive free ones, never one still in use, wrapping at 2³²−1.
/** Where the engine's sequence numbers are in use: requests and fences in flight, and the bulk path's chunks. */
export interface SeqUse {
  /** Requests in flight by sequence number. */
  readonly requests: ReadonlyMap<number, unknown>;
  /** Fences in flight by sequence number. */
  readonly fences: ReadonlyMap<number, unknown>;
  /** Whether a chunk of the bulk path holds `seq`. */
  chunkHolds(seq: number): boolean;
  /** The highest sequence number in [start, end) that a chunk of the bulk path holds, or 0. */
  chunkLastInUse(start: number, end: number): number;
}

/** Sequence numbers of one socket's requests (1 … 2³²−1; 0 is the kernel's own). */
export class Sequences {
  private next: number;
  constructor(first: number, private readonly use: SeqUse) {
    if (!Number.isInteger(first) || first < 1 || first > 0xffffffff) throw new RangeError(`firstSeq must be in 1…2^32-1: ${first}`);
    this.next = first;
  }

  /** A free sequence number. */
  one(): number {
    const { requests, fences } = this.use;
    let seq: number;
    do {
      seq = this.next;
      this.next = seq >= 0xffffffff ? 1 : seq + 1;
    } while (requests.has(seq) || fences.has(seq) || this.use.chunkHolds(seq));
    return seq;
  }

  /** `n` consecutive free sequence numbers (n ≤ the window + 1), never wrapping inside the range. */
  range(n: number): number {
    for (;;) {
      const start = this.next + n - 1 > 0xffffffff ? 1 : this.next;
      const end = start + n; // exclusive
      this.next = end > 0xffffffff ? 1 : end;
      const clash = this.lastInUse(start, end);
      if (clash === 0) return start;
      this.next = clash >= 0xffffffff ? 1 : clash + 1; // try again past the last number in use
    }
  }

  /** The highest sequence number in [start, end) that is in use, or 0: per request and fence, or per number, whichever is fewer. */
  private lastInUse(start: number, end: number): number {
    const { requests, fences } = this.use;
    let clash = this.use.chunkLastInUse(start, end);
    if (requests.size + fences.size < end - start) {
      for (const seq of requests.keys()) if (seq >= start && seq < end && seq > clash) clash = seq;
      for (const seq of fences.keys()) if (seq >= start && seq < end && seq > clash) clash = seq;
    } else {
      for (let seq = start; seq < end; seq++) if (requests.has(seq) || fences.has(seq)) clash = seq;
    }
    return clash;
  }
}
