// layer: tests (unit)
// job: the pure planner of routes, rules and static addresses: what a state change, a start/stop and a reload add and remove, in order.
import test from 'ava';
import { addSteps, describeStep, reloadSteps, removeSteps, stateChangeSteps, type NetSet } from '../../src/vrrp/net-plan.js';

const set: NetSet = {
  addresses: [{ dev: 'eth0', address: '10.0.0.5', prefixLength: 24 }],
  routes: [
    { family: 4, dst: '10.1.0.0', prefixLength: 16, via: '10.0.0.254', dev: 'eth0', table: 100 },
    { family: 4, dst: '10.2.0.0', prefixLength: 16, type: 'blackhole' },
  ],
  rules: [{ family: 4, from: '10.0.0.0', fromLength: 24, action: 'table', table: 100, priority: 50 }],
};

const words = (steps: ReturnType<typeof addSteps>) => steps.map((s) => `${s.op} ${s.kind} ${describeStep(s)}`);

test('becoming MASTER adds addresses, then routes, then rules; leaving MASTER removes them in the reverse order', (t) => {
  const added = [
    'add address 10.0.0.5/24 dev eth0',
    'add route 10.1.0.0/16 via 10.0.0.254 dev eth0 table 100',
    'add route blackhole 10.2.0.0/16',
    'add rule from 10.0.0.0/24 lookup 100 pref 50',
  ];
  const removed = [
    'remove rule from 10.0.0.0/24 lookup 100 pref 50',
    'remove route 10.1.0.0/16 via 10.0.0.254 dev eth0 table 100',
    'remove route blackhole 10.2.0.0/16',
    'remove address 10.0.0.5/24 dev eth0',
  ];
  t.deepEqual(words(stateChangeSteps('BACKUP', 'MASTER', set)), added);
  t.deepEqual(words(stateChangeSteps('INIT', 'MASTER', set)), added);
  t.deepEqual(words(stateChangeSteps('MASTER', 'BACKUP', set)), removed);
  t.deepEqual(words(stateChangeSteps('MASTER', 'FAULT', set)), removed);
  t.deepEqual(words(stateChangeSteps('MASTER', 'INIT', set)), removed);
  t.deepEqual(words(addSteps(set)), added);
  t.deepEqual(words(removeSteps(set)), removed);
});

test('state changes that neither enter nor leave MASTER touch nothing', (t) => {
  for (const [from, to] of [['INIT', 'BACKUP'], ['BACKUP', 'FAULT'], ['FAULT', 'BACKUP'], ['MASTER', 'MASTER'], ['INIT', 'FAULT']] as const) {
    t.deepEqual(stateChangeSteps(from, to, set), [], `${from} → ${to}`);
  }
});

test('a reload removes what is gone or changed, then adds what is new; what is unchanged is not touched', (t) => {
  const next: NetSet = {
    addresses: set.addresses,
    routes: [
      { family: 4, dst: '10.1.0.0', prefixLength: 16, via: '10.0.0.254', dev: 'eth0', table: 100, metric: 5 },
      { family: 4, dst: '10.2.0.0', prefixLength: 16, type: 'blackhole' },
    ],
    rules: [],
  };
  t.deepEqual(words(reloadSteps(set, next)), [
    'remove rule from 10.0.0.0/24 lookup 100 pref 50',
    'remove route 10.1.0.0/16 via 10.0.0.254 dev eth0 table 100',
    'add route 10.1.0.0/16 via 10.0.0.254 dev eth0 table 100 metric 5',
  ]);
  t.deepEqual(reloadSteps(set, structuredClone(set)), []);
  t.deepEqual(words(reloadSteps({}, { rules: set.rules })), ['add rule from 10.0.0.0/24 lookup 100 pref 50']);
});
