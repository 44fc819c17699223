// layer: tests (unit)
// job: what a reload would change in the checks (services and their real servers), errors across the VRRP thread boundary, log lines.
import test from 'ava';
import { describeEvent, reloadSummary } from '../../src/daemon/describe.js';
import type { BalancerEvent, ReloadResult } from '../../src/daemon/events.js';
import { diffChecks, sameJson } from '../../src/daemon/reload-diff.js';
import { errorFromWire, toWire } from '../../src/daemon/vrrp-wire.js';
import { ErrnoError } from '../../src/errors.js';

test('checks: a weight change, a real server added and removed, a service setting; key order does not matter', (t) => {
  const svc = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
  const a = { id: 'S', service: svc, port: 80, quorum: 1, realServers: [{ address: '10.0.1.1', weight: 10 }, { address: '10.0.1.2', weight: 10 }] };
  const b = { port: 80, id: 'S', service: svc, quorum: 2, realServers: [{ weight: 20, address: '10.0.1.1' }, { address: '10.0.1.3', weight: 10 }] };
  t.deepEqual(diffChecks([a], [b]), { added: [], removed: [], unchanged: 0, changed: [{ id: 'S', changes: ['quorum', 'rs 10.0.1.1:80 weight', 'rs 10.0.1.3:80 added', 'rs 10.0.1.2:80 removed'] }] });
  t.deepEqual(diffChecks([a], [{ ...a, realServers: a.realServers.map((r) => ({ weight: r.weight, address: r.address })) }]).unchanged, 1);
  t.true(sameJson({ a: 1, b: [1, { c: 2, d: undefined }] }, { b: [1, { c: 2 }], a: 1 }));
});

test('an error crosses the VRRP thread with its facts', (t) => {
  const e = Object.assign(new Error('instances[0].interface: no link eth9'), { name: 'VrrpConfigError', field: 'instances[0].interface' });
  const back = errorFromWire(structuredClone(toWire(e)));
  t.like(back, { name: 'VrrpConfigError', message: e.message, field: 'instances[0].interface' });
  const errno = Object.assign(new Error('setns failed'), { code: 'EPERM', errno: 1, syscall: 'setns' });
  const errnoBack = errorFromWire(structuredClone(toWire(errno)));
  t.like(errnoBack, { code: 'EPERM', errno: 1, syscall: 'setns', message: 'setns failed' });
  t.true(errnoBack instanceof ErrnoError, 'an errno error is an ErrnoError again on this side');
  t.false(back instanceof ErrnoError);
  t.like(structuredClone(toWire({ type: 'vip', error: errno })) as object, { type: 'vip', error: { code: 'EPERM' } });
});

test('log lines: a transition, a weight change, a ban, a refused reload say what happened', (t) => {
  const lines = ([
    { source: 'vrrp', type: 'transition', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master-down', priority: 100, atMs: 0 },
    { source: 'checks', type: 'applied', vs: 'TCP 10.0.0.1:80', op: { op: 'set-weight', previousWeight: 10, destination: { address: '10.0.1.1', port: 80, weight: 0, forward: 'dr' } } },
    { source: 'autoban', type: 'ban', address: '198.51.100.7', count: 150, untilMs: undefined, dryRun: false },
    { source: 'daemon', type: 'reload-failed', error: new Error('k.conf:3:5: bad'), diagnostics: [{ severity: 'error', code: 'syntax', message: 'bad', location: { file: 'k.conf', line: 3, column: 5 } }] },
  ] as BalancerEvent[]).map(describeEvent);
  t.deepEqual(lines.map((l) => l.level), ['info', 'info', 'warn', 'error']);
  t.is(lines[0]!.message, 'VI_1: BACKUP → MASTER (master-down, priority 100)');
  t.is(lines[1]!.message, 'TCP 10.0.0.1:80: real server 10.0.1.1:80 weight 10 → 0');
  t.is(lines[2]!.message, 'ban 198.51.100.7 (150 ESTABLISHED) with no end');
  t.regex(lines[3]!.message, /nothing changed.*\nk\.conf:3:5: error: bad/s);
});

test('a reload\'s summary counts the IPVS operations of the plan and of the checks', (t) => {
  const r: ReloadResult = { dryRun: false, vrrp: { added: [], removed: [], changed: [], replaced: [], unchanged: ['VI_1', 'VI_2'] }, ipvs: [], checks: { added: [], removed: [], changed: [{ id: 'S', changes: ['rs 10.0.1.1:80 weight'] }], unchanged: 999 },
    checkOps: 1, autoban: 'unchanged', timeouts: false, daemons: false, warnings: [], durationMs: 12.34 };
  t.is(reloadSummary(r), 'reloaded: VRRP 0 added, 0 removed, 0 changed in place, 0 replaced, 2 unchanged; IPVS 1 operation; checks 0 added, 0 removed, 1 changed, 999 unchanged; autoban unchanged in 12.3 ms');
});
