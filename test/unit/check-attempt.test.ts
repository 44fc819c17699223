// layer: tests (unit)
// job: a probe attempt's settle-once (src/check/attempt.ts): the first result wins, the timer, the abort listener and the cleanup are
//      released exactly once whichever way it ends (result, timer, abort, an abort before it began, a result given while starting).
import test from 'ava';
import { runAttempt } from '../../src/check/attempt.js';
import { AttemptAbort } from '../../src/check/signal.js';

/** An AttemptAbort that counts its listeners. */
class CountedAbort extends AttemptAbort {
  listeners = 0;
  override addEventListener(type: 'abort', listener: () => void): void { this.listeners++; super.addEventListener(type, listener); }
  override removeEventListener(type: 'abort', listener: () => void): void { this.listeners--; super.removeEventListener(type, listener); }
}

const results = { aborted: () => 'aborted', alreadyAborted: () => 'already' };

test('the first result wins; the cleanup runs once and the abort listener is removed', async (t) => {
  const signal = new CountedAbort();
  let cleanups = 0;
  const result = await runAttempt(signal, results, (a) => {
    setImmediate(() => { a.finish('first'); a.finish('second'); signal.abort('deadline'); });
    return () => { cleanups++; };
  });
  t.is(result, 'first');
  t.is(cleanups, 1);
  t.is(signal.listeners, 0);
});

test('the timer settles it with its result; re-arming replaces the timer; nothing fires after the end', async (t) => {
  const signal = new CountedAbort();
  let late = 0;
  const began = performance.now();
  const result = await runAttempt(signal, results, (a) => {
    a.arm(5, () => 'first timer');
    a.arm(30, () => 'timeout');
    return undefined;
  });
  t.is(result, 'timeout');
  t.true(performance.now() - began >= 25, 'the re-armed timer, not the first');
  const done = await runAttempt(signal, results, (a) => {
    a.arm(20, () => { late++; return 'late'; });
    a.finish('now');
  });
  t.is(done, 'now');
  await new Promise((r) => setTimeout(r, 40));
  t.is(late, 0, 'the timer was cleared when the attempt settled');
  t.is(signal.listeners, 0);
});

test('disarm clears the timer without settling', async (t) => {
  const result = await runAttempt(new AttemptAbort(), results, (a) => {
    a.arm(5, () => 'timeout');
    a.disarm();
    setTimeout(() => a.finish('later'), 20);
  });
  t.is(result, 'later');
});

test('an abort settles it with `aborted` and runs the cleanup; a signal aborted before it began never starts it', async (t) => {
  const signal = new CountedAbort();
  let cleanups = 0;
  const pending = runAttempt(signal, results, (a) => {
    t.false(a.done);
    return () => { cleanups++; };
  });
  signal.abort('aborted');
  t.is(await pending, 'aborted');
  t.is(cleanups, 1);
  let started = false;
  t.is(await runAttempt(signal, results, () => { started = true; }), 'already');
  t.false(started);
  t.is(await runAttempt(signal, { aborted: () => 'aborted' }, () => undefined), 'aborted', 'alreadyAborted defaults to aborted');
});

test('a result given while starting still runs the cleanup start returns, once', async (t) => {
  const signal = new CountedAbort();
  let cleanups = 0;
  const result = await runAttempt(signal, results, (a) => {
    a.finish('at once');
    t.true(a.done);
    return () => { cleanups++; };
  });
  t.is(result, 'at once');
  t.is(cleanups, 1);
  t.is(signal.listeners, 0);
});

test('a start that throws rejects, leaving no listener', async (t) => {
  const signal = new CountedAbort();
  await t.throwsAsync(runAttempt(signal, results, () => { throw new Error('bad options'); }), { message: 'bad options' });
  t.is(signal.listeners, 0);
});
