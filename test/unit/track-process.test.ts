// layer: tests (unit)
// job: vrrp_track_process: keepalived's matching (name, full_command, param_match), quorum and quorum_max, fork/terminate delays on a fake clock, weight/reverse and FAULT; the connector codec (golden bytes); the trackers over a fake /proc and fake process events; the config read, checked at file:line:col and converted.
import test from 'ava';
import { convertVrrp } from '../../src/daemon/convert/vrrp.js';
import { decodeProcEvent, encodeListen, type ProcEvent } from '../../src/track/proc-events.js';
import { countChanged, delayElapsed, initialQuorum, parseCmdline, parseStat, processMatches, recounted, type ProcessQuorum } from '../../src/track/process-state.js';
import type { ProcEventOpener } from '../../src/track/processes.js';
import type { ProcReader } from '../../src/track/procfs.js';
import { Trackers } from '../../src/track/runner.js';
import { useTracking } from '../../src/track/state.js';
import type { TrackerEvent, TrackProcessSpec } from '../../src/track/types.js';
import { FakeClock, flush } from '../helpers/check-clock.js';
import { messages, parse } from '../helpers/config.js';

const SPEC: TrackProcessSpec = { name: 'p', process: 'haproxy', params: [], paramMatch: 'none', fullCommand: false, quorum: 1, forkDelayMs: 0, terminateDelayMs: 0 };

test('matching: by name the comm exactly (not a prefix, as pgrep would); full_command argv[0]; param_match exact, partial, initial', (t) => {
  t.true(processMatches(SPEC, { comm: 'haproxy' }));
  t.false(processMatches(SPEC, { comm: 'haproxy2' }));
  t.false(processMatches({ ...SPEC, process: 'ssh' }, { comm: 'sshd' }));
  const full = { ...SPEC, process: '/usr/sbin/haproxy', fullCommand: true };
  t.true(processMatches(full, { comm: 'haproxy', argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg'] }), 'full_command alone: argv[0]');
  t.false(processMatches(full, { comm: 'haproxy', argv: ['haproxy', '-f'] }));
  const exact = { ...full, params: ['-f', '/etc/h.cfg'], paramMatch: 'exact' as const };
  t.true(processMatches(exact, { comm: 'x', argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg'] }));
  t.false(processMatches(exact, { comm: 'x', argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg', '-D'] }), 'exact: no more words');
  t.true(processMatches({ ...full, paramMatch: 'exact' }, { comm: 'x', argv: ['/usr/sbin/haproxy'] }), 'param_match without params: no arguments');
  t.false(processMatches({ ...full, paramMatch: 'exact' }, { comm: 'x', argv: ['/usr/sbin/haproxy', '-D'] }));
  const partial = { ...exact, paramMatch: 'partial' as const };
  t.true(processMatches(partial, { comm: 'x', argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg', '-D'] }), 'partial: leading words');
  t.false(processMatches(partial, { comm: 'x', argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg2'] }), 'partial: whole words');
  const initial = { ...exact, params: ['-f', '/etc/h'], paramMatch: 'initial' as const };
  t.true(processMatches(initial, { comm: 'x', argv: ['/usr/sbin/haproxy', '-f', '/etc/h.cfg', '-D'] }), 'initial: the last word a prefix');
  t.false(processMatches(initial, { comm: 'x', argv: ['/usr/sbin/haproxy', '-g', '/etc/h.cfg'] }));
  t.deepEqual(parseCmdline('/bin/sleep\u000030\u0000'), ['/bin/sleep', '30']);
  t.deepEqual(parseCmdline(''), []);
  t.deepEqual(parseStat('42 (a (b) c) S 1 2'), { comm: 'a (b) c', zombie: false });
  t.deepEqual(parseStat('43 (dead) Z 1'), { comm: 'dead', zombie: true });
  t.is(parseStat('garbage'), undefined);
});

/** Apply steps to a quorum: +/− with a cause, or a wait on the clock. */
function steps(spec: TrackProcessSpec, start: number, list: Array<[1 | -1, 'fork' | 'exec' | 'comm' | 'exit'] | number>): Array<string> {
  let q: ProcessQuorum = initialQuorum(spec, start);
  let now = 0;
  const out = [`${q.count} ${q.ok ? 'ok' : 'lost'}`];
  for (const s of list) {
    if (typeof s === 'number') {
      now += s;
      q = delayElapsed(spec, q, now);
    } else q = countChanged(spec, q, s[0], s[1], now);
    out.push(`${q.count} ${q.ok ? 'ok' : 'lost'}${q.pending ? ` (${q.pending.kind} ${q.pending.dueMs})` : ''}`);
  }
  return out;
}

test('quorum and quorum_max: OK while the count is within; quorum_max 0 with quorum 0 means none may run', (t) => {
  t.deepEqual(steps({ ...SPEC, quorum: 2, quorumMax: 3 }, 1, [[1, 'exec'], [1, 'fork'], [1, 'fork'], [-1, 'exit'], [-1, 'exit'], [-1, 'exit']]),
    ['1 lost', '2 ok', '3 ok', '4 lost', '3 ok', '2 ok', '1 lost']);
  t.deepEqual(steps({ ...SPEC, quorum: 0, quorumMax: 0 }, 0, [[1, 'exec'], [-1, 'exit']]), ['0 ok', '1 lost', '0 ok']);
});

test('delays: a gain by fork waits fork_delay, a loss by exit terminate_delay; the opposite crossing cancels the wait; exec and comm count at once', (t) => {
  const spec = { ...SPEC, forkDelayMs: 500, terminateDelayMs: 2000 };
  // An exit then a new exec within terminate_delay: the quorum never counts as lost.
  t.deepEqual(steps(spec, 1, [[-1, 'exit'], 1000, [1, 'exec'], 5000]), ['1 ok', '0 ok (terminate 2000)', '0 ok (terminate 2000)', '1 ok', '1 ok']);
  // An exit for good: lost at terminate_delay.
  t.deepEqual(steps(spec, 1, [[-1, 'exit'], 1999, 1]), ['1 ok', '0 ok (terminate 2000)', '0 ok (terminate 2000)', '0 lost']);
  // A fork from nothing cannot happen (no parent counted); from 1 to 2 with quorum 2: waits fork_delay.
  t.deepEqual(steps({ ...spec, quorum: 2 }, 1, [[1, 'fork'], 499, 1]), ['1 lost', '2 lost (fork 500)', '2 lost (fork 500)', '2 ok']);
  // A fork that exits again within fork_delay: the gain is cancelled at once, the quorum stays lost.
  t.deepEqual(steps({ ...spec, quorum: 2 }, 1, [[1, 'fork'], 100, [-1, 'exit'], 1000]), ['1 lost', '2 lost (fork 500)', '2 lost (fork 500)', '1 lost', '1 lost']);
  // Exec and rename count at once, both ways.
  t.deepEqual(steps(spec, 1, [[-1, 'comm'], [1, 'exec'], [-1, 'exec']]), ['1 ok', '0 lost', '1 ok', '0 lost']);
  // Events lost: a recount gains at once, loses after terminate_delay.
  t.deepEqual(recounted(spec, { count: 0, ok: false }, 2, 0), { count: 2, ok: true });
  t.deepEqual(recounted(spec, { count: 2, ok: true }, 0, 10), { count: 0, ok: true, pending: { kind: 'terminate', dueMs: 2010 } });
});

test('weights as keepalived applies a process\'s quorum: positive while OK, negative while lost, negated by reverse; weight 0 is FAULT while lost (reversed: while OK)', (t) => {
  const use = (weight: number, reverse = false) => ({ kind: 'process', name: 'p', weight, reverse }) as const;
  const r = (ok: boolean) => ({ kind: 'process', ok }) as const;
  t.deepEqual(useTracking(use(-60), r(true)), { fault: false, weight: 0 });
  t.deepEqual(useTracking(use(-60), r(false)), { fault: false, weight: -60 });
  t.deepEqual(useTracking(use(20), r(true)), { fault: false, weight: 20 });
  t.deepEqual(useTracking(use(20, true), r(true)), { fault: false, weight: -20 });
  t.deepEqual(useTracking(use(0), r(false)), { fault: true, weight: 0 });
  t.deepEqual(useTracking(use(0), r(true)), { fault: false, weight: 0 });
  t.deepEqual(useTracking(use(0, true), r(true)), { fault: true, weight: 0 });
});

test('connector codec: the listen request as keepalived sends it; fork, exec, comm, exit and the ack decoded from the kernel\'s layout', (t) => {
  t.is(encodeListen(true).toString('hex'),
    '28000000' + '0300' + '0000' + '00000000' + '00000000' + '01000000' + '01000000' + '00000000' + '00000000' + '0400' + '0000' + '01000000');
  t.is(encodeListen(false).readUInt32LE(36), 2);
  const msg = (what: number, data: number[], comm?: string): Buffer => {
    const b = Buffer.alloc(16 + 20 + 16 + 40);
    b.writeUInt32LE(b.length, 0);
    b.writeUInt16LE(3, 4);
    b.writeUInt32LE(1, 16);
    b.writeUInt32LE(1, 20);
    b.writeUInt32LE(what, 36);
    data.forEach((v, i) => b.writeUInt32LE(v, 52 + 4 * i));
    if (comm) b.write(comm, 60, 'utf8');
    return b;
  };
  t.deepEqual(decodeProcEvent(msg(0, [0])), { what: 'ack', err: 0 });
  t.deepEqual(decodeProcEvent(msg(1, [10, 10, 11, 11])), { what: 'fork', parentPid: 10, parentTgid: 10, childPid: 11, childTgid: 11 });
  t.deepEqual(decodeProcEvent(msg(2, [12, 12])), { what: 'exec', pid: 12, tgid: 12 });
  t.deepEqual(decodeProcEvent(msg(0x200, [13, 13], 'haproxy')), { what: 'comm', pid: 13, tgid: 13, comm: 'haproxy' });
  t.deepEqual(decodeProcEvent(msg(0x80000000, [14, 14, 0, 17])), { what: 'exit', pid: 14, tgid: 14 });
  t.deepEqual(decodeProcEvent(msg(4, [])), { what: 'other', code: 4 });
  const other = msg(2, [1, 1]);
  other.writeUInt32LE(9, 16);
  t.is(decodeProcEvent(other), undefined, 'another connector');
  t.is(decodeProcEvent(Buffer.alloc(20)), undefined, 'too short');
});

/** A /proc of given processes, and an event source the test drives. */
function fakeSystem(procs: Map<number, { comm: string; argv: string[] }>): { proc: ProcReader; events: ProcEventOpener; send(e: ProcEvent): void; fail(e: Error): void } {
  let handlers: Parameters<ProcEventOpener>[0] | undefined;
  return {
    proc: {
      pids: () => [...procs.keys()],
      identity: (pid, argv, comm) => {
        const p = procs.get(pid);
        return p ? { comm: comm ?? p.comm, ...(argv ? { argv: p.argv } : {}) } : undefined;
      },
    },
    events: (on) => {
      handlers = on;
      return { close: () => { handlers = undefined; } };
    },
    send: (e) => handlers?.event(e),
    fail: (e) => handlers?.error(e),
  };
}

test('the trackers: counted from /proc at start, kept by fork/exec/comm/exit events (threads ignored), terminate_delay on the fake clock, the instance\'s weight, status', async (t) => {
  const procs = new Map([[100, { comm: 'haproxy', argv: ['/usr/sbin/haproxy'] }], [200, { comm: 'bash', argv: ['bash'] }]]);
  const sys = fakeSystem(procs);
  const clock = new FakeClock();
  const trackers = new Trackers({ clock, proc: sys.proc, procEvents: sys.events });
  const events: TrackerEvent[] = [];
  trackers.on('event', (e) => events.push(e));
  trackers.configure({
    scripts: [], files: [], scriptSecurity: false,
    processes: [{ ...SPEC, quorum: 2, terminateDelayMs: 1000, location: { file: 'k.conf', line: 1, column: 1 } }],
    instances: { VI_1: [{ kind: 'process', name: 'p', weight: -30, reverse: false }] },
  });
  trackers.start();
  let ready = false;
  void trackers.ready().then(() => { ready = true; });
  await flush();
  t.false(ready, 'start waits for the kernel to confirm the listen');
  sys.send({ what: 'ack', err: 0 });
  await flush();
  t.true(ready);
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: -30 } }, 'one haproxy: below quorum 2');
  t.like(trackers.status()[0], { kind: 'process', name: 'p', state: 'failed', value: 1, reason: '1 matching process, quorum at least 2' });
  sys.send({ what: 'fork', parentPid: 100, parentTgid: 100, childPid: 101, childTgid: 100 }); // a thread: not a process
  t.is(trackers.status()[0]!.value, 1);
  sys.send({ what: 'fork', parentPid: 100, parentTgid: 100, childPid: 102, childTgid: 102 });
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: 0 } }, 'a forked child counts');
  procs.set(300, { comm: 'haproxy', argv: ['haproxy'] });
  sys.send({ what: 'exec', pid: 300, tgid: 300 });
  t.is(trackers.status()[0]!.value, 3);
  sys.send({ what: 'comm', pid: 300, tgid: 300, comm: 'worker' });
  t.is(trackers.status()[0]!.value, 2, 'renamed: no longer counted');
  sys.send({ what: 'exit', pid: 200, tgid: 200 }); // never counted
  sys.send({ what: 'exit', pid: 102, tgid: 102 });
  t.is(trackers.status()[0]!.value, 1);
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: 0 } }, 'the loss waits terminate_delay');
  await clock.advance(999);
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: 0 } });
  await clock.advance(1);
  await flush();
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: -30 } });
  t.deepEqual(events.map((e) => (e.type === 'tracker' ? `${e.state} ${e.value}` : e.message)), ['failed 1', 'ok 2', 'failed 1']);
  // A reload: the unchanged tracker keeps its count (/proc is not read again); a changed one is counted afresh.
  const config = (quorum: number) => ({
    scripts: [], files: [], scriptSecurity: false,
    processes: [{ ...SPEC, quorum, terminateDelayMs: 1000, location: { file: 'k.conf', line: 9, column: 1 } }],
    instances: { VI_1: [{ kind: 'process' as const, name: 'p', weight: -30, reverse: false }] },
  });
  procs.delete(200); // /proc as the events left it: 200 gone, 300 renamed
  procs.set(300, { comm: 'worker', argv: ['haproxy'] });
  procs.set(400, { comm: 'haproxy', argv: ['haproxy'] }); // started unseen: only a fresh count finds it
  trackers.configure(config(2));
  t.is(trackers.status()[0]!.value, 1, 'kept: same settings (only the line moved)');
  trackers.configure(config(1));
  t.like(trackers.status()[0], { state: 'ok', value: 2 }, 'changed: counted again from /proc');
  trackers.stop();
});

test('the trackers: process events unavailable → a located error, and the quorum of no process (as keepalived); the rest runs on', async (t) => {
  const sys = fakeSystem(new Map([[100, { comm: 'haproxy', argv: ['haproxy'] }]]));
  const trackers = new Trackers({ clock: new FakeClock(), proc: sys.proc, procEvents: sys.events });
  const events: TrackerEvent[] = [];
  trackers.on('event', (e) => events.push(e));
  trackers.configure({
    scripts: [], files: [], scriptSecurity: false,
    processes: [{ ...SPEC, location: { file: 'k.conf', line: 4, column: 1 } }, { ...SPEC, name: 'none', quorum: 0, quorumMax: 0 }],
    instances: { VI_1: [{ kind: 'process', name: 'p', weight: 0, reverse: false }], VI_2: [{ kind: 'process', name: 'none', weight: 0, reverse: false }] },
  });
  trackers.start();
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: 0 }, VI_2: { fault: true, weight: 0 } });
  const ready = trackers.ready();
  sys.fail(Object.assign(new Error('sendmsg failed: ECONNREFUSED (Connection refused)'), { code: 'ECONNREFUSED' }));
  await ready; // the refusal settles the wait at once (the fake clock never moves)
  t.deepEqual(trackers.tracking(), { VI_1: { fault: true, weight: 0 }, VI_2: { fault: false, weight: 0 } });
  const err = events.find((e) => e.type === 'tracker-error');
  t.like(err, { kind: 'process', name: 'p', location: { line: 4 } });
  t.regex(err?.type === 'tracker-error' ? err.message : '', /vrrp_track_process p disabled: cannot listen to the kernel's process events: .*ECONNREFUSED.*initial network namespace/);
  t.like(trackers.status()[0], { state: 'disabled', value: 0 });
  trackers.stop();
});

const instance = (name: string, vrid: number, body: string[]): string =>
  [`vrrp_instance ${name} {`, '  interface eth0', `  virtual_router_id ${vrid}`, '  virtual_ipaddress {', `    10.0.0.${vrid}`, '  }', ...body.map((l) => `  ${l}`), '}'].join('\n');

test('config: vrrp_track_process read with every setting; errors and warnings at their place; converted with keepalived\'s defaults', (t) => {
  const r = parse([
    'vrrp_track_process web {', '  process /usr/sbin/nginx -g "daemon off;"', '  param_match partial', '  weight -20 reverse', '  quorum 2', '  quorum_max 4', '  delay 0.5', '  terminate_delay 3', '}',
    'vrrp_track_process plain {', '  process haproxy', '}',
    'vrrp_track_process none {', '  process stray', '  quorum_max 0', '}',
    instance('VI_1', 1, ['track_process {', '  web', '  plain weight 10', '}']),
    instance('VI_2', 2, ['track_process {', '  none', '}']),
    '',
  ].join('\n'));
  t.deepEqual(messages(r), []);
  t.like(r.config.trackProcesses?.[0], { name: 'web', process: '/usr/sbin/nginx', params: ['-g', 'daemon off;'], paramMatch: 'partial', weight: -20, weightReverse: true, quorum: 2, quorumMax: 4, forkDelayMs: 500, terminateDelayMs: 3000 });
  const c = convertVrrp(r.config);
  t.deepEqual(messages(c.diagnostics), []);
  t.deepEqual(c.tracking.processes?.map(({ location: _l, ...p }) => p), [
    { name: 'web', process: '/usr/sbin/nginx', params: ['-g', 'daemon off;'], paramMatch: 'partial', fullCommand: true, quorum: 2, quorumMax: 4, forkDelayMs: 500, terminateDelayMs: 3000 },
    { name: 'plain', process: 'haproxy', params: [], paramMatch: 'none', fullCommand: false, quorum: 1, forkDelayMs: 0, terminateDelayMs: 0 },
    { name: 'none', process: 'stray', params: [], paramMatch: 'none', fullCommand: false, quorum: 0, quorumMax: 0, forkDelayMs: 0, terminateDelayMs: 0 },
  ]);
  t.deepEqual(c.tracking.instances, {
    VI_1: [{ kind: 'process', name: 'web', weight: -20, reverse: true }, { kind: 'process', name: 'plain', weight: 10, reverse: false }],
    VI_2: [{ kind: 'process', name: 'none', weight: 0, reverse: false }],
  });

  const bad = parse([
    'vrrp_track_process noproc {', '  weight 300', '  quorum 0', '  delay 4000', '  param_match full', '}',
    'vrrp_track_process q {', '  process a', '  process b', '  quorum 5', '  quorum_max 2', '}',
    'vrrp_track_process longname {', '  process a-very-long-process-name', '}',
    instance('VI_1', 1, ['track_process {', '  q weight 255', '  missing', '  q', '}']),
    '',
  ].join('\n'));
  t.deepEqual(messages(bad), [
    'keepalived.conf:2:10: error: `weight` 300 is outside -254..254',
    'keepalived.conf:3:10: error: `quorum` 0 is outside 1..65535',
    'keepalived.conf:4:9: error: `delay` 4000 s is outside 0.000001..3600 s',
    'keepalived.conf:5:15: error: `param_match` expects initial|partial, not `full`',
    'keepalived.conf:9:3: error: vrrp_track_process q: process is set already ("a"); this line is ignored',
    'keepalived.conf:13:1: warning: vrrp_track_process longname: a process name (comm) has at most 15 characters, so "a-very-long-process-name" never matches; add full_command to match the command line',
    'keepalived.conf:23:14: error: `weight` 255 is outside -254..254',
    'keepalived.conf:24:5: error: vrrp_instance VI_1 tracks vrrp_track_process `missing`, which is not defined',
    'keepalived.conf:25:5: error: vrrp_instance VI_1 tracks vrrp_track_process q twice',
    'keepalived.conf:1:1: error: vrrp_track_process noproc has no process (keepalived: "process name not specified")',
    'keepalived.conf:7:1: error: vrrp_track_process q: quorum 5 is above quorum_max 2; no number of processes could be OK',
  ]);
});
