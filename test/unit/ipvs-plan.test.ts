// layer: tests (unit)
// job: plan() table tests: minimal ordered operations, edits in place, ownership; inverse() undoes each kind of operation.
import test from 'ava';
import { inverse } from '../../src/ipvs/apply.js';
import { describeOp } from '../../src/ipvs/format.js';
import type { DestinationState, ServiceState, VirtualService } from '../../src/ipvs/model.js';
import { plan, type Op } from '../../src/ipvs/plan.js';

const rs = (address: string, weight = 10): DestinationState => ({
  address, port: 80, family: 4, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0, activeConns: 3, inactiveConns: 1, persistentConns: 0,
});
const kernelService = (address: string, dests: DestinationState[], extra: Partial<ServiceState> = {}): ServiceState =>
  ({ protocol: 'tcp', address, port: 80, family: 4, scheduler: 'rr', destinations: dests, ...extra }) as ServiceState;
const wanted = (address: string, dests: [string, number][], extra: Partial<VirtualService> = {}): VirtualService =>
  ({ protocol: 'tcp', address, port: 80, scheduler: 'rr', destinations: dests.map(([a, weight]) => ({ address: a, port: 80, forward: 'dr', weight })), ...extra }) as VirtualService;

const lines = (ops: Op[]): string[] => ops.map(describeOp);

test('identical tables plan nothing, whatever the counters say', (t) => {
  const current = [kernelService('123.30.175.40', [rs('172.16.16.37'), rs('172.16.16.38')])];
  t.deepEqual(plan(current, [wanted('123.30.175.40', [['172.16.16.38', 10], ['172.16.16.37', 10]])]), []);
});

test('from empty: each service, then its real servers, in the desired order', (t) => {
  t.deepEqual(lines(plan([], [wanted('10.0.0.1', [['10.0.1.1', 10], ['10.0.1.2', 5]]), wanted('10.0.0.2', [])])), [
    '+ service TCP 10.0.0.1:80 rr',
    '+ real server TCP 10.0.0.1:80 -> 10.0.1.1:80 dr weight 10',
    '+ real server TCP 10.0.0.1:80 -> 10.0.1.2:80 dr weight 5',
    '+ service TCP 10.0.0.2:80 rr',
  ]);
});

test('a changed weight is one edit of that real server, never delete + add', (t) => {
  const current = Array.from({ length: 50 }, (_, i) => kernelService(`10.0.${i}.1`, [rs(`10.1.${i}.1`), rs(`10.1.${i}.2`)]));
  const desired = current.map((_s, i) => wanted(`10.0.${i}.1`, [[`10.1.${i}.1`, 10], [`10.1.${i}.2`, i === 17 ? 20 : 10]]));
  const ops = plan(current, desired);
  t.deepEqual(lines(ops), ['~ real server TCP 10.0.17.1:80 -> 10.1.17.2:80: dr weight 10 → dr weight 20']);
  t.like(ops[0], { kind: 'edit-destination', destination: { weight: 20 }, previous: { weight: 10 } });
});

test('make before break: add and edit real servers before deleting; removed services last', (t) => {
  const current = [kernelService('10.0.0.1', [rs('10.0.1.1'), rs('10.0.1.2')]), kernelService('10.0.0.9', [rs('10.0.9.1')])];
  const desired = [wanted('10.0.0.1', [['10.0.1.3', 10], ['10.0.1.2', 7]], { scheduler: 'wlc' })];
  t.deepEqual(lines(plan(current, desired)), [
    '~ service TCP 10.0.0.1:80: rr → wlc',
    '+ real server TCP 10.0.0.1:80 -> 10.0.1.3:80 dr weight 10',
    '~ real server TCP 10.0.0.1:80 -> 10.0.1.2:80: dr weight 10 → dr weight 7',
    '- real server TCP 10.0.0.1:80 -> 10.0.1.1:80',
    '- service TCP 10.0.0.9:80 (with 1 real servers)',
  ]);
});

test('service settings: persistence, flags, one-packet and engine changes are edits; identity changes are delete + add', (t) => {
  const current = [kernelService('10.0.0.1', []), { fwmark: 5, family: 4, scheduler: 'sh', destinations: [] } as ServiceState];
  const desired: VirtualService[] = [
    { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr', persistence: { timeoutSec: 50 }, destinations: [] },
    { fwmark: 5, family: 6, scheduler: 'sh', schedulerFlags: ['sh-port'], destinations: [] },
  ];
  t.deepEqual(lines(plan(current, desired)), [
    '~ service TCP 10.0.0.1:80: rr → rr persistent 50',
    '+ service FWM 5 IPv6 sh (sh-port)',
    '- service FWM 5 (with 0 real servers)',
  ]);
  const persistent = [kernelService('10.0.0.1', [], { persistence: { timeoutSec: 50, prefixLength: 32 } })];
  t.deepEqual(plan(persistent, [{ ...desired[0], persistence: { timeoutSec: 50, netmask: '255.255.255.255' } } as VirtualService]), []);
  t.is(plan(persistent, [{ ...desired[0], persistence: { timeoutSec: 50, prefixLength: 24 } } as VirtualService]).length, 1);
});

test('forwarding method, thresholds and tunnel settings are edits; the tunnel only counts for tun', (t) => {
  const tun: DestinationState = { ...rs('10.0.1.1'), forward: 'tun', tunnel: { type: 'ipip', port: 0, checksum: 'none' } };
  const current = [kernelService('10.0.0.1', [tun, rs('10.0.1.2')])];
  const desired = (d1: object, d2: object): VirtualService[] => [{ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr',
    destinations: [{ address: '10.0.1.1', port: 80, weight: 10, ...d1 }, { address: '10.0.1.2', port: 80, weight: 10, ...d2 }] } as VirtualService];
  t.deepEqual(plan(current, desired({ forward: 'tun' }, { forward: 'dr' })), []);
  t.deepEqual(lines(plan(current, desired({ forward: 'tun', tunnel: { type: 'gue', port: 6080 } }, { forward: 'nat', upperThreshold: 100, lowerThreshold: 10 }))), [
    '~ real server TCP 10.0.0.1:80 -> 10.0.1.1:80: tun weight 10 tunnel ipip → tun weight 10 tunnel gue:6080',
    '~ real server TCP 10.0.0.1:80 -> 10.0.1.2:80: dr weight 10 → nat weight 10 upper 100 lower 10',
  ]);
});

test('ownership: disowned services and real servers are never removed; desired ones are still reconciled', (t) => {
  const current = [
    kernelService('10.0.0.1', [rs('10.0.1.1'), rs('192.168.0.1')]),
    kernelService('10.0.0.2', [rs('10.0.2.1')]),
    kernelService('192.168.9.9', [rs('10.0.3.1')]),
    kernelService('10.0.0.3', [rs('10.0.4.1'), rs('192.168.0.2')]),
  ];
  const owns = {
    service: (s: ServiceState | VirtualService) => !('address' in s && s.address.startsWith('192.168.')),
    destination: (_s: unknown, d: { address: string }) => !d.address.startsWith('192.168.'),
  };
  t.deepEqual(lines(plan(current, [wanted('10.0.0.1', [['10.0.1.1', 20]])], { owns })), [
    '~ real server TCP 10.0.0.1:80 -> 10.0.1.1:80: dr weight 10 → dr weight 20',
    '- service TCP 10.0.0.2:80 (with 1 real servers)',
    '- real server TCP 10.0.0.3:80 -> 10.0.4.1:80',
  ]);
});

test('desired input is validated before anything is planned, naming the field', (t) => {
  t.throws(() => plan([], [wanted('10.0.0.1', [['10.0.1.1', -1]])]), { message: 'desired[0].destinations[0].weight: must be an integer in 0…2147483647, got -1' });
  t.throws(() => plan([], [wanted('10.0.0.1', [['10.0.1.1', 1], ['10.0.1.1', 2]])]), { message: /^desired\[0\]\.destinations\[1\]: real server 10\.0\.1\.1:80 duplicates/ });
  t.throws(() => plan([], [wanted('10.0.0.1', []), wanted('10.0.0.1', [])]), { message: /^desired\[1\]: service TCP 10\.0\.0\.1:80 duplicates desired\[0\]/ });
});

test('inverse() undoes each kind of operation', (t) => {
  const key = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
  const d = { address: '10.0.1.1', port: 80, forward: 'dr', weight: 10 } as const;
  const cases: [Op, string[]][] = [
    [{ kind: 'add-service', service: { ...key, scheduler: 'rr' } }, ['- service TCP 10.0.0.1:80 (with 0 real servers)']],
    [{ kind: 'edit-service', service: { ...key, scheduler: 'wlc' }, previous: { scheduler: 'rr' } }, ['~ service TCP 10.0.0.1:80: wlc → rr']],
    [{ kind: 'delete-service', service: { ...key, scheduler: 'rr' }, destinations: [d] },
      ['+ service TCP 10.0.0.1:80 rr', '+ real server TCP 10.0.0.1:80 -> 10.0.1.1:80 dr weight 10']],
    [{ kind: 'add-destination', service: key, destination: d }, ['- real server TCP 10.0.0.1:80 -> 10.0.1.1:80']],
    [{ kind: 'edit-destination', service: key, destination: { ...d, weight: 20 }, previous: d },
      ['~ real server TCP 10.0.0.1:80 -> 10.0.1.1:80: dr weight 20 → dr weight 10']],
    [{ kind: 'delete-destination', service: key, destination: d }, ['+ real server TCP 10.0.0.1:80 -> 10.0.1.1:80 dr weight 10']],
  ];
  for (const [op, undo] of cases) t.deepEqual(lines(inverse(op)), undo, op.kind);
});
