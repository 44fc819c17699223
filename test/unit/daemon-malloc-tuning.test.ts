// layer: tests (unit tier, no privileges)
// job: the arena limit (left to MALLOC_ARENA_MAX when set); MallocTrimmer: one trim per burst of work, after a quiet period or at most maxWaitMs into a busy one, its count and cost; the addon's malloc_trim and mallinfo2 on this process; the daemon's memory report.
import test from 'ava';
import { DAEMON_MALLOC_ARENAS, limitMallocArenas, MallocTrimmer } from '../../src/daemon/malloc-tuning.js';
import { memoryReport, threadHeap } from '../../src/daemon/memory.js';
import { binding } from '../../src/native/binding.js';
import { mallocArenaMax, mallocInfo, mallocTrim } from '../../src/native/malloc.js';

/** A fake clock with timers: `advance(ms)` runs the timers that fall due, in order. */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => { const id = next++; timers.set(id, { at: now + ms, fn }); return { id, unref: () => undefined }; },
    clearTimer: (t: unknown) => { timers.delete((t as { id: number }).id); },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}

test('a burst of pokes trims once, quietMs after the last', (t) => {
  const clock = fakeTimers();
  const trims: number[] = [];
  const trimmer = new MallocTrimmer({ quietMs: 2000, maxWaitMs: 30_000, trim: () => { trims.push(clock.now()); return true; }, ...clock });
  for (let i = 0; i < 5; i++) { trimmer.poke(); clock.advance(500); }
  t.deepEqual(trims, [], 'no trim while the pokes come faster than quietMs');
  clock.advance(1500);
  t.deepEqual(trims, [4000], 'one trim, 2 s after the last poke (at 2000 ms)');
  clock.advance(60_000);
  t.deepEqual(trims, [4000], 'an idle daemon does nothing more');
  t.deepEqual(trimmer.stats(), { trims: 1, released: 1, totalMs: 0, maxMs: 0 });
});

test('work without a quiet pause still trims, once per maxWaitMs', (t) => {
  const clock = fakeTimers();
  const trims: number[] = [];
  const trimmer = new MallocTrimmer({ quietMs: 2000, maxWaitMs: 10_000, trim: () => { trims.push(clock.now()); return false; }, ...clock });
  for (let i = 0; i < 100; i++) { trimmer.poke(); clock.advance(250); } // 25 s of a reload every 250 ms
  t.deepEqual(trims, [10_000, 20_000], 'the first burst trims 10 s after its first poke (0 ms); the next burst starts at the next poke (10 s)');
  t.is(trimmer.stats().released, 0);
  trimmer.close();
  clock.advance(60_000);
  t.is(trims.length, 2, 'close() drops the pending trim');
  t.is(clock.pending(), 0);
});

test('the addon: malloc_trim runs, mallinfo2 reports the arenas in bytes, bad pads are refused', (t) => {
  t.throws(() => mallocTrim(-1), { instanceOf: RangeError });
  t.throws(() => mallocTrim(1.5), { instanceOf: RangeError });
  t.is(typeof mallocTrim(0), 'boolean');
  const m = mallocInfo();
  // The sanitizer pass's addon allocates through ASan, whose mallinfo2 is all zeros: no figures rather than false ones.
  if (binding().sanitizerAllocator) return void t.deepEqual(m, {}, 'no glibc figures under AddressSanitizer');
  t.true((m.arenaBytes ?? 0) > 0, 'this process has malloc arenas');
  t.true((m.inUseBytes ?? 0) > 0 && (m.inUseBytes ?? 0) <= (m.arenaBytes ?? 0), 'in use within the arenas');
});

test('the memory report: this thread\'s heap by space, the VRRP thread\'s as given, malloc', (t) => {
  const heap = threadHeap();
  t.true(heap.usedBytes > 0 && heap.usedBytes <= heap.committedBytes);
  t.true(heap.spaces.old_space!.committedBytes > 0 && heap.codeBytes > 0);
  const report = memoryReport(heap);
  t.deepEqual(Object.keys(report.heaps), ['main', 'vrrp']);
  t.true(report.rssBytes > report.heaps.main!.physicalBytes);
  t.deepEqual(Object.keys(memoryReport(undefined).heaps), ['main'], 'inline VRRP: its heap is the main thread\'s');
});

test('the arena limit is applied unless MALLOC_ARENA_MAX is in the environment; a bad limit is refused before the addon', (t) => {
  const applied: number[] = [];
  const apply = (n: number): boolean => { applied.push(n); return true; };
  t.true(limitMallocArenas({}, apply));
  t.false(limitMallocArenas({ MALLOC_ARENA_MAX: '8' }, apply), 'glibc\'s own variable wins');
  t.deepEqual(applied, [DAEMON_MALLOC_ARENAS]);
  const native = { mallocArenaMax: (n: number) => { applied.push(n); return true; } };
  for (const bad of [0, -1, 1.5]) t.throws(() => mallocArenaMax(bad, native), { instanceOf: RangeError });
  t.true(mallocArenaMax(64, native));
  t.deepEqual(applied, [DAEMON_MALLOC_ARENAS, 64]);
});
