// layer: tests (unit)
// job: the balancer's IPVS table: start adopts what the kernel holds (weights kept, DOWN ones presumed DOWN, stale real servers dropped), a reload's service operations (real servers are the checks'), ownership.
import test from 'ava';
import { desiredFromSpec } from '../../src/daemon/desired.js';
import { adoptedTable, ownership, serviceOps } from '../../src/daemon/ipvs-table.js';
import type { DestinationState, ServiceState } from '../../src/ipvs/model.js';
import { plan } from '../../src/ipvs/plan.js';

const web = { protocol: 'tcp' as const, address: '10.0.0.100', port: 80 };
const api = { protocol: 'tcp' as const, address: '10.0.0.100', port: 8080 };
const rs = (address: string, extra: object = {}) => ({ address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK' as const }], ...extra });

function row(address: string, weight: number, port = 80): DestinationState {
  return { address, port, weight, forward: 'dr', family: 4, upperThreshold: 0, lowerThreshold: 0, activeConns: 3, inactiveConns: 1, persistentConns: 0 } as unknown as DestinationState;
}
function service(key: typeof web, destinations: DestinationState[]): ServiceState {
  return { ...key, scheduler: 'rr', family: 4, flags: 0, netmask: 0xffffffff, destinations } as unknown as ServiceState;
}

const desired = desiredFromSpec({ services: [
  { id: '', service: web, scheduler: 'rr', forward: 'dr', realServers: [rs('10.0.1.1'), rs('10.0.1.2'), rs('10.0.1.3')] },
  { id: '', service: api, scheduler: 'rr', forward: 'dr', realServers: [rs('10.0.2.1')] },
] });

test('start adopts: current weights kept (a DOWN one stays at 0 and starts DOWN), a missing one starts DOWN, a stale one goes, a new service starts fresh', (t) => {
  const current = [service(web, [row('10.0.1.1', 10), row('10.0.1.2', 0), row('10.0.9.9', 5)])];
  const a = adoptedTable(current, desired);
  t.deepEqual(a.services[0]!.destinations!.map((d) => [d.address, d.weight]), [['10.0.1.1', 10], ['10.0.1.2', 0]]);
  t.deepEqual([...a.presumedDown.get('TCP 10.0.0.100:80')!].sort(), ['10.0.1.2:80', '10.0.1.3:80']);
  t.false(a.presumedDown.has('TCP 10.0.0.100:8080'), 'a new service: keepalived\'s start');
  const ops = plan(current, a.services, { owns: ownership(desired) });
  t.deepEqual(ops.map((o) => `${o.kind} ${'destination' in o ? o.destination.address : ''}`.trim()),
    ['delete-destination 10.0.9.9', 'add-service', 'add-destination 10.0.2.1'], 'nothing that carries traffic is touched');
});

test('a restart of an unchanged balancer plans nothing', (t) => {
  const current = [service(web, [row('10.0.1.1', 10), row('10.0.1.2', 10), row('10.0.1.3', 0)]), service(api, [row('10.0.2.1', 10, 8080)])];
  const a = adoptedTable(current, desired);
  t.deepEqual(plan(current, a.services, { owns: ownership(desired) }), []);
});

test('reload: service operations only — added with start real servers, settings edited, a kept one deleted behind our back created again empty, one made by hand adopted', (t) => {
  const before = desiredFromSpec({ services: [{ id: '', service: web, scheduler: 'rr', forward: 'dr', realServers: [rs('10.0.1.1'), rs('10.0.1.2')] }] });
  const after = desiredFromSpec({ services: [
    { id: '', service: web, scheduler: 'wrr', forward: 'dr', realServers: [rs('10.0.1.1', { weight: 20 }), rs('10.0.1.2')] },
    { id: '', service: api, scheduler: 'rr', forward: 'dr', realServers: [rs('10.0.2.1')] },
  ] });
  const current = [service(web, [row('10.0.1.1', 10), row('10.0.1.2', 0)])];
  const p = serviceOps(current, before, after);
  t.deepEqual(p.ops.map((o) => o.kind), ['edit-service', 'add-service', 'add-destination'], 'the weight change is the checks\' to make, not the plan\'s');
  t.deepEqual([...p.recreated, ...p.adopted], []);
  const gone = serviceOps([], before, after);
  t.deepEqual(gone.ops.map((o) => o.kind), ['add-service', 'add-service', 'add-destination']);
  t.deepEqual([...gone.recreated], ['TCP 10.0.0.100:80'], 'the deleted one comes back empty: its checks fill it');
  const byHand = serviceOps([...current, service(api, [row('10.0.9.9', 1, 8080)])], before, after);
  t.deepEqual([...byHand.adopted], ['TCP 10.0.0.100:8080']);
  t.deepEqual(byHand.ops.map((o) => o.kind), ['edit-service'], 'an existing service is not re-added');
});

test('ownership: only declared services are removed, unless lvs_flush', (t) => {
  const before = desiredFromSpec({ services: [{ id: '', service: web, scheduler: 'rr', realServers: [] }] });
  const after = desiredFromSpec({ services: [] });
  const current = [service(web, []), service(api, [])];
  t.deepEqual(plan(current, [], { owns: ownership(before, after) }).map((o) => `${o.kind} ${'port' in o.service ? o.service.port : ''}`), ['delete-service 80'], 'a service nobody declared is left alone');
  t.is(plan(current, [], { owns: ownership(before, { ...after, flush: true }) }).length, 2);
});
