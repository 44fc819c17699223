// layer: tests (unit tier)
// job: a reload as pure differences: instances classified by name (added, removed, replaced, changed with its fields, unchanged), the VIP difference, advert content, regrouped sync groups.
import test from 'ava';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import {
  advertContentChanged, changedFields, changedGroups, diffInstances, IDENTITY_FIELDS, summarizeDiff, vipDifference,
} from '../../src/vrrp/reconfigure.js';
import { validateInstance } from '../../src/vrrp/validate.js';

const base: VrrpInstanceConfig = {
  name: 'VI_1', interface: 'eth0', vrid: 51, priority: 150, authPass: 'secret', advertIntervalMs: 1000,
  virtualAddresses: ['10.0.0.100', { address: '10.0.0.101', dev: 'eth1', label: 'eth1:2' }], lvsSyncDaemonInterface: 'eth0',
};
const resolve = (c: Partial<VrrpInstanceConfig> = {}) => validateInstance({ ...base, ...c });

test('diffInstances: matched by name — added, removed, unchanged (deep-equal, the password by its bytes)', (t) => {
  const prev = [resolve(), resolve({ name: 'VI_OLD', vrid: 52 })];
  const next = [resolve(), resolve({ name: 'VI_NEW', vrid: 53 })];
  const diff = diffInstances(prev, next);
  t.deepEqual(summarizeDiff(diff), { added: ['VI_NEW'], removed: ['VI_OLD'], replaced: [], changed: [], unchanged: ['VI_1'] });
  t.not(prev[0]!.authData, next[0]!.authData, 'two validations, two Buffers');
  t.is(diff.unchanged[0], next[0], 'the new resolved instance is kept');
});

test('diffInstances: settings outside the identity are changed in place, each changed field named', (t) => {
  const cases: Array<[Partial<VrrpInstanceConfig>, string[]]> = [
    [{ priority: 120 }, ['priority']],
    [{ advertIntervalMs: 2000 }, ['advertIntervalCs']],
    [{ virtualAddresses: ['10.0.0.100', '10.0.0.102'] }, ['vips']],
    [{ authPass: 'other' }, ['authData']],
    [{ preempt: false, preemptDelayMs: 5000 }, ['preempt', 'preemptDelayMs']],
    [{ trackInterfaces: ['eth1'] }, ['track']],
    [{ garpMasterRefreshMs: 60_000 }, ['garp']],
    [{ lvsSyncDaemonInterface: 'eth1' }, ['lvsSyncDaemonInterface']],
    [{ lvsSyncDaemonInterface: undefined }, ['lvsSyncDaemonInterface']],
    [{ notify: { master: ['/bin/true'] } }, ['notify']],
    [{ priority: 255 }, ['priority']],
  ];
  for (const [change, fields] of cases) {
    const diff = diffInstances([resolve()], [resolve(change)]);
    t.deepEqual(summarizeDiff(diff).changed, [{ name: 'VI_1', fields }], JSON.stringify(change));
    t.is(diff.replaced.length + diff.unchanged.length, 0);
  }
});

test('diffInstances: an identity change (interface, VRID, version, family, unicast source or peers) replaces the instance', (t) => {
  const cases: Array<[Partial<VrrpInstanceConfig>, string[]]> = [
    [{ interface: 'eth2' }, ['interface', 'vips', 'track']], // the default VIP device and the tracked interface follow it
    [{ vrid: 60 }, ['vrid']],
    [{ version: 3, authPass: undefined }, ['version', 'authData']],
    [{ version: 3, authPass: undefined, virtualAddresses: ['fd00::100'] }, ['version', 'family', 'vips', 'authData']],
    [{ unicastPeers: ['10.0.0.2'] }, ['unicastPeers']],
    [{ unicastSourceAddress: '10.0.0.1', unicastPeers: ['10.0.0.2'] }, ['unicastPeers', 'unicastSourceAddress']],
    [{ vrid: 60, priority: 10 }, ['vrid', 'priority']],
  ];
  for (const [change, fields] of cases) {
    const diff = diffInstances([resolve()], [resolve(change)]);
    t.deepEqual(summarizeDiff(diff).replaced.map((c) => ({ ...c, fields: [...c.fields].sort() })), [{ name: 'VI_1', fields: [...fields].sort() }], JSON.stringify(change));
    t.is(diff.changed.length, 0);
    t.true(diff.replaced[0]!.fields.some((f) => (IDENTITY_FIELDS as readonly string[]).includes(f)));
  }
  const peers = resolve({ unicastPeers: ['10.0.0.2'] });
  t.is(diffInstances([peers], [resolve({ unicastPeers: ['10.0.0.3'] })]).replaced.length, 1, 'other peers');
});

test('diffInstances: the lists follow the new order; removed the old order', (t) => {
  const a = resolve({ name: 'A', vrid: 1 });
  const b = resolve({ name: 'B', vrid: 2 });
  const c = resolve({ name: 'C', vrid: 3 });
  const d = resolve({ name: 'D', vrid: 4 });
  t.deepEqual(summarizeDiff(diffInstances([d, a, c, b], [b, a])), { added: [], removed: ['D', 'C'], replaced: [], changed: [], unchanged: ['B', 'A'] });
});

test('changedFields: a key present on one side only counts; nested values compare deeply', (t) => {
  t.deepEqual(changedFields({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }), []);
  t.deepEqual(changedFields<Record<string, unknown>>({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [2, 1] }, d: 0 }), ['b', 'd']);
  t.deepEqual(changedFields({ x: Buffer.from('ab') }, { x: Buffer.from('ab') }), []);
  t.deepEqual(changedFields({ x: Buffer.from('ab') }, { x: Buffer.from('ac') }), ['x']);
});

test('vipDifference: new and dropped VIPs; one configured the same is untouched, one configured differently goes and comes back', (t) => {
  const prev = resolve().vips;
  t.deepEqual(vipDifference(prev, resolve({ virtualAddresses: [{ address: '10.0.0.101', dev: 'eth1', label: 'eth1:2' }, '10.0.0.100'] }).vips),
    { added: [], removed: [] }, 'the order does not matter to the kernel');
  t.deepEqual(vipDifference(prev, resolve({ virtualAddresses: ['10.0.0.100', '10.0.0.103'] }).vips), {
    added: [{ address: '10.0.0.103', prefixLength: 32, dev: 'eth0' }],
    removed: [{ address: '10.0.0.101', prefixLength: 32, dev: 'eth1', label: 'eth1:2' }],
  });
  const relabelled = vipDifference(prev, resolve({ virtualAddresses: ['10.0.0.100', { address: '10.0.0.101', dev: 'eth1', label: 'eth1:3' }] }).vips);
  t.deepEqual(relabelled.removed.map((v) => v.label), ['eth1:2']);
  t.deepEqual(relabelled.added.map((v) => v.label), ['eth1:3']);
  t.deepEqual(vipDifference(prev, resolve({ virtualAddresses: ['10.0.0.100/24', { address: '10.0.0.101', dev: 'eth1', label: 'eth1:2' }] }).vips).added,
    [{ address: '10.0.0.100', prefixLength: 24, dev: 'eth0' }], 'another prefix');
});

test('advertContentChanged: the address list as sent (its order too) and the password; not priority or interval (the machine sees those)', (t) => {
  const prev = resolve();
  t.false(advertContentChanged(prev, resolve({ priority: 10, advertIntervalMs: 3000, preempt: false })));
  t.true(advertContentChanged(prev, resolve({ virtualAddresses: [{ address: '10.0.0.101', dev: 'eth1', label: 'eth1:2' }, '10.0.0.100'] })));
  t.true(advertContentChanged(prev, resolve({ virtualAddresses: ['10.0.0.100'] })));
  t.true(advertContentChanged(prev, resolve({ authPass: 'secret2' })));
  t.false(advertContentChanged(prev, resolve({ virtualAddresses: ['10.0.0.100', { address: '10.0.0.101', dev: 'eth1', label: 'eth1:9' }] })), 'a label is not sent');
});

test('changedGroups: new groups and groups whose members differ; the same members in another order are no change', (t) => {
  const prev = [{ name: 'G1', members: ['A', 'B'] }, { name: 'G2', members: ['C', 'D'] }, { name: 'G3', members: ['E', 'F'] }];
  const next = [{ name: 'G1', members: ['B', 'A'] }, { name: 'G2', members: ['C', 'D', 'X'] }, { name: 'G4', members: ['E', 'F'] }];
  t.deepEqual(changedGroups(prev, next), ['G2', 'G4']);
});
