// layer: tests (unit tier)
// job: the pure diff of a running virtual server and its new settings: real servers kept/added/removed by address:port, checkers kept/started/stopped by check key.
import test from 'ava';
import { diffVirtualServers } from '../../src/check/diff.js';
import { checkKey } from '../../src/check/share.js';
import type { RealServerSpec, VirtualServerSpec } from '../../src/check/spec.js';
import { validateVirtualServer } from '../../src/check/validate.js';

const rs = (address: string, extra: Partial<RealServerSpec> = {}): RealServerSpec => ({
  address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 1000 }], ...extra,
});
const vs = (realServers: RealServerSpec[], extra: Partial<VirtualServerSpec<string>> = {}): VirtualServerSpec<string> => ({
  id: 'web', service: 'web', port: 80, forward: 'dr', delayLoopMs: 6000, realServers, ...extra,
});
const diff = (a: VirtualServerSpec<string>, b: VirtualServerSpec<string>) => diffVirtualServers(validateVirtualServer(a), validateVirtualServer(b));
const tcpKey = (address: string, connectTimeoutMs = 1000): string => checkKey(validateVirtualServer(vs([rs(address, { checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs }] })])).realServers[0]!.checkers[0]!.config);

test('equal settings are unchanged, whatever the order of the real servers or of the properties', (t) => {
  const d = diff(vs([rs('10.0.0.1'), rs('10.0.0.2')]), vs([rs('10.0.0.2', { inhibitOnFailure: true, weight: 10 }), rs('10.0.0.1')]));
  t.true(d.unchanged);
  t.deepEqual([d.added, d.removed, d.kept.filter((k) => k.changed)], [[], [], []]);
  t.deepEqual(d.checkers, { kept: 2, started: 0, stopped: 0 });
  t.true(diff(vs([rs('10.0.0.1')]), vs([rs('10.0.0.1', { delayLoopMs: 6000 })])).unchanged, 'a default given again where it was inherited is no change');
});

test('real servers are matched by address:port: a new port is a removal and an addition', (t) => {
  const d = diff(vs([rs('10.0.0.1'), rs('10.0.0.2'), rs('10.0.0.3')]), vs([rs('10.0.0.2'), rs('10.0.0.3', { port: 8080 }), rs('10.0.0.4')]));
  t.false(d.unchanged);
  t.deepEqual(d.added, ['10.0.0.3:8080', '10.0.0.4:80']);
  t.deepEqual(d.removed, ['10.0.0.1:80', '10.0.0.3:80']);
  t.deepEqual(d.kept.map((k) => [k.id, k.changed]), [['10.0.0.2:80', false]]);
  t.deepEqual(d.checkers, { kept: 1, started: 2, stopped: 2 });
});

test('a new weight is a changed destination with every checker kept', (t) => {
  const d = diff(vs([rs('10.0.0.1'), rs('10.0.0.2')]), vs([rs('10.0.0.1', { weight: 20 }), rs('10.0.0.2')]));
  t.deepEqual(d.kept.map((k) => [k.id, k.changed, k.destinationChanged, k.keptCheckers.length, k.startedCheckers, k.stoppedCheckers]),
    [['10.0.0.1:80', true, true, 1, [], []], ['10.0.0.2:80', false, false, 1, [], []]]);
  t.false(d.policyChanged);
});

test('a changed checker parameter stops the old check key and starts the new one; alpha alone keeps the checker', (t) => {
  const d = diff(vs([rs('10.0.0.1'), rs('10.0.0.2')]), vs([rs('10.0.0.1', { checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 2000 }] }), rs('10.0.0.2', { alpha: true })]));
  const [one, two] = d.kept;
  t.deepEqual([one!.keptCheckers, one!.startedCheckers, one!.stoppedCheckers], [[], [tcpKey('10.0.0.1', 2000)], [tcpKey('10.0.0.1')]]);
  t.false(one!.destinationChanged);
  t.deepEqual([two!.changed, two!.keptCheckers, two!.startedCheckers], [true, [tcpKey('10.0.0.2')], []]);
  t.deepEqual(d.checkers, { kept: 1, started: 1, stopped: 1 });
});

test('a timing default inherited from the virtual server changes the key of every checker that inherits it', (t) => {
  const d = diff(vs([rs('10.0.0.1'), rs('10.0.0.2', { delayLoopMs: 3000 })]), vs([rs('10.0.0.1'), rs('10.0.0.2', { delayLoopMs: 3000 })], { delayLoopMs: 9000 }));
  t.deepEqual(d.kept.map((k) => [k.id, k.keptCheckers.length, k.startedCheckers.length]), [['10.0.0.1:80', 0, 1], ['10.0.0.2:80', 1, 0]]);
});

test('policy, scripts and the service identity are told apart', (t) => {
  const base = vs([rs('10.0.0.1')]);
  t.deepEqual(pick(diff(base, { ...base, quorum: 20 })), { policyChanged: true, settingsChanged: false, serviceChanged: false });
  t.deepEqual(pick(diff(base, { ...base, sorryServer: { address: '10.9.9.9' } })), { policyChanged: true, settingsChanged: false, serviceChanged: false });
  t.deepEqual(pick(diff(base, { ...base, quorumUp: ['/bin/true'] })), { policyChanged: false, settingsChanged: true, serviceChanged: false });
  t.deepEqual(pick(diff(base, { ...base, service: 'api' })), { policyChanged: false, settingsChanged: false, serviceChanged: true });
  t.false(diff(base, { ...base, omega: true }).unchanged);
});

function pick(d: ReturnType<typeof diff>): { policyChanged: boolean; settingsChanged: boolean; serviceChanged: boolean } {
  return { policyChanged: d.policyChanged, settingsChanged: d.settingsChanged, serviceChanged: d.serviceChanged };
}
