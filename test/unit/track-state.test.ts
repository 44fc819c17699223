// layer: tests (unit)
// job: keepalived's tracking rules: rise/fall counting, init_fail, weights with reverse, weight 0 as FAULT, file values, the 1..254 clamp and the owner; the script runner on a fake clock.
import test from 'ava';
import type { ProgramOptions, ProgramOutcome } from '../../src/check/process.js';
import { Trackers } from '../../src/track/runner.js';
import { scriptRefusal } from '../../src/track/security.js';
import { counterState, initialCounter, instanceTracking, parseTrackFileValue, recordResult, useTracking, type ScriptCounter } from '../../src/track/state.js';
import type { TrackerEvent, TrackingConfig, TrackScriptSpec } from '../../src/track/types.js';
import { effectivePriority } from '../../src/vrrp/machine.js';
import { FakeClock, flush } from '../helpers/check-clock.js';
import { dir, fakePathFs, file } from '../helpers/fake-path-fs.js';

function run(spec: { rise: number; fall: number; initFail: boolean }, results: boolean[]): string[] {
  let c: ScriptCounter = initialCounter(spec);
  const states = [counterState(c, spec)];
  for (const ok of results) {
    c = recordResult(c, ok, spec);
    states.push(counterState(c, spec));
  }
  return states;
}

test('rise/fall: the first result decides; then `fall` failures in a row to fail and `rise` successes in a row to recover', (t) => {
  const spec = { rise: 2, fall: 3, initFail: false };
  t.deepEqual(run(spec, [true, false, false, true, false, false, false, true, true]),
    ['init', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'failed', 'failed', 'ok']);
  t.deepEqual(run(spec, [false, true, false, true, true]), ['init', 'failed', 'failed', 'failed', 'failed', 'ok']);
  t.deepEqual(run({ rise: 1, fall: 1, initFail: false }, [true, false, true]), ['init', 'ok', 'failed', 'ok']);
});

test('init_fail: failed from the start, until `rise` successes in a row', (t) => {
  t.deepEqual(run({ rise: 3, fall: 1, initFail: true }, [true, true, false, true, true, true]),
    ['failed', 'failed', 'failed', 'failed', 'failed', 'failed', 'ok']);
});

test('weights: positive added while OK, negative while failing, each negated by reverse; weight 0 is FAULT (reversed: while OK)', (t) => {
  const s = (state: 'ok' | 'failed' | 'init' | 'disabled') => ({ kind: 'script', state }) as const;
  const use = (weight: number, reverse = false) => ({ kind: 'script', name: 'x', weight, reverse }) as const;
  t.deepEqual(useTracking(use(10), s('ok')), { fault: false, weight: 10 });
  t.deepEqual(useTracking(use(10), s('failed')), { fault: false, weight: 0 });
  t.deepEqual(useTracking(use(-20), s('ok')), { fault: false, weight: 0 });
  t.deepEqual(useTracking(use(-20), s('failed')), { fault: false, weight: -20 });
  t.deepEqual(useTracking(use(10, true), s('ok')), { fault: false, weight: -10 });
  t.deepEqual(useTracking(use(-20, true), s('failed')), { fault: false, weight: 20 });
  t.deepEqual(useTracking(use(0), s('failed')), { fault: true, weight: 0 });
  t.deepEqual(useTracking(use(0), s('ok')), { fault: false, weight: 0 });
  t.deepEqual(useTracking(use(0, true), s('ok')), { fault: true, weight: 0 });
  t.deepEqual(useTracking(use(0), s('init')), { fault: false, weight: 0 }, 'no result yet counts nothing');
  t.deepEqual(useTracking(use(0), s('disabled')), { fault: false, weight: 0 }, 'a disabled script is not tracked (keepalived drops it)');
});

test('files: value × weight (reverse negates), at or below -254 FAULT, above 253 counted 253; weight 0: non-zero is FAULT', (t) => {
  const f = (value: number) => ({ kind: 'file', value }) as const;
  const use = (weight: number, reverse = false) => ({ kind: 'file', name: 'f', weight, reverse }) as const;
  t.deepEqual(useTracking(use(1), f(-15)), { fault: false, weight: -15 });
  t.deepEqual(useTracking(use(5, true), f(3)), { fault: false, weight: -15 });
  t.deepEqual(useTracking(use(2), f(-127)), { fault: true, weight: 0 });
  t.deepEqual(useTracking(use(10), f(100)), { fault: false, weight: 253 });
  t.deepEqual(useTracking(use(0), f(1)), { fault: true, weight: 0 });
  t.deepEqual(useTracking(use(0), f(0)), { fault: false, weight: 0 });
  t.deepEqual(useTracking(use(0, true), f(0)), { fault: true, weight: 0 });
});

test('an instance sums its trackers; the priority is clamped to 1..254 and an owner (255) keeps 255', (t) => {
  const uses = [{ kind: 'script', name: 'a', weight: -60, reverse: false }, { kind: 'file', name: 'f', weight: 1, reverse: false }] as const;
  const tr = instanceTracking(uses, (u) => (u.kind === 'script' ? { kind: 'script', state: 'failed' } : { kind: 'file', value: -50 }));
  t.deepEqual(tr, { fault: false, weight: -110 });
  t.is(effectivePriority(100, tr.weight), 1);
  t.is(effectivePriority(200, 100), 254);
  t.is(effectivePriority(255, tr.weight), 255);
});

test('a track file\'s number is read as strtol(…, 0) reads it; out of 32-bit range is refused', (t) => {
  t.is(parseTrackFileValue(' 42\n'), 42);
  t.is(parseTrackFileValue('-7 apples'), -7);
  t.is(parseTrackFileValue('0x10'), 16);
  t.is(parseTrackFileValue('010'), 8);
  t.is(parseTrackFileValue('junk'), 0);
  t.is(parseTrackFileValue(''), 0);
  t.is(parseTrackFileValue('99999999999'), undefined);
});

test('script security (keepalived\'s rule): missing, not executable, and — with enable_script_security — changeable by a non-root user (the rule itself: path-security.test.ts)', (t) => {
  const fsys = fakePathFs({
    '/opt': dir(), '/opt/ok.sh': file(), '/opt/noexec.sh': file(0o644), '/opt/world.sh': file(0o757),
    '/home': dir(), '/home/u': dir(0o775, 1000, 1000), '/home/u/x.sh': file(), '/usr': dir(), '/usr/bin': dir(), '/usr/bin/okprog': file(),
  });
  const on = { security: true };
  t.is(scriptRefusal('/opt/ok.sh', on, fsys), undefined);
  t.like(scriptRefusal('</dev/tcp/127.0.0.1/80', on, fsys), { reason: 'needs-shell' }, 'keepalived runs `</…` through a shell; lvskit runs none');
  t.deepEqual(scriptRefusal('/opt/gone.sh', on, fsys), { reason: 'not-found', message: '/opt/gone.sh cannot be accessed (ENOENT)' });
  t.like(scriptRefusal('/opt/noexec.sh', on, fsys), { reason: 'not-executable' });
  t.deepEqual(scriptRefusal('/opt/world.sh', on, fsys),
    { reason: 'insecure', message: '/opt/world.sh could be changed by a non-root user (/opt/world.sh (uid 0, gid 0, mode 0757) is writable by others); enable_script_security disables it' });
  t.is(scriptRefusal('/opt/world.sh', { security: false }, fsys), undefined, 'without enable_script_security it runs (keepalived warns)');
  t.like(scriptRefusal('/home/u/x.sh', on, fsys), { reason: 'insecure' });
  t.is(scriptRefusal('/home/u/x.sh', { security: true, uid: 1000, gid: 1000 }, fsys), undefined, 'a script run as its owner is not checked');
  const savedPath = process.env['PATH'];
  process.env['PATH'] = '/nowhere:/usr/bin';
  try {
    t.is(scriptRefusal('okprog', on, fsys), undefined, 'a bare name found on PATH');
    t.like(scriptRefusal('noprog', on, fsys), { reason: 'not-found', message: 'noprog is not found on PATH' });
  } finally {
    process.env['PATH'] = savedPath;
  }
});

const SCRIPT: TrackScriptSpec = { name: 'chk', argv: ['/x/chk'], intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2, initFail: false };

/** Trackers on a fake clock whose script exits as `next` says when it is run (a number: exit status; 'hang': until killed at its timeout). */
function fakeTrackers(config: TrackingConfig) {
  const clock = new FakeClock();
  const runs: number[] = [];
  let next: number | 'hang' = 0;
  const program = (o: ProgramOptions): Promise<ProgramOutcome> => {
    runs.push(clock.now());
    const base = { signal: null, aborted: false, output: '', outputBytes: 0 };
    if (next !== 'hang') return Promise.resolve({ ...base, exitCode: next, timedOut: false });
    return new Promise((resolve) => clock.setTimer(clock.now() + o.timeoutMs, () => resolve({ ...base, exitCode: null, signal: 'SIGKILL', timedOut: true })));
  };
  const trackers = new Trackers({ clock, run: program, refusal: () => undefined });
  const events: TrackerEvent[] = [];
  const changes: Record<string, { fault: boolean; weight: number }>[] = [];
  trackers.on('event', (e) => events.push(e));
  trackers.on('change', (c) => changes.push(c));
  trackers.configure(config);
  return { clock, runs, trackers, events, changes, exit: (v: number | 'hang') => { next = v; } };
}

test('the runner: first run at once, then every interval; rise/fall move the weight; a hung script is killed at its timeout and counts as a failure', async (t) => {
  const f = fakeTrackers({ scripts: [SCRIPT], files: [], instances: { VI_1: [{ kind: 'script', name: 'chk', weight: -30, reverse: false }] }, scriptSecurity: false });
  f.trackers.start();
  await flush();
  await f.trackers.ready();
  t.deepEqual(f.runs, [0]);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: 0 } });
  f.exit('hang');
  await f.clock.advance(1000);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: 0 } }, 'still running: not yet a result');
  await f.clock.advance(500);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: 0 } }, 'one failure of fall 2');
  f.exit(1);
  await f.clock.advance(500);
  t.deepEqual(f.runs, [0, 1000, 2000]);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: -30 } }, 'the second failure in a row');
  t.like(f.trackers.status()[0], { name: 'chk', state: 'failed', reason: 'exited with 1' });
  f.exit(0);
  await f.clock.advance(1000);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: -30 } }, 'one success of rise 2');
  await f.clock.advance(1000);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: 0 } });
  t.deepEqual(f.changes, [{ VI_1: { fault: false, weight: -30 } }, { VI_1: { fault: false, weight: 0 } }]);
  t.deepEqual(f.events.filter((e) => e.type === 'tracker').map((e) => e.type === 'tracker' && e.state), ['ok', 'failed', 'ok']);
  t.regex(JSON.stringify(f.events[1]), /still running after 500 ms|exited with 1/);
  f.trackers.stop();
});

test('reconfigure: an unchanged script keeps its state and timer; a changed one starts again from init', async (t) => {
  const config: TrackingConfig = { scripts: [SCRIPT], files: [], instances: { VI_1: [{ kind: 'script', name: 'chk', weight: 0, reverse: false }] }, scriptSecurity: false };
  const f = fakeTrackers(config);
  f.exit(1);
  f.trackers.start();
  await f.clock.advance(0);
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: true, weight: 0 } });
  f.trackers.configure({ ...config, instances: { VI_1: [{ kind: 'script', name: 'chk', weight: -10, reverse: false }] } });
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: -10 } }, 'same script, its failed state kept, the new weight applied');
  t.is(f.runs.length, 1, 'not run again by the reload');
  f.exit(0);
  f.trackers.configure({ ...config, scripts: [{ ...SCRIPT, argv: ['/x/other'] }], instances: { VI_1: [{ kind: 'script', name: 'chk', weight: -10, reverse: false }] } });
  t.is(f.trackers.status()[0]!.state, 'init');
  await f.clock.advance(0);
  t.is(f.runs.length, 2, 'the changed script runs at once');
  t.deepEqual(f.trackers.tracking(), { VI_1: { fault: false, weight: 0 } });
  f.trackers.stop();
});

test('a script refused at start is disabled: an event names it, status says why, the instance does not track it', async (t) => {
  const clock = new FakeClock();
  const trackers = new Trackers({ clock, run: () => Promise.reject(new Error('never run')), refusal: () => ({ reason: 'insecure', message: '/x/chk could be changed by a non-root user' }) });
  const events: TrackerEvent[] = [];
  trackers.on('event', (e) => events.push(e));
  trackers.configure({ scripts: [{ ...SCRIPT, location: { file: 'k.conf', line: 3, column: 1 } }], files: [], instances: { VI_1: [{ kind: 'script', name: 'chk', weight: 0, reverse: false }] }, scriptSecurity: true });
  trackers.start();
  await trackers.ready();
  t.like(events[0], { type: 'tracker-error', name: 'chk', message: 'vrrp_script chk disabled: /x/chk could be changed by a non-root user', location: { line: 3 } });
  t.like(trackers.status()[0], { state: 'disabled', reason: '/x/chk could be changed by a non-root user' });
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: 0 } });
  t.is(clock.pendingTimers, 0);
  trackers.stop();
});
