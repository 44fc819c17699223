// layer: tests (unit)
// job: the sync-stream tracker with a fake clock: expiry from the message's timeout, state transitions, threshold crossings, eviction, the expiry wheel.
import test from 'ava';
import { ConnTracker, ExpiryWheel, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_TEMPLATE, type SyncConn, type SyncMessage, type ThresholdCrossing } from '../../src/conns/index.js';
import { connsFor } from '../helpers/conns-fixtures.js';

/** A clock the test moves by hand. */
function fakeClock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const message = (conns: SyncConn[]): SyncMessage => ({ version: 1, syncId: 0, conns, rejected: [], skippedOptions: 0 });
const tcp = (over: Partial<SyncConn> = {}): SyncConn => ({
  family: 'inet', protocol: 6, flags: 0, state: 1, clientAddress: '198.18.0.1', clientPort: 40000, virtualAddress: '198.51.100.1', virtualPort: 80,
  destAddress: '10.0.0.1', destPort: 8080, fwmark: 0, timeoutSec: 900, ...over,
});

test('an entry lives for its message timeout after receipt, and a refresh starts the timeout again', (t) => {
  const clock = fakeClock();
  const tracker = new ConnTracker({ clock: clock.now });
  tracker.apply(message([tcp({ timeoutSec: 10 })]));
  t.deepEqual(tracker.client('198.18.0.1'), { count: 1, total: 1 });
  clock.advance(9_000);
  t.is(tracker.expire(), 0);
  tracker.apply(message([tcp({ timeoutSec: 10 })])); // refreshed at 9 s: now due at 19 s
  clock.advance(9_500);
  t.is(tracker.expire(), 0, 'still there at 18.5 s');
  clock.advance(1_000);
  t.is(tracker.expire(), 1, 'gone by 19.5 s');
  t.is(tracker.client('198.18.0.1'), undefined);
  t.like(tracker.counters, { created: 1, updated: 1, expired: 1 });
});

test('state transitions move a connection in and out of the ESTABLISHED count; other states still count in the total', (t) => {
  const clock = fakeClock();
  const tracker = new ConnTracker({ clock: clock.now });
  tracker.apply(message([tcp({ state: 3, timeoutSec: 60 })])); // SYN_RECV
  t.deepEqual(tracker.client('198.18.0.1'), { count: 0, total: 1 });
  tracker.apply(message([tcp({ state: 1 })])); // ESTABLISHED
  t.deepEqual(tracker.client('198.18.0.1'), { count: 1, total: 1 });
  tracker.apply(message([tcp({ state: 4, timeoutSec: 120 })])); // FIN_WAIT
  t.deepEqual(tracker.client('198.18.0.1'), { count: 0, total: 1 });
  t.deepEqual(tracker.byState(), { FIN_WAIT: 1 });
  tracker.apply(message([tcp({ state: 5, timeoutSec: 120 })])); // TIME_WAIT
  clock.advance(120_000);
  t.deepEqual(tracker.byState(), {});
  t.is(tracker.clients, 0);
});

test('v0 messages (timeout 0) get the kernel default for the state: TIME_WAIT 120 s, ESTABLISHED 900 s, templates 180 s', (t) => {
  const clock = fakeClock();
  const tracker = new ConnTracker({ clock: clock.now });
  tracker.apply(message([tcp({ timeoutSec: 0, state: 5 }), tcp({ timeoutSec: 0, clientPort: 2 }), tcp({ timeoutSec: 0, clientPort: 0, flags: IP_VS_CONN_F_TEMPLATE })]));
  t.is(tracker.size, 3);
  clock.advance(119_999);
  t.is(tracker.expire(), 0);
  clock.advance(1);
  t.is(tracker.expire(), 1, 'TIME_WAIT at 120 s');
  clock.advance(60_000);
  t.is(tracker.expire(), 1, 'the template at 180 s');
  clock.advance(720_000);
  t.is(tracker.expire(), 1, 'ESTABLISHED at 900 s');
  t.is(tracker.size, 0);
});

test('threshold edges: "over" fires when a client reaches threshold + 1, "under" when it falls back to the threshold; each once', (t) => {
  const clock = fakeClock();
  const tracker = new ConnTracker({ clock: clock.now, threshold: 3 });
  const events: string[] = [];
  tracker.on('over', (c: ThresholdCrossing) => events.push(`over ${c.address} ${c.count}`));
  tracker.on('under', (c: ThresholdCrossing) => events.push(`under ${c.address} ${c.count}`));
  const conns = connsFor([{ address: '198.18.0.9', states: { ESTABLISHED: 5 } }]);
  for (const c of conns.slice(0, 3)) tracker.update(c);
  t.deepEqual(events, [], 'at the threshold: nothing');
  t.deepEqual(tracker.overThreshold(), []);
  tracker.update(conns[3] as SyncConn);
  tracker.update(conns[4] as SyncConn);
  t.deepEqual(events, ['over 198.18.0.9 4']);
  t.deepEqual(tracker.overThreshold().map((c) => [c.address, c.count]), [['198.18.0.9', 5]]);
  tracker.update({ ...(conns[0] as SyncConn), state: 5 });
  t.deepEqual(events, ['over 198.18.0.9 4']);
  tracker.update({ ...(conns[1] as SyncConn), state: 5 });
  t.deepEqual(events, ['over 198.18.0.9 4', 'under 198.18.0.9 3']);
  t.deepEqual(tracker.overThreshold(), []);
  clock.advance(900_001);
  tracker.expire();
  t.deepEqual(events, ['over 198.18.0.9 4', 'under 198.18.0.9 3'], 'expiry below the threshold fires nothing more');
});

test('templates count in the total but never as ESTABLISHED; the key separates template and connection', (t) => {
  const tracker = new ConnTracker({ clock: fakeClock().now });
  tracker.apply(message([tcp({ clientPort: 0 }), tcp({ clientPort: 0, flags: IP_VS_CONN_F_TEMPLATE, state: 1 })]));
  t.is(tracker.size, 2);
  t.deepEqual(tracker.client('198.18.0.1'), { count: 1, total: 2 });
  t.deepEqual(tracker.byState(), { ESTABLISHED: 1, ASSURED: 1 });
});

test('an inactive entry for another real server is the old connection\'s expiry notice and is ignored, as the kernel does', (t) => {
  const tracker = new ConnTracker({ clock: fakeClock().now });
  tracker.update(tcp({ destAddress: '10.0.0.2' }));
  tracker.update(tcp({ destAddress: '10.0.0.1', state: 5, flags: IP_VS_CONN_F_INACTIVE }));
  t.deepEqual(tracker.byState(), { ESTABLISHED: 1 });
  t.is(tracker.counters.staleIgnored, 1);
  tracker.update(tcp({ destAddress: '10.0.0.3', state: 4 }));
  t.deepEqual(tracker.byState(), { FIN_WAIT: 1 }, 'an active one for another server replaces it');
});

test('the memory bound evicts the least recently updated entry and counts it', (t) => {
  const clock = fakeClock();
  const tracker = new ConnTracker({ clock: clock.now, maxEntries: 3 });
  for (let p = 1; p <= 3; p++) tracker.update(tcp({ clientPort: p }));
  tracker.update(tcp({ clientPort: 1, state: 1 })); // refresh port 1: port 2 is now the oldest
  tracker.update(tcp({ clientPort: 4 }));
  t.is(tracker.size, 3);
  t.is(tracker.counters.evicted, 1);
  tracker.update(tcp({ clientPort: 2 }));
  t.is(tracker.counters.created, 5, 'port 2 came back as a new entry');
  t.is(tracker.counters.evicted, 2);
  t.deepEqual(tracker.client('198.18.0.1'), { count: 3, total: 3 });
});

test('per service: one client over the threshold on one service only', (t) => {
  const tracker = new ConnTracker({ clock: fakeClock().now, threshold: 2, perService: true });
  const a = connsFor([{ address: '198.18.0.5', states: { ESTABLISHED: 2 } }], { virtualPort: 80 });
  const b = connsFor([{ address: '198.18.0.5', states: { ESTABLISHED: 3 } }], { virtualPort: 443, firstPort: 5000 });
  tracker.apply(message([...a, ...b]));
  t.deepEqual(tracker.overThreshold().map((c) => [c.address, c.count, c.service?.port]), [['198.18.0.5', 3, 443]]);
  t.deepEqual(tracker.client('198.18.0.5'), { count: 5, total: 5 });
});

test('top(n) and all(): highest count first, then total; 10,000 clients', (t) => {
  const tracker = new ConnTracker({ clock: fakeClock().now });
  const conns: SyncConn[] = [];
  for (let i = 0; i < 10_000; i++) {
    const address = `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    conns.push(...connsFor([{ address, states: { ESTABLISHED: i % 7, SYN_RECV: i % 2 } }]));
  }
  tracker.apply(message(conns));
  const top = tracker.top(5);
  t.is(top.length, 5);
  t.true(top.every((c) => c.count === 6 && c.total === 7));
  const all = tracker.all();
  t.is(all.length, 10_000 - Math.ceil(10_000 / 14));
  for (let i = 1; i < all.length; i++) t.true((all[i - 1] as { count: number }).count >= (all[i] as { count: number }).count);
  t.deepEqual(tracker.top(3), all.slice(0, 3));
});

test('expiry wheel: never early, at most one second late, survives long clock jumps', (t) => {
  const wheel = new ExpiryWheel<{ wheelSecond: number; id: number }>(0);
  const items = Array.from({ length: 5 }, (_, id) => ({ wheelSecond: -1, id }));
  const expired: number[] = [];
  items.forEach((item, i) => wheel.schedule(item, 1500 + i * 1000)); // due 1.5 s, 2.5 s, ...
  wheel.advance(1499, (i) => expired.push(i.id));
  t.deepEqual(expired, []);
  wheel.advance(2000, (i) => expired.push(i.id));
  t.deepEqual(expired, [0]);
  wheel.schedule(items[1] as { wheelSecond: number; id: number }, 10_000); // moved later
  wheel.remove(items[2] as { wheelSecond: number; id: number });
  wheel.advance(86_400_000, (i) => expired.push(i.id)); // a day later, in one jump
  t.deepEqual(expired, [0, 3, 4, 1]);
  t.is(wheel.size, 0);
});
