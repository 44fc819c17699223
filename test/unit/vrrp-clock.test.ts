// layer: tests (unit tier)
// job: the system clock's timers: precise ones never before their deadline (their `prepare` just before), none synchronously, all cancellable.
import test from 'ava';
import { systemClock } from '../../src/vrrp/clock.js';

/** A promise and the function that settles it: the test awaits the event itself, not a guess at its time. */
function event(): { fired: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => { fire = resolve; });
  return { fired, fire };
}

/** Resolves when a timer on the same clock `ms` from now fires: every earlier deadline has passed by then. */
function after(ms: number, precise = false): Promise<void> {
  const e = event();
  systemClock.setTimer(systemClock.now() + ms, e.fire, precise);
  return e.fired;
}

test('a precise timer fires once, not before its deadline; no timer fires synchronously, even when already due', async (t) => {
  const fired: number[] = [];
  const all = event();
  const deadlines = [5, 0.4, 12.3].map((d) => systemClock.now() + d);
  for (const at of deadlines) systemClock.setTimer(at, () => { if (fired.push(systemClock.now() - at) === 3) all.fire(); }, true);
  let past = false;
  const pastFired = event();
  systemClock.setTimer(systemClock.now() - 10, () => { past = true; pastFired.fire(); });
  t.false(past, 'a past deadline still waits for the caller to store the handle');
  await Promise.all([all.fired, pastFired.fired]);
  t.true(past);
  await after(20, true); // a later precise timer: a duplicate firing of any of the three would have come by now
  t.is(fired.length, 3);
  for (const lateness of fired) t.true(lateness >= 0, `fired ${-lateness} ms early`);
});

test('clearTimer cancels plain and precise timers', async (t) => {
  let fired = 0;
  const coarse = systemClock.setTimer(systemClock.now() + 50, () => fired++);
  const fine = systemClock.setTimer(systemClock.now() + 1, () => fired++, true);
  systemClock.clearTimer(fine);
  await after(10, true); // past the precise timer's deadline
  systemClock.clearTimer(coarse);
  await after(60); // past the plain timer's deadline
  t.is(fired, 0);
});

test('systemClock reads a CLOCK_MONOTONIC time (a kernel receive timestamp) on its own scale', (t) => {
  // The clock's own read is bracketed: a preemption between reads widens the bracket, not the error.
  const before = systemClock.now();
  const ns = Number(process.hrtime.bigint());
  const after = systemClock.now();
  const converted = systemClock.fromMonotonicNs!(ns);
  t.true(converted >= before - 0.1 && converted <= after + 0.1, `${converted} not within [${before}, ${after}]`);
  t.true(Math.abs(systemClock.fromMonotonicNs!(ns + 5e6) - systemClock.fromMonotonicNs!(ns) - 5) < 1e-6);
});

test('a precise timer runs `prepare` within its last fraction of a millisecond, before `fn` and with nothing in between', async (t) => {
  const order: string[] = [];
  const at = systemClock.now() + 6;
  let preparedAt = 0;
  const fn = event();
  systemClock.setTimer(at, () => { order.push('fn'); fn.fire(); }, true, () => { preparedAt = systemClock.now(); order.push('prepare'); });
  setTimeout(() => order.push('other'), 1);
  await fn.fired;
  t.deepEqual(order, ['other', 'prepare', 'fn']);
  // Within the last millisecond (or after the deadline, when this loaded thread woke late).
  t.true(preparedAt > at - 1, `prepared ${(at - preparedAt).toFixed(3)} ms before the deadline`);
  let unused = false;
  const cancelled = systemClock.setTimer(systemClock.now() + 2, () => undefined, true, () => { unused = true; });
  systemClock.clearTimer(cancelled);
  await after(10, true);
  t.false(unused, 'a cancelled timer prepares nothing');
});
