// layer: tests (unit tier, no privileges)
// job: the daemon's V8 heap flags: applied unless node's options give their own, and what they do to V8's allocation limit in a real node process (read from V8's own --trace-gc-verbose).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { DAEMON_V8_FLAGS, tuneV8Heap } from '../../src/daemon/heap-tuning.js';

test('the flags are set unless node\'s command line or NODE_OPTIONS already give a heap-growing flag', (t) => {
  const set: string[] = [];
  t.true(tuneV8Heap([], {}, (f) => set.push(f)));
  t.deepEqual(set, [...DAEMON_V8_FLAGS]);
  t.false(tuneV8Heap(['--optimize-for-size'], {}, (f) => set.push(f)));
  t.false(tuneV8Heap([], { NODE_OPTIONS: '--max-old-space-size=64 --heap-growing-percent=50' }, (f) => set.push(f)));
  t.false(tuneV8Heap(['--no-optimize_for_size'], {}, (f) => set.push(f)), 'either spelling, either sense');
  t.true(tuneV8Heap(['--max-old-space-size=64'], { NODE_OPTIONS: '--trace-warnings' }, (f) => set.push(f)), 'other flags do not count');
  t.is(set.length, DAEMON_V8_FLAGS.length * 2);
});

/**
 * A node process that keeps ~8 MiB live, sets (or not) the daemon's flags at run time as `lvskit
 * run` does, and forces a full collection: V8 prints the old generation's new allocation limit.
 * How far above the live size it lies is how far the committed heap may grow before the next
 * major collection.
 */
function limitHeadroomKb(tuned: boolean): number {
  const script = `
    const v8 = require('node:v8');
    ${tuned ? `for (const f of ${JSON.stringify(DAEMON_V8_FLAGS)}) v8.setFlagsFromString(f);` : ''}
    globalThis.keep = Array.from({ length: 40000 }, (_, i) => ({ s: 'x'.repeat(180) + i }));
    gc();`;
  const trace = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const limits = [...trace.matchAll(/\[HeapController\] Limit: old size: (\d+) KB, new limit: (\d+) KB/g)].map((m) => Number(m[2]) - Number(m[1]));
  if (limits.length === 0) throw new Error(`no allocation limit in V8's trace:\n${trace.slice(0, 2000)}`);
  return limits.at(-1)!;
}

test('set at run time, the flags bring V8\'s headroom above the live heap down from a factor of 4 to a step of a few MiB', (t) => {
  const [plain, tuned] = [limitHeadroomKb(false), limitHeadroomKb(true)];
  t.log(`allocation limit above the old generation's size after a full GC: ${(plain / 1024).toFixed(1)} MiB as node sets it, ${(tuned / 1024).toFixed(1)} MiB tuned`);
  t.true(plain > 20 * 1024, `untuned headroom ${plain} KB`);
  t.true(tuned < plain / 2, `tuned ${tuned} KB against ${plain} KB`);
});
