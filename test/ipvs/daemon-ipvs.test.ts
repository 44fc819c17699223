// layer: tests (IPVS tier)
// job: the Balancer's IPVS table in a real kernel (oracle ipvsadm): start adopts (stale real servers go, missing ones start DOWN, others' services stay, a DOWN one stays DOWN across a restart), lvs_timeouts and always-on sync daemons applied, checks drive weights, drift repaired by reload, a graceful stop releases only what it declared.
import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { parseConfigText } from '../../src/config/index.js';
import { Balancer } from '../../src/daemon/balancer.js';
import type { BalancerEvent } from '../../src/daemon/events.js';
import { ipvsNetns, type IpvsNs } from '../helpers/ipvs.js';
import { createNetns, createVethPair } from '../helpers/netns.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP listener on 127.0.0.N:PORT in this process's namespace (the checks connect from here). */
async function listener(t: ExecutionContext, host: string, port: number): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  t.teardown(() => { server.close(); });
  return server;
}

function config(o: { weight2?: number; timeouts?: boolean } = {}): string {
  const rs = (address: string, weight: number): string => `  real_server ${address} 18080 {\n    weight ${weight}\n    inhibit_on_failure\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }\n`;
  return `global_defs {\n  lvs_sync_daemon sync0 id 9\n${o.timeouts === false ? '' : '  lvs_timeouts tcp 901 tcpfin 61 udp 301\n'}}\n
virtual_server 10.77.0.1 18080 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n${rs('127.0.0.11', 10)}${rs('127.0.0.12', o.weight2 ?? 10)}}\n`;
}

async function balancer(t: ExecutionContext, x: IpvsNs, text: string): Promise<{ b: Balancer; events: BalancerEvent[] }> {
  const b = await Balancer.open({ config: parseConfigText(text, { file: 'keepalived.conf' }).config, file: 'keepalived.conf', netns: x.ns.name });
  const events: BalancerEvent[] = [];
  b.on('event', (e) => events.push(e));
  t.teardown(() => b.stop('restart'));
  return { b, events };
}

/** `ipvsadm -Ln` service and real-server lines, the header left out. */
async function table(x: IpvsNs): Promise<string[]> {
  return (await x.ipvsadm('-Ln')).split('\n').slice(3).filter((l) => l.trim() !== '').map((l) => l.trim().replace(/\s+/g, ' '));
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

test.serial('start adopts, timeouts and daemons applied, checks drive weights, reload repairs drift, a graceful stop releases only what was declared', async (t) => {
  const x = await ipvsNetns(t);
  await createVethPair(x.ns, await createNetns(t), { deviceA: 'sync0', addressesA: ['192.168.78.1/24'], addressesB: ['192.168.78.2/24'] });
  await listener(t, '127.0.0.11', 18080);
  const second = await listener(t, '127.0.0.12', 18080);
  // Before the daemon: someone else's service, and the declared one with a stale real server.
  await x.ipvsadm('-A', '-t', '10.77.0.9:80', '-s', 'wlc');
  await x.ipvsadm('-A', '-t', '10.77.0.1:18080', '-s', 'rr');
  await x.ipvsadm('-a', '-t', '10.77.0.1:18080', '-r', '127.0.0.99:18080', '-g', '-w', '5');
  const { b, events } = await balancer(t, x, config());
  await b.start();
  // The declared service existed without these real servers: they start DOWN (inhibited, weight 0) and come in once checked;
  // their listeners answer already, so a first check may have passed before this read (weight 10): either is right here.
  t.deepEqual((await table(x)).map((l) => l.replace(/^(-> 127\.0\.0\.1[12]:18080 Route) 10 /, '$1 0 ')), [
    'TCP 10.77.0.1:18080 rr', '-> 127.0.0.11:18080 Route 0 0 0', '-> 127.0.0.12:18080 Route 0 0 0', 'TCP 10.77.0.9:80 wlc',
  ], 'the stale real server went, the other service stayed');
  await until('both checked UP', async () => (await table(x)).filter((l) => / Route 10 /.test(l)).length === 2);
  t.regex(await x.ipvsadm('-L', '--timeout'), /Timeout \(tcp tcpfin udp\): 901 61 301/);
  t.regex(await x.ipvsadm('-L', '--daemon'), /master sync daemon \(mcast=sync0, syncid=9[\s\S]*backup sync daemon \(mcast=sync0, syncid=9/);
  // A check fails: weight 0 (inhibit_on_failure); back: weight 10.
  second.close();
  await until('127.0.0.12 at weight 0', async () => (await table(x)).includes('-> 127.0.0.12:18080 Route 0 0 0'));
  await listener(t, '127.0.0.12', 18080);
  await until('127.0.0.12 back at weight 10', async () => (await table(x)).includes('-> 127.0.0.12:18080 Route 10 0 0'));
  // Drift: the service deleted behind the daemon's back; a reload re-creates it with its real servers.
  await x.ipvsadm('-D', '-t', '10.77.0.1:18080');
  const repaired = await b.reload();
  t.deepEqual(repaired.ipvs.map((o) => o.kind), ['add-service']);
  t.is(repaired.checkOps, 2, 'the checks put both real servers back');
  await until('service re-created', async () => (await table(x)).includes('-> 127.0.0.11:18080 Route 10 0 0'));
  // A weight edited by hand is put back; a weight changed in the file is one operation.
  await x.ipvsadm('-e', '-t', '10.77.0.1:18080', '-r', '127.0.0.11:18080', '-g', '-w', '3');
  const back = await b.reload();
  t.is(back.ipvs.length + back.checkOps, 1);
  t.true((await table(x)).includes('-> 127.0.0.11:18080 Route 10 0 0'));
  t.truthy(events.find((e) => e.source === 'daemon' && e.type === 'started'));
  await b.stop('graceful');
  t.deepEqual(await table(x), ['TCP 10.77.0.9:80 wlc'], 'only the declared service was removed');
  t.is((await x.ipvsadm('-L', '--daemon')).trim(), '', 'the sync daemons stopped');
});

test.serial('a restart adopts the table as it is: no operation, and a real server DOWN at the stop stays out until its check passes', async (t) => {
  const x = await ipvsNetns(t);
  await createVethPair(x.ns, await createNetns(t), { deviceA: 'sync0', addressesA: ['192.168.79.1/24'], addressesB: ['192.168.79.2/24'] });
  await listener(t, '127.0.0.11', 18080);
  const first = await balancer(t, x, config({ timeouts: false }));
  await first.b.start();
  await until('127.0.0.12 DOWN (nothing listens)', async () => (await table(x)).includes('-> 127.0.0.12:18080 Route 0 0 0'));
  await first.b.stop('restart');
  const before = await table(x);
  const next = await balancer(t, x, config({ timeouts: false }));
  const samples: string[][] = [];
  let sampling = true;
  const sampler = (async () => { while (sampling) { samples.push(await table(x)); await sleep(20); } })();
  await next.b.start();
  await sleep(2500); // more than a delay_loop: the DOWN one's check ran (and failed) meanwhile
  sampling = false;
  await sampler;
  const started = next.events.find((e) => e.source === 'daemon' && e.type === 'started');
  t.like(started, { ipvsOps: 0 });
  t.true(samples.every((s) => s.join('|') === before.join('|')), `the table never moved: ${[...new Set(samples.map((s) => s.join('|')))].join(' // ')}`);
  await listener(t, '127.0.0.12', 18080);
  await until('127.0.0.12 UP once its check passes', async () => (await table(x)).includes('-> 127.0.0.12:18080 Route 10 0 0'));
});
