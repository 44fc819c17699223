// layer: behaviour (check)
// job: a binary min-heap of timed entries (earliest first, ties in insertion order), so thousands of checks share one timer.

/** An entry due at `at` (ms on the scheduler's clock). */
export interface Timed {
  at: number;
}

interface Slot<T> {
  at: number;
  seq: number;
  item: T;
}

/** Min-heap by `at`, then by insertion order. O(log n) push and pop. */
export class TimerHeap<T extends Timed> {
  private readonly slots: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.slots.length;
  }

  push(item: T): void {
    this.slots.push({ at: item.at, seq: this.seq++, item });
    this.up(this.slots.length - 1);
  }

  /** The earliest entry, without removing it. */
  peek(): T | undefined {
    return this.slots[0]?.item;
  }

  /** Remove and return the earliest entry. */
  pop(): T | undefined {
    const top = this.slots[0];
    const last = this.slots.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.slots.length > 0) {
      this.slots[0] = last;
      this.down(0);
    }
    return top.item;
  }

  clear(): void {
    this.slots.length = 0;
  }

  private less(i: number, j: number): boolean {
    const a = this.slots[i]!;
    const b = this.slots[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.slots[i]!;
    this.slots[i] = this.slots[j]!;
    this.slots[j] = a;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.slots.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
