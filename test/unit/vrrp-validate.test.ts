// layer: tests (unit tier)
// job: instance settings are checked before anything is sent: keepalived's defaults filled in, every refusal names its field.
import test from 'ava';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import { validateInstance, validateVrrpConfig, VrrpConfigError } from '../../src/vrrp/validate.js';

const site: VrrpInstanceConfig = {
  name: 'VI_2', interface: 'eth0', vrid: 52, priority: 100, advertIntervalMs: 1000, authPass: 'pass-for-instance',
  trackInterfaces: ['eth0', 'eth1', 'eth1:2'],
  virtualAddresses: [{ address: '123.30.175.40', dev: 'eth1', label: 'eth1:2' }],
  lvsSyncDaemonInterface: 'eth0',
};

test('the operator\'s instance resolves with keepalived\'s defaults', (t) => {
  const r = validateInstance(site);
  t.like(r, {
    name: 'VI_2', interface: 'eth0', vrid: 52, priority: 100, version: 2, family: 4, advertIntervalCs: 100,
    preempt: true, preemptDelayMs: 0, acceptMode: true, unicastPeers: [], lvsSyncDaemonInterface: 'eth0',
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
  });
  t.deepEqual(r.vips, [{ address: '123.30.175.40', prefixLength: 32, dev: 'eth1', label: 'eth1:2' }]);
  t.is(r.authData?.toString('latin1'), 'pass-for');
  t.deepEqual(r.track, [{ dev: 'eth0', weight: 0 }, { dev: 'eth1', weight: 0 }], 'eth1:2 is a label on eth1');
});

test('IPv6 with version 3 and prefixes; defaults of /128', (t) => {
  const r = validateInstance({ name: 'V6', interface: 'eth0', vrid: 9, version: 3, advertIntervalMs: 50, virtualAddresses: ['fd00::10', 'fd00::11/64'] });
  t.like(r, { family: 6, version: 3, advertIntervalCs: 5 });
  t.deepEqual(r.vips.map((v) => v.prefixLength), [128, 64]);
});

test('each invalid setting is refused with its field named', (t) => {
  const bad = (patch: Partial<VrrpInstanceConfig> | Record<string, unknown>, field: string, text: RegExp): void => {
    const error = t.throws(() => validateInstance({ ...site, ...patch } as VrrpInstanceConfig, 'VI_2'), { instanceOf: VrrpConfigError });
    t.is(error?.field, field, JSON.stringify(patch));
    t.regex(error?.message ?? '', text);
  };
  bad({ vrid: 0 }, 'VI_2.vrid', /0 is not an integer in 1\.\.255/);
  bad({ vrid: 256 }, 'VI_2.vrid', /1\.\.255/);
  bad({ vrid: 1.5 }, 'VI_2.vrid', /1\.\.255/);
  bad({ priority: 0 }, 'VI_2.priority', /1\.\.255/);
  bad({ priority: 256 }, 'VI_2.priority', /1\.\.255/);
  bad({ advertIntervalMs: 1500 }, 'VI_2.advertIntervalMs', /VRRPv2 carries whole seconds, 1\.\.255 s/);
  bad({ advertIntervalMs: 256_000 }, 'VI_2.advertIntervalMs', /VRRPv2/);
  bad({ version: 3, authPass: undefined, advertIntervalMs: 5 }, 'VI_2.advertIntervalMs', /VRRPv3 carries centiseconds, 10\.\.40950 ms/);
  bad({ version: 3, authPass: undefined, advertIntervalMs: 41_000 }, 'VI_2.advertIntervalMs', /VRRPv3/);
  bad({ version: 3 }, 'VI_2.authPass', /VRRPv3 has no authentication/);
  bad({ version: 4 }, 'VI_2.version', /not 2 or 3/);
  bad({ virtualAddresses: ['123.30.175.40', '2001:db8::1'] }, 'VI_2.virtualAddresses[1]', /IPv6 but the instance is IPv4/);
  bad({ virtualAddresses: ['2001:db8::1'] }, 'VI_2.version', /IPv4 only; IPv6 needs version 3/);
  bad({ virtualAddresses: [] }, 'VI_2.virtualAddresses', /at least one/);
  bad({ virtualAddresses: ['123.30.175.400'] }, 'VI_2.virtualAddresses[0]', /not an IPv4 or IPv6 address/);
  bad({ virtualAddresses: ['10.0.0.1/33'] }, 'VI_2.virtualAddresses[0]', /0\.\.32/);
  bad({ virtualAddresses: ['10.0.0.1', '10.0.0.1'] }, 'VI_2.virtualAddresses[1]', /listed twice/);
  bad({ virtualAddresses: [{ address: '10.0.0.1', label: 'eth1:2' }] }, 'VI_2.virtualAddresses[0].label', /must begin with the device name "eth0"/);
  bad({ unicastPeers: ['2001:db8::2'] }, 'VI_2.unicastPeers[0]', /IPv6 but the instance is IPv4/);
  bad({ unicastSourceAddress: 'lb1' }, 'VI_2.unicastSourceAddress', /not an IPv4 or IPv6 address/);
  bad({ interface: 'a-very-long-interface-name' }, 'VI_2.interface', /not an interface name/);
  bad({ priority: 255, trackInterfaces: [{ dev: 'eth1', weight: -10 }] }, 'VI_2.trackInterfaces[0].weight', /owner/);
  bad({ trackInterfaces: [{ dev: 'eth1', weight: 300 }] }, 'VI_2.trackInterfaces[0].weight', /-254\.\.254/);
  bad({ notify: { master: [] } }, 'VI_2.notify.master', /argv/);
  bad({ notify: { master: '/bin/true' } }, 'VI_2.notify.master', /argv/);
  bad({ preemptDelayMs: -1 }, 'VI_2.preemptDelayMs', /0\.\.1000000/);
});

test('across instances: unique names, one VRID per interface and family, sound sync groups', (t) => {
  const a = { name: 'A', interface: 'eth0', vrid: 1, virtualAddresses: ['10.0.0.1'] };
  const b = { name: 'B', interface: 'eth0', vrid: 2, virtualAddresses: ['10.0.0.2'] };
  t.is(validateVrrpConfig([a, b], [{ name: 'G', members: ['A', 'B'] }]).syncGroups[0]?.name, 'G');
  t.like(t.throws(() => validateVrrpConfig([a, { ...b, name: 'A' }])), { field: 'instances[1].name' });
  t.like(t.throws(() => validateVrrpConfig([a, { ...b, vrid: 1 }])), { field: 'instances[1].vrid', message: 'instances[1].vrid: VRID 1 on eth0 (IPv4) is already used by A' });
  t.notThrows(() => validateVrrpConfig([a, { ...b, vrid: 1, interface: 'eth1' }]), 'the same VRID on another interface is fine');
  t.notThrows(() => validateVrrpConfig([a, { ...b, vrid: 1, version: 3, virtualAddresses: ['fd00::1'] }]), 'and in the other family');
  t.like(t.throws(() => validateVrrpConfig([a, b], [{ name: 'G', members: ['A'] }])), { field: 'syncGroups[0].members' });
  t.like(t.throws(() => validateVrrpConfig([a, b], [{ name: 'G', members: ['A', 'C'] }])), { field: 'syncGroups[0].members[1]' });
  t.like(t.throws(() => validateVrrpConfig([a, b], [{ name: 'G', members: ['A', 'B'] }, { name: 'H', members: ['B', 'A'] }])),
    { field: 'syncGroups[1].members[0]', message: 'syncGroups[1].members[0]: B is already in sync group G' });
  t.like(t.throws(() => validateVrrpConfig([])), { field: 'instances' });
  t.like(t.throws(() => validateVrrpConfig([{ ...a, vrid: 0 }])), { field: 'instances[0].vrid' });
});
