// layer: kernel client (IPVS connections), pure
// job: items that expire at a time, in one-second buckets: schedule, reschedule and remove in O(1), expire what is due in order of buckets.

/** What the wheel needs of an item: where it is filed. Managed by the wheel; do not set. */
export interface WheelItem {
  wheelSecond: number;
}

/**
 * A timing wheel with one bucket per second of expiry time. An item due at `atMs` goes into the
 * bucket of second ceil(atMs / 1000), so it is expired at the first `advance(nowMs)` with
 * nowMs ≥ that second — at most one second late, never early. Moving an item between buckets is
 * two Set operations; advancing visits each elapsed second once (or, after a long jump, only
 * the buckets that exist).
 */
export class ExpiryWheel<T extends WheelItem> {
  readonly #buckets = new Map<number, Set<T>>();
  /** Every second up to and including this one has been expired. */
  #cursor: number;
  #size = 0;

  constructor(nowMs: number) {
    this.#cursor = Math.floor(nowMs / 1000);
  }

  get size(): number { return this.#size; }

  /** File `item` to expire at `atMs` (moving it if it was filed already). */
  schedule(item: T, atMs: number): void {
    const second = Math.max(Math.ceil(atMs / 1000), this.#cursor + 1);
    if (this.#has(item)) {
      if (item.wheelSecond === second) return;
      this.#detach(item);
    }
    let bucket = this.#buckets.get(second);
    if (!bucket) {
      bucket = new Set();
      this.#buckets.set(second, bucket);
    }
    bucket.add(item);
    item.wheelSecond = second;
    this.#size++;
  }

  /** Take `item` off the wheel (no-op when it is not on it). */
  remove(item: T): void {
    if (this.#has(item)) this.#detach(item);
  }

  /** Remove and hand to `onExpire` every item due at or before `nowMs`, earliest bucket first. */
  advance(nowMs: number, onExpire: (item: T) => void): void {
    const target = Math.floor(nowMs / 1000);
    if (target <= this.#cursor) return;
    if (target - this.#cursor <= this.#buckets.size) {
      for (let s = this.#cursor + 1; s <= target; s++) this.#expireBucket(s, onExpire);
    } else {
      const due = [...this.#buckets.keys()].filter((s) => s <= target).sort((a, b) => a - b);
      for (const s of due) this.#expireBucket(s, onExpire);
    }
    this.#cursor = target;
  }

  #expireBucket(second: number, onExpire: (item: T) => void): void {
    const bucket = this.#buckets.get(second);
    if (!bucket) return;
    this.#buckets.delete(second);
    this.#size -= bucket.size;
    for (const item of bucket) {
      item.wheelSecond = -1;
      onExpire(item);
    }
  }

  #has(item: T): boolean {
    return item.wheelSecond >= 0 && this.#buckets.get(item.wheelSecond)?.has(item) === true;
  }

  #detach(item: T): void {
    const bucket = this.#buckets.get(item.wheelSecond);
    if (bucket?.delete(item)) {
      this.#size--;
      if (bucket.size === 0) this.#buckets.delete(item.wheelSecond);
    }
    item.wheelSecond = -1;
  }
}
