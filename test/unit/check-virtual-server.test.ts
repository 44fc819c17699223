// layer: tests (unit tier)
// job: virtual-server policy: quorum with hysteresis, inhibit_on_failure vs removal, the sorry server (and its inhibit), and the order of sink operations.
import test from 'ava';
import { initialHealth, type RealServerHealth } from '../../src/check/real-server.js';
import { planSinkOps, type SinkDestination } from '../../src/check/sink.js';
import {
  desiredDestinations, initialQuorum, nextQuorum, quorumThreshold, sorryTransitions, type PoolMember, type VirtualServerPolicy,
} from '../../src/check/virtual-server.js';

const policy: VirtualServerPolicy = { quorum: 20, hysteresis: 5, sorryServerInhibit: false };

test('quorum with hysteresis: lost below quorum − hysteresis, regained at quorum + hysteresis', (t) => {
  const walk = (weights: number[], start: boolean): boolean[] => {
    let q = start;
    return weights.map((w) => (q = nextQuorum(policy, q, w)));
  };
  t.deepEqual(walk([30, 20, 15, 14, 20, 24, 25, 16], true), [true, true, true, false, false, false, true, true]);
  t.is(quorumThreshold(policy, true), 15);
  t.is(quorumThreshold(policy, false), 25);
});

test('quorum: a live weight of 0 is always a loss, even with hysteresis ≥ quorum', (t) => {
  const p = { ...policy, quorum: 1, hysteresis: 1 };
  t.true(nextQuorum(p, true, 1));
  t.false(nextQuorum(p, true, 0));
  t.false(initialQuorum(p, 0));
});

test('initial quorum: the plain threshold', (t) => {
  t.true(initialQuorum(policy, 20));
  t.false(initialQuorum(policy, 19));
});

const dest = (address: string, weight = 10): SinkDestination => ({ address, port: 80, weight, forward: 'dr' });
const members: PoolMember[] = [
  { id: 'a', destination: dest('10.0.0.1'), inhibitOnFailure: true },
  { id: 'b', destination: dest('10.0.0.2'), inhibitOnFailure: false },
];
const health = (aUp: boolean, bUp: boolean): Map<string, RealServerHealth> => new Map([
  ['a', { ...initialHealth(10, []), up: aUp }],
  ['b', { ...initialHealth(10, []), up: bUp }],
]);
const weights = (m: Map<string, SinkDestination>): Record<string, number> => Object.fromEntries([...m].map(([k, d]) => [k, d.weight]));

test('inhibit_on_failure: DOWN is weight 0; without it DOWN is absent', (t) => {
  const p = { ...policy, quorum: 1, hysteresis: 0 };
  t.deepEqual(weights(desiredDestinations(p, members, health(true, true), true)), { '10.0.0.1:80': 10, '10.0.0.2:80': 10 });
  t.deepEqual(weights(desiredDestinations(p, members, health(false, false), true)), { '10.0.0.1:80': 0 });
});

test('sorry server: in while quorum is lost, displacing UP servers (inhibited ones at 0); out when regained', (t) => {
  const p: VirtualServerPolicy = { quorum: 20, hysteresis: 0, sorryServer: dest('10.9.9.9', 1), sorryServerInhibit: false };
  t.deepEqual(weights(desiredDestinations(p, members, health(true, false), false)), { '10.0.0.1:80': 0, '10.9.9.9:80': 1 });
  t.deepEqual(weights(desiredDestinations(p, members, health(true, true), true)), { '10.0.0.1:80': 10, '10.0.0.2:80': 10 });
});

test('sorry_server_inhibit: the sorry server stays at weight 0 while unused', (t) => {
  const p: VirtualServerPolicy = { quorum: 20, hysteresis: 0, sorryServer: dest('10.9.9.9', 1), sorryServerInhibit: true };
  t.deepEqual(weights(desiredDestinations(p, members, health(true, true), true)), { '10.0.0.1:80': 10, '10.0.0.2:80': 10, '10.9.9.9:80': 0 });
  t.deepEqual(weights(desiredDestinations(p, members, health(false, false), false)), { '10.0.0.1:80': 0, '10.9.9.9:80': 1 });
});

test('misc_dynamic weight is what an UP server gets', (t) => {
  const h = health(true, true);
  h.set('a', { ...h.get('a')!, dynamicWeight: 4 });
  t.is(desiredDestinations({ ...policy, quorum: 1 }, members, h, true).get('10.0.0.1:80')?.weight, 4);
});

test('sink order: additions, raises, cuts, removals — the sorry server is in before the real servers go', (t) => {
  const applied = new Map([['10.0.0.1:80', dest('10.0.0.1')], ['10.0.0.2:80', dest('10.0.0.2')]]);
  const desired = new Map([['10.0.0.1:80', dest('10.0.0.1', 0)], ['10.9.9.9:80', dest('10.9.9.9', 1)]]);
  t.deepEqual(planSinkOps(applied, desired).map((o) => [o.op, o.destination.address, o.destination.weight]), [
    ['add', '10.9.9.9', 1], ['set-weight', '10.0.0.1', 0], ['remove', '10.0.0.2', 10],
  ]);
  t.deepEqual(planSinkOps(desired, applied).map((o) => [o.op, o.destination.address, o.destination.weight]), [
    ['add', '10.0.0.2', 10], ['set-weight', '10.0.0.1', 10], ['remove', '10.9.9.9', 1],
  ]);
  t.deepEqual(planSinkOps(applied, applied), []);
});

test('sink: a changed threshold or method is an edit even at the same weight', (t) => {
  const applied = new Map([['10.0.0.1:80', dest('10.0.0.1')]]);
  const desired = new Map([['10.0.0.1:80', { ...dest('10.0.0.1'), upperThreshold: 100 }]]);
  t.deepEqual(planSinkOps(applied, desired).map((o) => o.op), ['set-weight']);
});

test('sink: destinations compare as the kernel holds them — a tunnel only for tun, with its defaults filled in', (t) => {
  const tun = (tunnel: SinkDestination['tunnel']): SinkDestination => ({ ...dest('10.0.0.1'), forward: 'tun', tunnel });
  const dumped = new Map([['10.0.0.1:80', tun({ type: 'ipip', port: 0, checksum: 'none' })]]);
  t.deepEqual(planSinkOps(dumped, new Map([['10.0.0.1:80', tun({ type: 'ipip' })]])), [], 'what a dump shows for a spec without port or checksum');
  t.deepEqual(planSinkOps(dumped, new Map([['10.0.0.1:80', tun(undefined)]])), [], 'no tunnel is ipip');
  t.deepEqual(planSinkOps(dumped, new Map([['10.0.0.1:80', tun({ type: 'gue', port: 6080 })]])).map((o) => o.op), ['set-weight']);
  const dr = new Map([['10.0.0.1:80', { ...dest('10.0.0.1'), tunnel: { type: 'gre' as const } }]]);
  t.deepEqual(planSinkOps(new Map([['10.0.0.1:80', dest('10.0.0.1')]]), dr), [], 'a tunnel on a dr real server means nothing to the kernel');
});

test('sorry-server transitions: quorum lost or regained is one event; a reload moving an active sorry server is two', (t) => {
  const p: VirtualServerPolicy = { quorum: 20, hysteresis: 0, sorryServer: dest('10.9.9.9', 1), sorryServerInhibit: false };
  const moved: VirtualServerPolicy = { ...p, sorryServer: dest('10.9.9.8', 1) };
  t.deepEqual(sorryTransitions({ policy: p, quorumUp: true }, { policy: p, quorumUp: false }), [{ active: true, destination: '10.9.9.9:80' }]);
  t.deepEqual(sorryTransitions({ policy: p, quorumUp: false }, { policy: p, quorumUp: true }), [{ active: false, destination: '10.9.9.9:80' }]);
  t.deepEqual(sorryTransitions({ policy: p, quorumUp: false }, { policy: moved, quorumUp: false }),
    [{ active: false, destination: '10.9.9.9:80' }, { active: true, destination: '10.9.9.8:80' }]);
  t.deepEqual(sorryTransitions({ policy: p, quorumUp: true }, { policy: moved, quorumUp: true }), [], 'idle: nothing to tell');
  t.deepEqual(sorryTransitions({ policy: { ...p, sorryServer: dest('10.9.9.9', 5) }, quorumUp: false }, { policy: p, quorumUp: false }), [], 'a new weight is an applied op, not a transition');
  t.deepEqual(sorryTransitions({ policy: policy, quorumUp: false }, { policy: p, quorumUp: false }), [{ active: true, destination: '10.9.9.9:80' }], 'added while quorum is lost');
});
