// layer: tests (unit tier)
// job: probe sharing: identical checks run once and feed every subscriber; any differing parameter is a separate probe.
import test from 'ava';
import { probeFor, scheduledCheck } from '../../src/check/probe.js';
import type { AttemptReport } from '../../src/check/scheduler.js';
import { CheckScheduler } from '../../src/check/scheduler.js';
import { SharedChecks, checkKey } from '../../src/check/share.js';
import type { CheckConfig } from '../../src/check/types.js';
import { validateCheck } from '../../src/check/validate.js';
import { FAIL, FakeClock, OK, ScriptedProbe } from '../helpers/check-clock.js';

const tcp = (extra: object = {}): CheckConfig => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, delayLoopMs: 6000, ...extra }).config;

test('the key ignores property order and equal address spellings', (t) => {
  const a = validateCheck({ kind: 'TCP_CHECK', connectPort: 80, connectIp: '2001:db8:0::2' }).config;
  const b = validateCheck({ connectIp: '2001:db8::2', kind: 'TCP_CHECK', connectPort: 80 }).config;
  t.is(checkKey(a), checkKey(b));
  t.not(checkKey(tcp()), checkKey(tcp({ connectTimeoutMs: 3000 })));
  t.not(checkKey(tcp()), checkKey(tcp({ delayLoopMs: 3000 })));
  t.not(checkKey(tcp()), checkKey(tcp({ connectPort: 81 })));
});

test('alpha is not part of the key: it is the subscriber’s starting assumption, not the probe', (t) => {
  t.is(checkKey(validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, alpha: true }).config),
    checkKey(validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80 }).config));
});

function setup() {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, timerSlackMs: 0, random: () => 0, jitterRatio: 0 });
  const probes = new Map<string, ScriptedProbe>();
  const shared = new SharedChecks(scheduler, {
    toScheduled: (config) => {
      const p = new ScriptedProbe(clock, [OK, OK, FAIL]);
      probes.set(checkKey(config), p);
      return scheduledCheck(config, p.probe);
    },
  });
  return { clock, scheduler, shared, probes };
}

test('three virtual servers checking one real server the same way: one probe, three listeners fed alike', async (t) => {
  const s = setup();
  const got: AttemptReport[][] = [[], [], []];
  const subs = got.map((list) => s.shared.subscribe(tcp(), (r) => list.push(r)));
  t.is(s.shared.size, 1);
  t.is(s.shared.subscribers(subs[0]!.key), 3);
  await s.clock.advance(12_500);
  const probe = s.probes.get(subs[0]!.key)!;
  t.deepEqual(probe.calls, [0, 6000, 12000]);
  for (const list of got) t.deepEqual(list.map((r) => r.result.ok), [true, true, false]);
  await s.scheduler.stop();
});

test('a differing parameter is a second probe', async (t) => {
  const s = setup();
  s.shared.subscribe(tcp(), () => undefined);
  s.shared.subscribe(tcp({ connectTimeoutMs: 1000 }), () => undefined);
  t.is(s.shared.size, 2);
  await s.clock.advance(10);
  t.deepEqual([...s.probes.values()].map((p) => p.calls.length), [1, 1]);
  await s.scheduler.stop();
});

test('the check stops with its last subscriber; a late subscriber starts from the verdict already made', async (t) => {
  const s = setup();
  const first = s.shared.subscribe(tcp(), () => undefined);
  await s.clock.advance(10);
  const late = s.shared.subscribe(tcp(), () => undefined);
  t.deepEqual(late.state, { up: true, retryIt: 0, weight: undefined });
  first.unsubscribe();
  first.unsubscribe(); // idempotent: must not remove the late subscriber's check
  t.true(s.scheduler.has(late.key));
  late.unsubscribe();
  t.false(s.scheduler.has(late.key));
  t.is(s.shared.size, 0);
  await s.scheduler.stop();
});

test('probeFor dispatches on the kind', (t) => {
  t.is(typeof probeFor(tcp()), 'function');
  t.is(scheduledCheck(tcp()).attemptTimeoutMs, 5000, 'TCP_CHECK: connect_timeout bounds the attempt');
  const misc = validateCheck({ kind: 'MISC_CHECK', argv: ['/bin/true'], timeoutMs: 3000 }).config;
  t.is(scheduledCheck(misc).attemptTimeoutMs, 3500, 'MISC_CHECK: misc_timeout plus the backstop');
});
