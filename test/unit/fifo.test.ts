// layer: tests (unit)
// job: the FIFO keeps order across its storage compaction, and drains.
import test from 'ava';
import { Fifo } from '../../src/fifo.js';

test('items come out in order across compactions, interleaved with pushes', (t) => {
  const q = new Fifo<number>();
  const out: number[] = [];
  let next = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) q.push(next++);
    for (let i = 0; i < 250; i++) out.push(q.shift() as number);
  }
  t.is(q.length, next - out.length);
  t.is(q.peek(), out.length);
  out.push(...q.drain());
  t.deepEqual(out, Array.from({ length: next }, (_, i) => i));
  t.is(q.length, 0);
  t.is(q.shift(), undefined);
  t.is(q.peek(), undefined);
});
