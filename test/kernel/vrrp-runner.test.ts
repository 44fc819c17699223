// layer: tests (kernel tier, root)
// job: the runner on real sockets between namespaces: election of three, VIP with label, GARPs and adverts on the wire, a burst of mutated datagrams, hooks and notify scripts, release on a signal.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSocket } from '../../src/native/socket.js';
import type { SyncDaemonRequest } from '../../src/vrrp/events.js';
import { encodeAdvertisement, encodeIpv4Header, encodePassword } from '../../src/vrrp/packet.js';
import { DROP_REASONS } from '../../src/vrrp/receive.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { addressesOn, createVrrpLab } from '../helpers/vrrp-lab.js';
import { entered, startRunner } from '../helpers/vrrp-runner.js';
import { until } from '../helpers/until.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-runner): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.skip : test.serial;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** v2, advert 1 s: Master_Down_Interval ≤ 3.996 s; the margin covers a busy 2-core machine. */
const ELECTION_MS = 4000 + 1500;

ktest('three balancers elect the highest priority: only it holds the labelled VIP, sends PASS adverts with TTL 255 and GARPs', async (t) => {
  const lab = await createVrrpLab(t, 3);
  const vip = `${lab.net4}.100`;
  const vi = (priority: number) => ({
    name: 'VI_1', interface: 'eth0', vrid: 51, priority, authPass: 'secret12345', advertIntervalMs: 1000,
    virtualAddresses: [{ address: vip, label: 'eth0:5' }],
  });
  const [a, b, c] = await Promise.all([100, 200, 150].map((p, i) => startRunner(t, lab.balancers[i]!.ns, { instances: [vi(p)] })));
  await b!.waitFor(entered('VI_1', 'MASTER'), ELECTION_MS);
  await b!.runner.settled();
  const garps = await lab.waitFor((s) => s.kind === 'garp' && s.address === vip, 2000, 0);
  t.is(garps.mac, lab.balancers[1]!.mac);
  // The first round of gratuitous ARPs (garp_master_repeat 5) and an advert from the master.
  await until('5 gratuitous ARPs and an advert from the master', () => lab.seen.filter((s) => s.kind === 'garp' && s.address === vip).length >= 5
    && lab.adverts(51).some((s) => s.src === lab.balancers[1]!.ipv4), 3000);
  const onB = await lab.balancers[1]!.ns.ip('-4', '-o', 'addr', 'show', 'dev', 'eth0');
  t.regex(onB, new RegExp(`inet ${vip.replaceAll('.', '\\.')}/32 scope global eth0:5`));
  for (const i of [0, 2]) t.false((await addressesOn(lab.balancers[i]!.ns)).includes(vip), `balancer ${i} has no VIP`);
  const adverts = lab.adverts(51).filter((s) => s.src === lab.balancers[1]!.ipv4);
  t.true(adverts.length >= 1);
  t.like(adverts[0], { dst: '224.0.0.18', ttl: 255, version: 2, priority: 200, authData: 'secret12' });
  t.is(lab.seen.filter((s) => s.kind === 'garp' && s.address === vip).length, 5, 'garp_master_repeat 5 (the delayed round comes 5 s later)');
  t.like(a!.runner.status()[0], { state: 'BACKUP', master: { address: lab.balancers[1]!.ipv4, priority: 200 } });
  t.like(c!.runner.status()[0], { state: 'BACKUP' });
  t.is(lab.adverts(51).filter((s) => s.src !== lab.balancers[1]!.ipv4).length, 0, 'the backups never advertised');
});

ktest('3,000 mutated datagrams at a MASTER and a BACKUP: every one dropped and counted by reason, no transition, VIP stays', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const vip = `${lab.net4}.101`;
  const vi = (priority: number) => ({ name: 'VI_F', interface: 'eth0', vrid: 52, priority, authPass: 'fuzz', virtualAddresses: [vip] });
  const master = await startRunner(t, lab.balancers[0]!.ns, { instances: [vi(200)] });
  await master.waitFor(entered('VI_F', 'MASTER'), ELECTION_MS);
  const backup = await startRunner(t, lab.balancers[1]!.ns, { instances: [vi(100)] });
  await until('the backup has heard the master', () => backup.runner.status()[0]?.master, 5000);
  const transitionsBefore = [master, backup].map((r) => r.events.filter((e) => e.type === 'transition').length);
  // Adverts from the observer that WOULD win (priority 254) if any passed, each broken one way.
  const sender = openSocket({ family: 'inet', type: 'raw', protocol: 112, netns: lab.observer.name });
  t.teardown(() => sender.close());
  sender.setHeaderIncluded(true).setMulticastInterfaceIPv4(await lab.observer.ifindex('br0'));
  const src = `${lab.net4}.254`;
  const good = (changes: object = {}): Buffer => encodeAdvertisement({ version: 2, vrid: 52, priority: 254, advertIntervalCs: 100, authType: 1, authData: encodePassword('fuzz'), addresses: [vip], ...changes }, 4);
  const breakers: Array<(i: number) => { vrrp: Buffer; ttl?: number }> = [
    (i) => { const v = good(); const at = 8 + (i % (v.length - 8)); v[at] = v[at]! ^ (1 << (i % 8)); return { vrrp: v }; }, // checksum (or auth data) broken
    () => ({ vrrp: good(), ttl: 64 }),
    () => ({ vrrp: good().subarray(0, 12) }),
    () => ({ vrrp: Buffer.concat([good(), Buffer.alloc(3)]) }),
    () => ({ vrrp: good({ authData: encodePassword('wrong') }) }),
    () => ({ vrrp: good({ authType: 0 }) }),
    () => ({ vrrp: good({ advertIntervalCs: 200 }) }),
    () => ({ vrrp: good({ addresses: [vip, `${lab.net4}.102`] }) }),
    () => ({ vrrp: good({ addresses: [`${lab.net4}.103`] }) }),
    () => ({ vrrp: good({ type: 3 }) }),
    () => { const v = good(); v[0] = 0x41; return { vrrp: v }; },
    () => ({ vrrp: Buffer.from([0x21]) }),
  ];
  const total = 3000;
  const counted = (r: typeof master): number => {
    const own = Object.values(r.runner.status()[0]!.stats.drops).reduce((x, y) => x + y, 0);
    const channel = Object.values(r.runner.channelDrops()).flatMap((d) => Object.values(d)).reduce((x, y) => x + y, 0);
    return own + channel;
  };
  for (let i = 0; i < total; i++) {
    const { vrrp, ttl } = breakers[i % breakers.length]!(i);
    const header = encodeIpv4Header({ src, dst: '224.0.0.18', payloadBytes: vrrp.length, id: i + 1, ...(ttl !== undefined ? { ttl } : {}) });
    await sender.send([header, vrrp], { family: 'inet', address: '224.0.0.18' });
    // Stay within the receivers' socket buffers: at most 100 datagrams not yet counted by either.
    if (i % 50 === 49) await until(`both receivers counted ${i + 1 - 100} of ${i + 1}`, () => counted(master) >= i + 1 - 100 && counted(backup) >= i + 1 - 100, 10_000, 2);
  }
  for (let i = 0; i < 100 && (counted(master) < total || counted(backup) < total); i++) await sleep(50);
  for (const [name, r] of [['master', master], ['backup', backup]] as const) {
    t.is(counted(r), total, `${name}: every datagram is a counted drop`);
    const drops = r.runner.status()[0]!.stats.drops;
    for (const reason of ['checksum', 'ttl', 'truncated', 'length', 'auth', 'auth-type', 'interval', 'address-count', 'address-list', 'type', 'version'] as const) {
      t.true(drops[reason] > 0 || (r.runner.channelDrops()[Object.keys(r.runner.channelDrops())[0]!]![reason] ?? 0) > 0, `${name}: ${reason} counted: ${JSON.stringify(drops)}`);
    }
    t.true(Object.keys(drops).every((k) => (DROP_REASONS as readonly string[]).includes(k)));
  }
  t.deepEqual([master, backup].map((r) => r.events.filter((e) => e.type === 'transition').length), transitionsBefore, 'no transition');
  t.is(master.runner.status()[0]!.state, 'MASTER');
  t.is(backup.runner.status()[0]!.state, 'BACKUP');
  t.true((await addressesOn(lab.balancers[0]!.ns)).includes(vip));
  t.true(master.events.some((e) => e.type === 'drop' && e.message === 'received an invalid passwd!'), 'drops are reported with keepalived\'s text');
});

ktest('lvs_sync_daemon_interface drives the hook (backup, master, stop); notify scripts run with explicit argv', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-notify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'notify.log');
  const requests: SyncDaemonRequest[] = [];
  const r = await startRunner(t, lab.balancers[0]!.ns, {
    instances: [{
      name: 'VI_S', interface: 'eth0', vrid: 53, priority: 255, virtualAddresses: [`${lab.net4}.104`], lvsSyncDaemonInterface: 'eth0',
      notify: { master: ['/usr/bin/touch', path.join(dir, 'became-master')], notify: ['/bin/sh', '-c', `echo "$@" >> ${log}`, 'notify'] },
    }],
    hooks: { syncDaemon: (req) => { requests.push(req); } },
  });
  await r.waitFor(entered('VI_S', 'MASTER'), 2000);
  await r.waitFor((e) => e.type === 'script' && e.argv[0] === '/bin/sh', 5000);
  await r.waitFor((e) => e.type === 'script' && e.argv[0] === '/usr/bin/touch', 5000);
  t.is(readFileSync(log, 'utf8'), 'INSTANCE VI_S MASTER 255\n');
  t.notThrows(() => readFileSync(path.join(dir, 'became-master')));
  await r.runner.stop();
  t.deepEqual(requests.map((q) => [q.role, q.interface, q.syncId]), [['master', 'eth0', 53], ['stop', 'eth0', 53]]);
  const timedOut = await startRunner(t, lab.balancers[0]!.ns, {
    instances: [{ name: 'VI_T', interface: 'eth0', vrid: 54, priority: 255, virtualAddresses: [`${lab.net4}.105`], notify: { master: ['/bin/sleep', '5'] } }],
    notifyTimeoutMs: 200,
  });
  const script = await timedOut.waitFor((e) => e.type === 'script', 3000);
  t.like(script, { type: 'script', timedOut: true, signal: 'SIGKILL' });
});

ktest('releaseOnSignal: the MASTER\'s priority 0 leaves from the signal handler, before the JS listener runs, once; then the VIP is released', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const vip = `${lab.net4}.106`;
  const r = await startRunner(t, lab.balancers[0]!.ns, {
    instances: [{ name: 'VI_R', interface: 'eth0', vrid: 55, priority: 255, version: 3, advertIntervalMs: 50, virtualAddresses: [vip] }],
  });
  await r.waitFor(entered('VI_R', 'MASTER'), 2000);
  await r.runner.settled();
  let listenerAtMs = 0;
  const stopped = new Promise<void>((resolve) => process.once('SIGUSR2', () => {
    listenerAtMs = performance.now();
    resolve(r.runner.stop());
  }));
  r.runner.releaseOnSignal(['SIGUSR2']);
  // Two adverts at priority 255 with the release armed.
  const armedAtMs = performance.now();
  const advert255 = (s: { kind: string; vrid?: number; priority?: number }): boolean => s.kind === 'vrrp' && s.vrid === 55 && s.priority === 255;
  const first = await lab.waitFor(advert255, 2000, armedAtMs);
  await lab.waitFor((s) => advert255(s) && s.atMs > first.atMs, 2000, first.atMs);
  const signalledAtMs = performance.now();
  process.kill(process.pid, 'SIGUSR2');
  await stopped;
  await sleep(150);
  const zeros = lab.seen.filter((s) => s.kind === 'vrrp' && s.vrid === 55 && s.priority === 0);
  t.is(zeros.length, 1, 'one priority 0: the stop did not send a second');
  // The observer times frames by the kernel's receive stamp: the advert was on the wire first.
  t.true(zeros[0]!.atMs >= signalledAtMs && zeros[0]!.atMs <= listenerAtMs,
    `priority 0 at ${(zeros[0]!.atMs - signalledAtMs).toFixed(2)} ms, JS listener at ${(listenerAtMs - signalledAtMs).toFixed(2)} ms`);
  t.is(lab.seen.filter((s) => s.kind === 'vrrp' && s.vrid === 55 && s.atMs > zeros[0]!.atMs).length, 0, 'nothing after the priority 0');
  t.like(r.runner.status()[0], { state: 'INIT', stats: { priorityZeroSent: 1 } });
  t.false((await addressesOn(lab.balancers[0]!.ns)).includes(vip));
});
