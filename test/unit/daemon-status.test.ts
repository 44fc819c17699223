// layer: tests (unit)
// job: balancerStatus() from a configuration and a stand-in kernel table: each declared real server with its kernel weight, connections and traffic counters, the service's own counters, a real server the kernel has and the file does not.
import test from 'ava';
import { parseConfigText } from '../../src/config/index.js';
import { loadDesired } from '../../src/daemon/desired.js';
import { balancerStatus } from '../../src/daemon/status.js';
import type { DestinationState, ServiceState, Stats } from '../../src/ipvs/model.js';

const CONF = `virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.1.1 8080 {
    weight 3
  }
  real_server 10.0.1.2 8080 {
    weight 2
  }
}
`;

function stats(n: number): Stats {
  const b = BigInt(n);
  return { width: 64, conns: b, inPkts: 10n * b, outPkts: 9n * b, inBytes: 1000n * b, outBytes: 2000n * b,
    connsPerSec: 0n, inPktsPerSec: 0n, outPktsPerSec: 0n, inBytesPerSec: 0n, outBytesPerSec: 0n };
}

function dest(address: string, weight: number, s?: Stats): DestinationState {
  return { address, port: 8080, forward: 'nat', family: 4, weight, upperThreshold: 0, lowerThreshold: 0,
    activeConns: 1, inactiveConns: 2, persistentConns: 0, ...(s ? { stats: s } : {}) };
}

test('status carries the kernel\'s counters for each service and real server, as numbers', (t) => {
  const desired = loadDesired({ config: parseConfigText(CONF, { file: 'keepalived.conf' }).config, file: 'keepalived.conf' });
  const table: ServiceState[] = [{
    protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr', family: 4, stats: stats(7),
    destinations: [dest('10.0.1.1', 3, stats(5)), dest('10.0.1.2', 2), dest('10.0.1.9', 1, stats(2))],
  }];
  const s = balancerStatus({ desired, instances: [], table, startedAtMs: 0, reloads: 0, reloadFailures: 0 });
  const [svc] = s.services;
  t.is(svc?.name, 'TCP 10.0.0.1:80');
  t.like(svc?.traffic, { connections: 7, packetsIn: 70, packetsOut: 63, bytesIn: 7000, bytesOut: 14000 });
  t.deepEqual(svc?.realServers.map((r) => [`${r.address}:${r.port}`, r.kernelWeight, r.activeConns, r.traffic?.connections]),
    [['10.0.1.1:8080', 3, 1, 5], ['10.0.1.2:8080', 2, 1, undefined], ['10.0.1.9:8080', 1, 1, 2]]);
  t.false('traffic' in (svc?.realServers[1] ?? {}), 'no statistics from the kernel: no traffic field');
  // JSON as the control socket sends it: plain numbers.
  t.is(JSON.parse(JSON.stringify(s)).services[0].realServers[0].traffic.bytesOut, 10000);
});

test('a service absent from the kernel has no counters', (t) => {
  const desired = loadDesired({ config: parseConfigText(CONF, { file: 'keepalived.conf' }).config, file: 'keepalived.conf' });
  const s = balancerStatus({ desired, instances: [], table: [], startedAtMs: 0, reloads: 0, reloadFailures: 0 });
  t.false(s.services[0]?.present);
  t.is(s.services[0]?.traffic, undefined);
  t.true(s.services[0]?.realServers.every((r) => r.traffic === undefined));
});
