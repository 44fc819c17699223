// layer: tests (unit tier)
// job: the check scheduler on a fake clock: delay_loop, retries, warmup, jitter bounds, the in-flight bound, deadlines, overdue detection, remove/stop.
import test from 'ava';
import { CheckScheduler, type AttemptReport, type OverdueReport } from '../../src/check/scheduler.js';
import type { CheckTiming } from '../../src/check/types.js';
import { FAIL, FakeClock, OK, ScriptedProbe, seededRandom, type Step } from '../helpers/check-clock.js';

const timing: CheckTiming = { delayLoopMs: 6000, retry: 2, delayBeforeRetryMs: 1000, warmupMs: 0 };

function setup(steps: Step[], options: { random?: () => number; jitterRatio?: number; maxInFlight?: number; timing?: Partial<CheckTiming>; attemptTimeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, timerSlackMs: 0, random: options.random ?? (() => 0), jitterRatio: options.jitterRatio ?? 0, ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}) });
  const probe = new ScriptedProbe(clock, steps);
  const reports: AttemptReport[] = [];
  const overdue: OverdueReport[] = [];
  const recovered: OverdueReport[] = [];
  scheduler.on('overdue', (r) => overdue.push(r));
  scheduler.on('recovered', (r) => recovered.push(r));
  const add = (id = 'a', p = probe): void => scheduler.add(id, { timing: { ...timing, ...options.timing }, attemptTimeoutMs: options.attemptTimeoutMs ?? 2000, probe: p.probe }, (r) => reports.push(r));
  return { clock, scheduler, probe, reports, overdue, recovered, add };
}

test('successes: first at once (no warmup, no jitter), then every delay_loop after the previous ends', async (t) => {
  const s = setup([{ result: OK, afterMs: 100 }]);
  s.add();
  await s.clock.advance(20_000);
  t.deepEqual(s.probe.calls, [0, 6100, 12200, 18300]);
  t.deepEqual(s.reports.map((r) => r.verdict?.up ?? '-'), [true, '-', '-', '-']);
  await s.scheduler.stop();
});

test('retry and delay_before_retry: failures 1 s apart, DOWN after the last retry, then every delay_loop', async (t) => {
  const s = setup([FAIL]);
  s.add();
  await s.clock.advance(15_000);
  t.deepEqual(s.probe.calls, [0, 1000, 2000, 8000, 14000]);
  t.deepEqual(s.reports.map((r) => [r.attempt, r.retrying, r.verdict?.up ?? '-']), [[1, true, '-'], [2, true, '-'], [3, false, false], [1, false, '-'], [1, false, '-']]);
  await s.scheduler.stop();
});

test('warmup: the first attempt is at random × warmup', async (t) => {
  const s = setup([OK], { random: () => 0.25, timing: { warmupMs: 8000 } });
  s.add();
  await s.clock.advance(1999);
  t.deepEqual(s.probe.calls, []);
  await s.clock.advance(1);
  t.deepEqual(s.probe.calls, [2000]);
  await s.scheduler.stop();
});

test('warmup: 500 checks all start within [0, warmup), spread over it', async (t) => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, timerSlackMs: 0, random: seededRandom(7), maxInFlight: 1000 });
  const starts: number[] = [];
  for (let i = 0; i < 500; i++) {
    scheduler.add(`c${i}`, { timing: { ...timing, warmupMs: 5000 }, attemptTimeoutMs: 100, probe: async () => { starts.push(clock.now()); return OK; } }, () => undefined);
  }
  await clock.advance(5000);
  t.is(starts.length, 500);
  t.true(starts.every((s) => s >= 0 && s < 5000));
  const quarters = [0, 1, 2, 3].map((q) => starts.filter((s) => s >= q * 1250 && s < (q + 1) * 1250).length);
  t.true(quarters.every((n) => n > 80), `per quarter: ${quarters.join(', ')}`);
  await scheduler.stop();
});

test('jitter: without warmup the first attempts spread over [0, ratio × delay_loop); each period within ±ratio/2', async (t) => {
  for (const r of [0, 0.999999]) {
    const s = setup([OK], { random: () => r, jitterRatio: 0.2 });
    s.add();
    await s.clock.advance(30_000);
    const first = s.probe.calls[0]!;
    t.true(first >= 0 && first < 1200, `first ${first}`);
    const gaps = s.probe.calls.slice(1).map((c, i) => c - s.probe.calls[i]!);
    t.true(gaps.length >= 3);
    t.true(gaps.every((g) => g >= 6000 * 0.9 && g < 6000 * 1.1), `gaps ${gaps.join(', ')}`);
    await s.scheduler.stop();
  }
});

test('jitter never applies to delay_before_retry', async (t) => {
  const s = setup([FAIL], { random: () => 0.999, jitterRatio: 0.5 });
  s.add();
  await s.clock.advance(7000);
  const first = s.probe.calls[0]!;
  t.deepEqual(s.probe.calls.slice(0, 3).map((c) => c - first), [0, 1000, 2000]);
  await s.scheduler.stop();
});

test('in-flight bound: 10 slow checks, maxInFlight 3 → never more than 3 at once, every check runs', async (t) => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, timerSlackMs: 0, random: () => 0, jitterRatio: 0, maxInFlight: 3 });
  const probe = new ScriptedProbe(clock, [{ result: OK, afterMs: 500 }]);
  for (let i = 0; i < 10; i++) scheduler.add(`c${i}`, { timing, attemptTimeoutMs: 2000, probe: probe.probe }, () => undefined);
  await clock.advance(1000);
  t.is(probe.maxInFlight, 3);
  t.is(scheduler.stats().inFlight, 3, 'three started at 1000; the tenth waits');
  t.is(scheduler.stats().queued, 1);
  await clock.advance(1000);
  t.is(probe.calls.length, 10);
  t.deepEqual(probe.calls, [0, 0, 0, 500, 500, 500, 1000, 1000, 1000, 1500]);
  t.is(scheduler.stats().maxInFlightSeen, 3);
  t.is(scheduler.stats().maxStartLatenessMs, 1500);
  await scheduler.stop();
});

test('deadline: an attempt still running after attemptTimeoutMs is aborted with reason "deadline"', async (t) => {
  const s = setup(['until-abort'], { attemptTimeoutMs: 2500 });
  s.add();
  await s.clock.advance(2600);
  t.deepEqual(s.probe.aborts, [{ at: 2500, reason: 'deadline' }]);
  t.is(s.reports[0]?.result.ok, false);
  t.is(s.reports[0]?.result.ok === false ? s.reports[0].result.reason : '', 'deadline');
  await s.clock.advance(1000);
  t.is(s.probe.calls[1], 3500, 'retried delay_before_retry after the aborted attempt ended');
  await s.scheduler.stop();
});

test('overdue: a probe that ignores its deadline is reported once, at due + max(delay_loop, timeout) + grace, and recovers', async (t) => {
  const s = setup(['hang', OK]);
  s.add();
  await s.clock.advance(6999);
  t.deepEqual(s.overdue, []);
  t.false(s.scheduler.status('a')!.overdue);
  await s.clock.advance(2);
  t.deepEqual(s.overdue.map((o) => [o.id, o.phase, o.dueAt]), [['a', 'running', 0]]);
  t.true(s.scheduler.status('a')!.overdue);
  t.is(s.scheduler.stats().overdueNow, 1);
  await s.clock.advance(60_000);
  t.is(s.overdue.length, 1, 'reported once per episode');
  s.probe.releaseHung();
  await s.clock.advance(1);
  t.is(s.recovered.length, 1);
  t.false(s.scheduler.status('a')!.overdue);
  t.is(s.scheduler.stats().overdueEvents, 1);
  await s.scheduler.stop();
});

test('overdue: a check starved by the in-flight bound is reported while queued', async (t) => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, timerSlackMs: 0, random: () => 0, jitterRatio: 0, maxInFlight: 1, overdueGraceMs: 500 });
  const hung = new ScriptedProbe(clock, ['hang']);
  const fine = new ScriptedProbe(clock, [OK]);
  const overdue: OverdueReport[] = [];
  scheduler.on('overdue', (o) => overdue.push(o));
  scheduler.add('hung', { timing, attemptTimeoutMs: 1000, probe: hung.probe }, () => undefined);
  scheduler.add('starved', { timing, attemptTimeoutMs: 1000, probe: fine.probe }, () => undefined);
  await clock.advance(6600);
  t.deepEqual(overdue.map((o) => [o.id, o.phase]).sort(), [['hung', 'running'], ['starved', 'queued']]);
  t.deepEqual(fine.calls, []);
  hung.releaseHung();
  await clock.advance(1);
  t.deepEqual(fine.calls, [6600], 'started as soon as the slot was free');
  await scheduler.stop();
});

test('a probe that throws or rejects is a failure, not a crash', async (t) => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, timerSlackMs: 0, random: () => 0 });
  const reports: AttemptReport[] = [];
  scheduler.add('throws', { timing, attemptTimeoutMs: 100, probe: () => { throw new Error('boom'); } }, (r) => reports.push(r));
  scheduler.add('rejects', { timing, attemptTimeoutMs: 100, probe: () => Promise.reject(new Error('bang')) }, (r) => reports.push(r));
  await clock.advance(10);
  t.deepEqual(reports.map((r) => [r.id, r.result.ok ? '' : r.result.message]).sort(), [['rejects', 'checker threw: bang'], ['throws', 'checker threw: boom']]);
  await scheduler.stop();
});

test('remove aborts the attempt in flight and drops its result; stop leaves no timer', async (t) => {
  const s = setup([{ result: OK, afterMs: 300 }]);
  s.add('a');
  s.add('b');
  await s.clock.advance(100);
  t.true(s.scheduler.remove('a'));
  t.false(s.scheduler.has('a'));
  await s.clock.advance(1000);
  t.deepEqual(s.reports.map((r) => r.id), ['b']);
  t.deepEqual(s.probe.aborts.map((a) => a.reason), ['aborted']);
  await s.scheduler.stop();
  t.is(s.clock.pendingTimers, 0);
  t.throws(() => s.add('c'), { message: 'the check scheduler is stopped' });
});

test('a duplicate id is refused', (t) => {
  const s = setup([OK]);
  s.add('a');
  t.throws(() => s.add('a'), { message: 'check a is already scheduled' });
  void s.scheduler.stop();
});

test('timer slack: checks due close together start in one wake-up, late by at most the slack, never early', async (t) => {
  const clock = new FakeClock();
  const fractions = [0, 0.05, 0.5];
  const scheduler = new CheckScheduler({ clock, random: () => fractions.shift() ?? 0, jitterRatio: 0, timerSlackMs: 10 });
  const starts: [string, number][] = [];
  for (const id of ['a', 'b', 'c']) {
    scheduler.add(id, { timing: { ...timing, warmupMs: 100 }, attemptTimeoutMs: 100, probe: async () => { starts.push([id, clock.now()]); return OK; } }, () => undefined);
  }
  await clock.advance(9);
  t.deepEqual(starts, [], 'a was due at 0 but waits for the slack');
  await clock.advance(100);
  t.deepEqual(starts, [['a', 10], ['b', 10], ['c', 60]], 'a and b (due 0 and 5) in one wake-up; c (due 50) at 60');
  await scheduler.stop();
});

test('hold: no attempt starts while held (the one in flight finishes); the due one starts at the release; holds nest', async (t) => {
  const s = setup([{ result: OK, afterMs: 100 }]);
  s.add();
  await s.clock.advance(50); // the first attempt is in flight
  const release = s.scheduler.hold();
  const inner = s.scheduler.hold();
  t.true(s.scheduler.held);
  await s.clock.advance(9000); // due at 6100, held
  t.deepEqual(s.probe.calls, [0], 'the attempt in flight finished; none started while held');
  t.is(s.reports.length, 1);
  release();
  release(); // twice: harmless
  await s.clock.advance(1000);
  t.deepEqual(s.probe.calls, [0], 'still held by the inner hold');
  inner();
  t.false(s.scheduler.held);
  t.deepEqual(s.probe.calls, [0, 10_050], 'the due check starts at the release');
  await s.clock.advance(6200);
  t.deepEqual(s.probe.calls, [0, 10_050, 16_150], 'then every delay_loop after it ends, as before');
  await s.scheduler.stop();
});

test('hold: a check held past its limit is reported overdue, and recovered once it runs', async (t) => {
  const s = setup([{ result: OK, afterMs: 100 }]);
  s.add();
  await s.clock.advance(200);
  const release = s.scheduler.hold();
  await s.clock.advance(15_000); // due at 6100; limit max(6000, 2000) + 1000 grace
  t.is(s.overdue.length, 1);
  release();
  await s.clock.advance(200);
  t.is(s.recovered.length, 1);
  await s.scheduler.stop();
});
