// layer: tests (unit)
// job: the soak's judgements (bench/soak-verdict.ts, bench/soak-heap.ts): failover windows around VRRP transitions, failed requests inside or outside them, flatness after the warm-up, a heap snapshot's growth.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { heapGrowth, summarizeHeapSnapshot } from '../../bench/soak-heap.js';
import { classifyFailures, failoverWindows, flatness } from '../../bench/soak-verdict.js';

/** What the heap test keeps alive: a class of its own, so that its name stands out in a snapshot. */
class SoakLeakProbe {
  constructor(readonly n: number) {}
}

const series = (values: number[], everyMs = 10_000): Array<{ atMs: number; value: number }> => values.map((value, i) => ({ atMs: i * everyMs, value }));

test('flatness: judged from the first sample after the warm-up, within the tolerance either way', (t) => {
  // Warm-up growth (50 → 100) is not judged; after it 100 … 109 stays within 10 %.
  const f = flatness(series([50, 80, 100, 104, 109, 103]), 20_000, 10);
  t.is(f.first, 100);
  t.is(f.max, 109);
  t.is(f.last, 103);
  t.is(f.samples, 4);
  t.is(Math.round(f.changePct), 3);
  t.is(Math.round(f.maxDeviationPct), 9);
  t.true(f.flat);
});

test('flatness: steady growth past the tolerance is a leak, even when the last sample dropped back', (t) => {
  const leak = flatness(series([100, 100, 104, 108, 112, 116]), 0, 10);
  t.false(leak.flat);
  t.is(Math.round(leak.changePct), 16);
  const spike = flatness(series([100, 100, 125, 100]), 0, 10);
  t.false(spike.flat, 'one sample 25 % above the first');
  t.is(spike.changePct, 0);
  const drop = flatness(series([100, 80]), 0, 10);
  t.false(drop.flat, 'a 20 % drop is not flat either');
});

test('flatness: no sample after the warm-up gives no verdict of flat', (t) => {
  const f = flatness(series([100, 100]), 60_000);
  t.is(f.samples, 0);
  t.false(f.flat);
  t.is(f.first, undefined);
});

test('failoverWindows: each transition ± the bound, overlapping ones merged, in order', (t) => {
  t.deepEqual(failoverWindows([10_000, 1_000, 12_000, 50_000], 3_000), [
    { fromMs: -2_000, toMs: 4_000 },
    { fromMs: 7_000, toMs: 15_000 },
    { fromMs: 47_000, toMs: 53_000 },
  ]);
  t.deepEqual(failoverWindows([], 3_000), []);
});

test('classifyFailures: sent inside a window (edges included) or outside every one', (t) => {
  const windows = failoverWindows([10_000, 40_000], 2_000);
  const failures = [7_999, 8_000, 10_500, 12_000, 12_001, 25_000, 39_000].map((sentMs) => ({ sentMs, what: 'timeout' }));
  const { inside, outside } = classifyFailures(failures, windows);
  t.deepEqual(inside.map((f) => f.sentMs), [8_000, 10_500, 12_000, 39_000]);
  t.deepEqual(outside.map((f) => f.sentMs), [7_999, 12_001, 25_000]);
});

test('flatness per bin: a lone sample before a collection does not fail the run, a growing median does', (t) => {
  // Six samples a minute; one of each minute's catches the heap 30 % up.
  const sawtooth = series([100, 101, 130, 99, 100, 102, 100, 131, 101, 100, 99, 100]);
  t.false(flatness(sawtooth, 0, 10).flat, 'sample by sample');
  const binned = flatness(sawtooth, 0, 10, 60_000);
  t.true(binned.flat);
  t.is(binned.samples, 2);
  t.is(binned.first, 100.5);
  const leak = series([100, 100, 100, 100, 100, 100, 106, 106, 106, 106, 106, 106, 112, 112, 112, 112, 112, 112]);
  const f = flatness(leak, 0, 10, 60_000);
  t.false(f.flat);
  t.is(f.last, 112);
});

test('heap snapshots: the kind of object a process keeps accumulating tops the growth, the retained total grows by its size', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-soak-heap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Both written before either is read: a summary is itself a heap full of objects.
  const beforeFile = v8.writeHeapSnapshot(path.join(dir, 'before.heapsnapshot'));
  const kept: SoakLeakProbe[] = [];
  for (let i = 0; i < 20_000; i++) kept.push(new SoakLeakProbe(i));
  const afterFile = v8.writeHeapSnapshot(path.join(dir, 'after.heapsnapshot'));
  const [before, after] = [summarizeHeapSnapshot(beforeFile), summarizeHeapSnapshot(afterFile)];
  const top = heapGrowth(before, after, 3);
  t.regex(top[0] ?? '', /^object:SoakLeakProbe \+20000 objects/, top.join('\n'));
  t.true(after.totalBytes - before.totalBytes > 20_000 * 16, `${after.totalBytes - before.totalBytes} bytes more`);
  t.is(kept.length, 20_000);
});
