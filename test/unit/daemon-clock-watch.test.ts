// layer: tests (unit)
// job: the wall-clock step watch: which differences between the wall and monotonic clocks are steps, the log line a step becomes, the metric it feeds, and a real step of Date.now seen by the watch.
import test from 'ava';
import { EventEmitter } from 'node:events';
import type { BalancerEmitterEvents } from '../../src/daemon/balancer.js';
import { ClockWatch, wallClockStep } from '../../src/daemon/clock-watch.js';
import { describeEvent } from '../../src/daemon/describe.js';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { BalancerMetrics } from '../../src/daemon/metrics.js';
import { sample } from '../helpers/prom-sample.js';

test('a step is the wall clock\'s change minus the monotonic clock\'s; under the threshold it is none', (t) => {
  const before = { wallMs: 1_000_000, monoMs: 500 };
  t.is(wallClockStep(before, { wallMs: 1_001_000, monoMs: 1500 }), undefined, 'both advanced 1 s');
  t.is(wallClockStep(before, { wallMs: 1_001_050, monoMs: 1500 }), undefined, '50 ms: slewing, not a step');
  t.is(wallClockStep(before, { wallMs: 1_001_000 - 3_600_000, monoMs: 1500 }), -3_600_000, 'back one hour');
  t.is(wallClockStep(before, { wallMs: 1_001_000 + 200, monoMs: 1500 }), 200, 'forward 200 ms');
  t.is(wallClockStep(before, { wallMs: 1_000_000, monoMs: 20_500 }), -20_000, 'the wall clock stood still for 20 s');
});

test('a step is one warning saying which way, how far, and that the timers are not affected', (t) => {
  const line = describeEvent({ source: 'daemon', type: 'clock-step', stepMs: -3_600_000, wallMs: Date.UTC(2026, 11, 7, 13, 0, 0) });
  t.deepEqual(line, { level: 'warn', message: 'the wall clock was stepped back 3600.0 s (to 2026-12-07T13:00:00.000Z): log times jump; VRRP and health checks run on the monotonic clock and are not affected' });
  t.regex(describeEvent({ source: 'daemon', type: 'clock-step', stepMs: 1500, wallMs: 0 }).message, /^the wall clock was stepped forward 1\.5 s/);
});

class FakeBalancer extends EventEmitter<BalancerEmitterEvents> {
  status(): Promise<BalancerStatus> {
    return Promise.resolve({ pid: 1, config: 'k.conf', startedAtMs: 0, reloads: 0, reloadFailures: 0, services: [], instances: [] });
  }
}

test('lvskit_wall_clock_steps_total counts steps by direction, from 0', async (t) => {
  const b = new FakeBalancer();
  const m = new BalancerMetrics(b, { processMetrics: false });
  t.is(sample(await m.metrics(), 'lvskit_wall_clock_steps_total', { direction: 'back' }), 0);
  b.emit('event', { source: 'daemon', type: 'clock-step', stepMs: -3_600_000, wallMs: 0 });
  const text = await m.metrics();
  t.is(sample(text, 'lvskit_wall_clock_steps_total', { direction: 'back' }), 1);
  t.is(sample(text, 'lvskit_wall_clock_steps_total', { direction: 'forward' }), 0);
});

test('the watch sees Date.now jump back and reports it once', async (t) => {
  const real = Date.now;
  const steps: number[] = [];
  const watch = new ClockWatch((stepMs) => steps.push(stepMs), 20);
  try {
    await new Promise((resolve) => setTimeout(resolve, 60));
    t.deepEqual(steps, [], 'no step while the clocks agree');
    const offset = -3_600_000;
    Date.now = () => real() + offset;
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    Date.now = real;
    watch.close();
  }
  t.is(steps.length, 1, `one step reported (${steps.join(', ')})`);
  t.true(Math.abs(steps[0]! + 3_600_000) < 100, `about one hour back: ${steps[0]}`);
});
