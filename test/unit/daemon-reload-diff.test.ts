// layer: tests (unit)
// job: what a reload would change in the checks (services and their real servers) and in static/virtual addresses, routes and
//      rules (and how `lvskit reload --dry-run` prints it), errors across the VRRP thread boundary, log lines.
import test from 'ava';
import { formatReload } from '../../src/cli/daemon-control.js';
import { loadDesired } from '../../src/daemon/desired.js';
import { describeEvent, reloadSummary } from '../../src/daemon/describe.js';
import type { BalancerEvent, ReloadResult } from '../../src/daemon/events.js';
import { diffChecks, diffNet, diffVrrp, sameJson } from '../../src/daemon/reload-diff.js';
import { errorFromWire, toWire } from '../../src/daemon/vrrp-wire.js';
import { parse } from '../helpers/config.js';
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
    checkOps: 1, net: [], autoban: 'unchanged', timeouts: false, daemons: false, warnings: [], durationMs: 12.34 };
  t.is(reloadSummary(r), 'reloaded: VRRP 0 added, 0 removed, 0 changed in place, 0 replaced, 2 unchanged; IPVS 1 operation; checks 0 added, 0 removed, 1 changed, 999 unchanged; autoban unchanged in 12.3 ms');
});

function netConf(o: { staticMetric?: number; address?: string; rule?: number; virtualMetric?: number; priority?: number } = {}): string {
  return `static_ipaddress {
  ${o.address ?? '192.168.77.1/24'} dev eth1
}
static_routes {
  10.200.0.0/16 via 10.0.0.254 dev eth0 table 100 metric ${o.staticMetric ?? 5}
  blackhole 10.201.0.0/16 table 100
}
static_rules {
  from 192.168.77.0/24 table 100 preference ${o.rule ?? 1000}
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 61
  priority ${o.priority ?? 150}
  virtual_ipaddress {
    10.0.0.100/32 dev eth0
  }
  virtual_routes {
    10.210.0.0/16 via 10.0.0.254 dev eth0 table 200${o.virtualMetric !== undefined ? ` metric ${o.virtualMetric}` : ''}
  }
  virtual_rules {
    to 10.210.0.0/16 table 200 preference 2000
  }
}
`;
}

const loadText = (text: string) => loadDesired({ config: parse(text).config, file: 'keepalived.conf' });

/** What a reload from `a` to `b` would list, with VI_1 MASTER or not. */
function netPlan(a: string, b: string, master: boolean) {
  const before = loadText(a);
  const after = loadText(b);
  return diffNet(before.staticNet, after.staticNet, diffVrrp(before, after).changed, () => master);
}

test('net: a reload lists the static and virtual addresses, routes and rules it removes and adds, removals first, nothing else', (t) => {
  t.deepEqual(netPlan(netConf(), netConf(), true), [], 'the same configuration: nothing');
  t.deepEqual(netPlan(netConf(), netConf({ priority: 120 }), true), [], 'a change elsewhere in the instance: no route or rule');
  const changes = netPlan(netConf(), netConf({ staticMetric: 9, address: '192.168.78.1/24', rule: 1001, virtualMetric: 7 }), true);
  t.deepEqual(changes, [
    { owner: 'static', op: 'remove', kind: 'rule', what: 'from 192.168.77.0/24 lookup 100 pref 1000' },
    { owner: 'static', op: 'remove', kind: 'route', what: '10.200.0.0/16 via 10.0.0.254 dev eth0 table 100 metric 5' },
    { owner: 'static', op: 'remove', kind: 'address', what: '192.168.77.1/24 dev eth1' },
    { owner: 'static', op: 'add', kind: 'address', what: '192.168.78.1/24 dev eth1' },
    { owner: 'static', op: 'add', kind: 'route', what: '10.200.0.0/16 via 10.0.0.254 dev eth0 table 100 metric 9' },
    { owner: 'static', op: 'add', kind: 'rule', what: 'from 192.168.77.0/24 lookup 100 pref 1001' },
    { owner: 'VI_1', op: 'remove', kind: 'route', what: '10.210.0.0/16 via 10.0.0.254 dev eth0 table 200' },
    { owner: 'VI_1', op: 'add', kind: 'route', what: '10.210.0.0/16 via 10.0.0.254 dev eth0 table 200 metric 7' },
  ]);
  const backup = netPlan(netConf(), netConf({ virtualMetric: 7 }), false);
  t.deepEqual(backup.map((c) => [c.owner, c.op, c.deferred]), [['VI_1', 'remove', true], ['VI_1', 'add', true]], 'not MASTER: held for when it is');
  const removedBlocks = netPlan(netConf(), 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 61\n  priority 150\n  virtual_ipaddress {\n    10.0.0.100/32 dev eth0\n  }\n}\n', true);
  t.deepEqual(removedBlocks.map((c) => `${c.owner} ${c.op} ${c.kind}`), ['static remove rule', 'static remove route', 'static remove route', 'static remove address',
    'VI_1 remove rule', 'VI_1 remove route'], 'blocks deleted: everything in them removed');
});

test('net: `lvskit reload --dry-run` prints each route, rule and address change and counts them in its summary', (t) => {
  const net = netPlan(netConf(), netConf({ staticMetric: 9, virtualMetric: 7 }), false);
  const r: ReloadResult = { dryRun: true, vrrp: { added: [], removed: [], changed: [{ name: 'VI_1', fields: ['routes'] }], replaced: [], unchanged: [] }, ipvs: [],
    checks: { added: [], removed: [], changed: [], unchanged: 0 }, checkOps: 0, net, autoban: 'unchanged', timeouts: false, daemons: false, warnings: [], durationMs: 1 };
  t.deepEqual(formatReload(r).split('\n'), [
    'reload (dry run) would do: VRRP 0 added, 0 removed, 1 changed in place, 0 replaced, 0 unchanged; IPVS 0 operations planned; checks 0 added, 0 removed, 0 changed, 0 unchanged; addresses/routes/rules 2 removed, 2 added; autoban unchanged in 1.0 ms',
    '  vrrp_instance VI_1: routes changed in place',
    '  static: remove route 10.200.0.0/16 via 10.0.0.254 dev eth0 table 100 metric 5',
    '  static: add route 10.200.0.0/16 via 10.0.0.254 dev eth0 table 100 metric 9',
    '  VI_1: remove route 10.210.0.0/16 via 10.0.0.254 dev eth0 table 200 (not MASTER: when it becomes MASTER)',
    '  VI_1: add route 10.210.0.0/16 via 10.0.0.254 dev eth0 table 200 metric 7 (not MASTER: when it becomes MASTER)',
  ]);
});
