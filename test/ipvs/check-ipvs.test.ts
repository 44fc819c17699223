// layer: tests (IPVS tier)
// job: health checks drive the kernel through the IPVS sink: inhibit_on_failure weights, quorum → sorry server and back, omega removal, a reload applied as a difference, drift repaired — all seen by `ipvsadm -Ln`.
import test from 'ava';
import { ipvsSink, sinkDestinations, type IpvsDestinationClient } from '../../src/check/ipvs-sink.js';
import type { RealServerSpec, VirtualServerSpec } from '../../src/check/spec.js';
import { serviceName, type ServiceKey } from '../../src/ipvs/model.js';
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
  await r.hc.stop();
  t.deepEqual(await listed(x), {});
});

/** The IPVS client's destination calls, passed through and recorded as `NEW|SET|DEL address:port weight`. */
function recordingClient(x: IpvsNs): { calls: string[]; client: IpvsDestinationClient } {
  const calls: string[] = [];
  return {
    calls,
    client: {
      addDestination: (svc, d) => { calls.push(`NEW ${d.address}:${d.port} ${d.weight}`); return x.ipvs.addDestination(svc, d); },
      editDestination: (svc, d) => { calls.push(`SET ${d.address}:${d.port} ${d.weight}`); return x.ipvs.editDestination(svc, d); },
      deleteDestination: (svc, d) => { calls.push(`DEL ${d.address}:${d.port}`); return x.ipvs.deleteDestination(svc, d); },
    },
  };
}

/** The site with real server `i` (10.0.0.(i+2)) changed by `change`. */
function changed(list: Backend[], i: number, change: Partial<RealServerSpec>): VirtualServerSpec<ServiceKey> {
  const spec = site(list);
  spec.realServers[i] = { ...spec.realServers[i]!, ...change };
  return spec;
}

test.serial('replace with one changed weight: exactly that edit reaches the kernel; a DOWN real server stays at 0', async (t) => {
  const x = await ipvsNetns(t);
  await x.ipvs.addService({ ...SERVICE, scheduler: 'wrr' });
  const list = await backends(t, 3);
  const rec = recordingClient(x);
  const r = recordedHealthChecks(t, { sink: ipvsSink(rec.client) });
  await r.hc.add(site(list));
  await list[2]!.stop();
  await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'down', 15_000, 'DOWN');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 10], '10.0.0.3:80': ['Route', 10], '10.0.0.4:80': ['Route', 0] });
  const before = rec.calls.length;
  const result = await r.hc.replace(changed(list, 0, { weight: 20 }));
  t.deepEqual(rec.calls.slice(before), ['SET 10.0.0.2:80 20'], 'one IPVS_CMD_SET_DEST, nothing else');
  t.deepEqual(result.ops.map((o) => [o.op, o.destination.address, o.destination.weight]), [['set-weight', '10.0.0.2', 20]]);
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 20], '10.0.0.3:80': ['Route', 10], '10.0.0.4:80': ['Route', 0] });
  await list[2]!.start();
  await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'up', 15_000, 'UP');
  await r.hc.settled();
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 20], '10.0.0.3:80': ['Route', 10], '10.0.0.4:80': ['Route', 10] });
  t.deepEqual(r.events.filter((e) => e.type === 'sink-error'), []);
});

test.serial('drift repaired from a fresh dump: a deleted, an edited and an extra real server, then the whole service re-created empty', async (t) => {
  const x = await ipvsNetns(t);
  await x.ipvs.addService({ ...SERVICE, scheduler: 'rr' });
  const list = await backends(t, 3);
  const rec = recordingClient(x);
  const r = recordedHealthChecks(t, { sink: ipvsSink(rec.client) });
  await r.hc.add(site(list));
  const dumped = async () => sinkDestinations((await x.ipvs.dumpTable()).find((s) => serviceName(s) === serviceName(SERVICE))?.destinations ?? []);
  await x.ipvsadm('-d', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80');
  await x.ipvsadm('-e', '-t', '10.0.0.1:80', '-r', '10.0.0.3:80', '-g', '-w', '3');
  await x.ipvsadm('-a', '-t', '10.0.0.1:80', '-r', '10.0.0.99:80', '-g', '-w', '5');
  let before = rec.calls.length;
  const repaired = await r.hc.reconcile('web', await dumped());
  t.deepEqual(rec.calls.slice(before), ['NEW 10.0.0.2:80 10', 'SET 10.0.0.3:80 10', 'DEL 10.0.0.99:80']);
  t.deepEqual(repaired.failures, []);
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 10], '10.0.0.3:80': ['Route', 10], '10.0.0.4:80': ['Route', 10] });
  before = rec.calls.length;
  t.like(await r.hc.reconcile('web', await dumped()), { ops: [] }, 'the dump matches: nothing to do');
  t.deepEqual(rec.calls.slice(before), []);
  await x.ipvsadm('-D', '-t', '10.0.0.1:80');
  await x.ipvs.addService({ ...SERVICE, scheduler: 'rr' });
  before = rec.calls.length;
  await r.hc.replace(changed(list, 1, { weight: 7 }), { present: await dumped() });
  t.deepEqual(rec.calls.slice(before), ['NEW 10.0.0.2:80 10', 'NEW 10.0.0.3:80 7', 'NEW 10.0.0.4:80 10']);
  t.deepEqual(await listed(x), { '10.0.0.2:80': ['Route', 10], '10.0.0.3:80': ['Route', 7], '10.0.0.4:80': ['Route', 10] });
});
