// layer: tests (unit)
// job: eventStream: events in order from the call on, buffered while nobody reads, ended by 'close' or an abort, listeners removed.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { eventStream } from '../../src/event-stream.js';

test('events in order, including those emitted before the first read; ends after the buffer on close; listeners removed', async (t) => {
  const e = new EventEmitter();
  e.emit('a', 0); // before the call: not seen
  const stream = eventStream(e, ['a', 'b'], (name, arg) => `${name}${String(arg)}`);
  e.emit('a', 1);
  e.emit('b', 2);
  e.emit('c', 3); // not asked for
  setTimeout(() => { e.emit('a', 4); e.emit('close'); e.emit('a', 5); }, 5);
  const seen: string[] = [];
  for await (const v of stream) seen.push(v);
  t.deepEqual(seen, ['a1', 'b2', 'a4']);
  t.is(e.listenerCount('a') + e.listenerCount('b') + e.listenerCount('close'), 0);
});

test('an abort ends the iteration; a closed emitter gives nothing', async (t) => {
  const e = new EventEmitter();
  const abort = new AbortController();
  const stream = eventStream(e, ['a'], (_n, arg) => arg, { signal: abort.signal });
  setTimeout(() => abort.abort(), 5);
  const seen: unknown[] = [];
  for await (const v of stream) seen.push(v);
  t.deepEqual(seen, []);
  t.is(e.listenerCount('a'), 0);
  const closed: unknown[] = [];
  for await (const v of eventStream(e, ['a'], (_n, arg) => arg, { closed: true })) closed.push(v);
  t.deepEqual(closed, []);
});
