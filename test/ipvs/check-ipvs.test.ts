// layer: tests (IPVS tier)
// job: health checks drive the kernel through the IPVS sink: inhibit_on_failure weights, quorum → sorry server and back, omega removal — all seen by `ipvsadm -Ln`.
import test from 'ava';
import { ipvsSink } from '../../src/check/ipvs-sink.js';
import type { VirtualServerSpec } from '../../src/check/spec.js';
import type { ServiceKey } from '../../src/ipvs/model.js';
import { recordedHealthChecks } from '../helpers/check-runner.js';
import { ipvsNetns, type IpvsNs } from '../helpers/ipvs.js';
import { Backend, backends } from '../helpers/check-servers.js';

const SERVICE: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };

/** `address:port` → [forward, weight] of the service's real servers, as `ipvsadm -Ln` prints them. */
async function listed(x: IpvsNs): Promise<Record<string, [string, number]>> {
  const out: Record<string, [string, number]> = {};
  for (const m of (await x.ipvsadm('-Ln', '-t', '10.0.0.1:80')).matchAll(/^\s+->\s+(\S+)\s+(\w+)\s+(\d+)/gm)) {
    if (m[1] !== 'RemoteAddress:Port') out[m[1]!] = [m[2]!, Number(m[3])];
  }
  return out;
}

/** Real servers 10.0.0.2.. (DR, weight 10, inhibit_on_failure), each checked on its loopback backend via connect_ip/connect_port. */
function site(list: Backend[], extra: Partial<VirtualServerSpec<ServiceKey>> = {}): VirtualServerSpec<ServiceKey> {
  return {
    id: 'web', service: SERVICE, port: 80, forward: 'dr', ...extra,
    realServers: list.map((b, i) => ({
      address: `10.0.0.${i + 2}`, weight: 10, inhibitOnFailure: true,
      checkers: [{ kind: 'TCP_CHECK', connectIp: '127.0.0.1', connectPort: b.port, connectTimeoutMs: 1000, delayLoopMs: 300, retry: 0 }],
    })),
  };
}

test.serial('inhibit_on_failure in the kernel: a failing real server goes to weight 0 and back to 10', async (t) => {
  const x = await ipvsNetns(t);
  await x.ipvs.addService({ ...SERVICE, scheduler: 'wrr' });
  const list = await backends(t, 2);
  const r = recordedHealthChecks(t, { sink: ipvsSink(x.ipvs) });
  await r.hc.add(site(list));
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 10], '10.0.0.3:80': ['Route', 10] });
  await list[0]!.stop();
  await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'down', 15_000, 'DOWN');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 0], '10.0.0.3:80': ['Route', 10] });
  await list[0]!.start();
  await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'up', 15_000, 'UP');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 10], '10.0.0.3:80': ['Route', 10] });
  t.deepEqual(r.events.filter((e) => e.type === 'sink-error'), []);
});

test.serial('quorum lost: the sorry server takes over in the kernel; regained: the real servers are back and it is gone', async (t) => {
  const x = await ipvsNetns(t);
  await x.ipvs.addService({ ...SERVICE, scheduler: 'rr' });
  const list = await backends(t, 2);
  const r = recordedHealthChecks(t, { sink: ipvsSink(x.ipvs) });
  await r.hc.add(site(list, { quorum: 20, sorryServer: { address: '10.0.0.99' } }));
  await list[1]!.stop();
  await r.waitFor((e) => e.type === 'quorum' && !e.up, 15_000, 'quorum lost');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 0], '10.0.0.3:80': ['Route', 0], '10.0.0.99:80': ['Route', 1] });
  await list[1]!.start();
  await r.waitFor((e) => e.type === 'quorum' && e.up, 15_000, 'quorum regained');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 10], '10.0.0.3:80': ['Route', 10] });
});

test.serial('a real server deleted behind our back is put back on the next change; omega removes everything at shutdown', async (t) => {
  const x = await ipvsNetns(t);
  await x.ipvs.addService({ ...SERVICE, scheduler: 'rr' });
  const list = await backends(t, 2);
  const r = recordedHealthChecks(t, { sink: ipvsSink(x.ipvs) });
  await r.hc.add(site(list, { omega: true }));
  await x.ipvsadm('-d', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80');
  await list[0]!.stop();
  await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'down', 15_000, 'DOWN');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 0], '10.0.0.3:80': ['Route', 10] }, 'set-weight of a vanished server added it back');
  await r.hc.shutdown();
  t.deepEqual(await listed(x), {});
});
