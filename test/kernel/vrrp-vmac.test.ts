// layer: tests (kernel tier, root)
// job: use_vmac against a real keepalived 2.2 as the oracle, in the same run: the VMAC link (kind, mode, MAC, sysctls), the adverts' source MAC (VMAC, or the base's with vmac_xmit_base), the VIP on it, removal at stop, one master in a mixed pair, IPv4 and IPv6 (VRRPv3: the link-local on the VMAC); the base link deleted and back under `lvskit run`.
import test, { type ExecutionContext } from 'ava';
import { performance } from 'node:perf_hooks';
import { daemonFiles, logged, startDaemon, type Daemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable, run, type Netns } from '../helpers/netns.js';
import { until } from '../helpers/until.js';
import { addressesOnLink, addressFacts, linkExists, stopped, sysctl, vmacFacts } from '../helpers/vmac-facts.js';
import { handOver } from '../helpers/vmac-pair.js';
import { createVrrpLab, type Balancer, type VrrpLab } from '../helpers/vrrp-lab.js';
import { keepalivedEntered, startKeepalived, type Line, type Speaker } from '../helpers/vrrp-procs.js';

const unavailable = kernelTierUnavailable()
  ?? (await run(['keepalived', '--version']).then(() => undefined, () => 'keepalived is not installed'));
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-vmac): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function conf(o: { vrid: number; priority: number; vip: string; dev?: string; extra?: string }): string {
  return `global_defs {
  router_id lb
}
vrrp_instance VI_VMAC {
  state BACKUP
  interface ${o.dev ?? 'eth0'}
  virtual_router_id ${o.vrid}
  priority ${o.priority}
  advert_int 1
  use_vmac
${o.extra ?? ''}  virtual_ipaddress {
    ${o.vip}/${o.vip.includes(':') ? 64 : 24}
  }
}
`;
}

function lvskitDaemon(t: ExecutionContext, b: Balancer, text: string): Daemon {
  return startDaemon(t, b.ns, daemonFiles(t, { 'keepalived.conf': text }));
}

/** lvskit MASTER (priority 200) and keepalived BACKUP (100), both with `extra`; each's VMAC described while both run. */
async function mixedPair(t: ExecutionContext, lab: VrrpLab, vrid: number, extra = '', family: 4 | 6 = 4): Promise<{ lvskit: Daemon; keepalived: Speaker; vip: string }> {
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vip = family === 4 ? `${lab.net4}.${100 + (vrid % 50)}` : `${lab.net6}::${(0x100 + vrid).toString(16)}`;
  const lvskit = lvskitDaemon(t, lb1, conf({ vrid, priority: 200, vip, extra }));
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  const keepalived = startKeepalived(t, lb2.ns, conf({ vrid, priority: 100, vip, extra }));
  await keepalived.waitFor(keepalivedEntered('VI_VMAC', 'BACKUP'), 5000, true);
  return { lvskit, keepalived, vip };
}

ktest('use_vmac: lvskit makes the VMAC keepalived makes (macvlan private, 00:00:5e:00:01:VRID, its sysctls), adverts leave with the VMAC as source MAC, the VIP is on it; one master in a mixed pair; removed at stop', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vrid = 61;
  const name = `vrrp.${vrid}`;
  const mac = '00:00:5e:00:01:3d';
  const { lvskit, keepalived, vip } = await mixedPair(t, lab, vrid);
  // Both made their VMAC (keepalived's BACKUP too): the same link, the same settings.
  const ours = await until('lvskit\'s VMAC with its VIP', async () => ((await addressesOnLink(lb1.ns, name)).includes(vip) ? vmacFacts(lb1.ns, name, 'eth0') : undefined), 5000);
  const theirs = await vmacFacts(lb2.ns, name, 'eth0');
  t.log('keepalived\'s VMAC:', JSON.stringify(theirs));
  t.deepEqual(ours, theirs);
  t.like(theirs, { kind: 'macvlan', mode: 'private', mac, parent: 'eth0', up: true }); // the oracle is what the issue says it is
  t.false((await addressesOnLink(lb1.ns, 'eth0')).includes(vip), 'the VIP is on the VMAC, not on eth0');
  // The adverts: lvskit's leave with the VMAC as source MAC, as keepalived's do once lvskit stops.
  await handOver(t, lab, { vrid, instance: 'VI_VMAC', link: name, lvskit: { speaker: lvskit, ns: lb1.ns, src: lb1.ipv4, mac }, keepalived: { speaker: keepalived, ns: lb2.ns, src: lb2.ipv4, mac } });
  t.deepEqual(await addressesOnLink(lb2.ns, name), [vip]);
  // keepalived removes its own at its stop too (the oracle of removal). lvskit puts the base's
  // arp_ignore/arp_filter back; keepalived 2.2.7 leaves them at 1 (a difference docs/vrrp.md names).
  await stopped(keepalived);
  t.false(await linkExists(lb2.ns, name), 'keepalived removed its VMAC at its stop');
  t.deepEqual((await vmacFactsOfBase(lb1.ns)), { arp_ignore: '0', arp_filter: '0' });
  t.deepEqual((await vmacFactsOfBase(lb2.ns)), { arp_ignore: '1', arp_filter: '1' });
});

async function vmacFactsOfBase(ns: Netns): Promise<Record<string, string>> {
  return { arp_ignore: await sysctl(ns, 'net.ipv4.conf.eth0.arp_ignore'), arp_filter: await sysctl(ns, 'net.ipv4.conf.eth0.arp_filter') };
}

ktest('vmac_xmit_base: adverts leave through the base interface (its MAC as source), as keepalived sends them; the VIP stays on the VMAC', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vrid = 62;
  const { lvskit, keepalived, vip } = await mixedPair(t, lab, vrid, '  vmac_xmit_base\n');
  await until('the VIP on lvskit\'s VMAC', async () => (await addressesOnLink(lb1.ns, `vrrp.${vrid}`)).includes(vip), 5000);
  // keepalived hears lvskit on the base and stays BACKUP; it too sends from the base with vmac_xmit_base.
  await handOver(t, lab, { vrid, instance: 'VI_VMAC', link: `vrrp.${vrid}`, lvskit: { speaker: lvskit, ns: lb1.ns, src: lb1.ipv4, mac: lb1.mac }, keepalived: { speaker: keepalived, ns: lb2.ns, src: lb2.ipv4, mac: lb2.mac } });
});

ktest('the base link of a VMAC deleted under `lvskit run`: a warning at the use_vmac line, FAULT, the daemon runs on; the base back → the VMAC made again, MASTER, adverts from it (keepalived does the same)', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const [lb1] = lab.balancers as [Balancer];
  const vrid = 63;
  const base = 'vbase';
  const addBase = async (): Promise<void> => {
    await lb1.ns.ip('link', 'add', 'name', base, 'type', 'veth', 'peer', 'name', `${base}p`);
    await lb1.ns.ip('addr', 'add', '10.250.63.1/24', 'dev', base);
    await lb1.ns.ip('link', 'set', `${base}p`, 'up');
    await lb1.ns.ip('link', 'set', base, 'up');
  };
  await addBase();
  const daemon = lvskitDaemon(t, lb1, conf({ vrid, priority: 200, vip: '10.250.63.100', dev: base }));
  await daemon.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  t.true(await linkExists(lb1.ns, `vrrp.${vrid}`));
  await lb1.ns.ip('link', 'del', base);
  const gone = await daemon.waitFor(logged('vrrp', 'warning', (j) => String(j.msg).includes('was deleted')), 5000, true);
  t.log(gone.text);
  t.regex(gone.text, /keepalived\.conf:10:3: VI_VMAC: macvlan vrrp\.63 on vbase was deleted/);
  await daemon.waitFor(logged('vrrp', 'transition', (j) => j.to === 'FAULT'), 5000, true);
  t.is(daemon.child.exitCode, null, 'the daemon runs on');
  await sleep(500);
  const back = performance.now();
  await addBase();
  const after = (accept: (l: Line) => boolean) => (l: Line): boolean => l.atMs >= back && accept(l);
  await daemon.waitFor(after(logged('vrrp', 'warning', (j) => String(j.msg).includes('made again'))), 8000, true);
  await daemon.waitFor(after(logged('vrrp', 'transition', (j) => j.to === 'MASTER')), 10_000, true);
  const facts = await vmacFacts(lb1.ns, `vrrp.${vrid}`, base);
  t.like(facts, { kind: 'macvlan', mode: 'private', mac: '00:00:5e:00:01:3f', parent: base, up: true });
  t.deepEqual(await addressesOnLink(lb1.ns, `vrrp.${vrid}`), ['10.250.63.100']);
  // Its adverts leave from the new VMAC: seen on the base's peer.
  const seen = await lb1.ns.exec(['timeout', '3', 'tcpdump', '-c', '1', '-e', '-n', '-i', `${base}p`, 'ip proto 112']).catch((e: { stdout?: string }) => e.stdout ?? '');
  t.regex(seen, /00:00:5e:00:01:3f > 01:00:5e:00:00:12/);
  await stopped(daemon);
  t.false(await linkExists(lb1.ns, `vrrp.${vrid}`));
});

ktest('IPv6 use_vmac (VRRPv3): lvskit makes the VMAC keepalived makes (00:00:5e:00:02:VRID, IPv6 on, the base\'s link-local on it); adverts leave from that link-local with the VMAC as source MAC; one master in a mixed pair', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vrid = 64;
  const name = `vrrp.${vrid}`;
  const mac = '00:00:5e:00:02:40';
  const { lvskit, keepalived, vip } = await mixedPair(t, lab, vrid, '  version 3\n', 6);
  const names = (b: Balancer): Record<string, string> => ({ [b.linkLocal]: 'LL', [vip]: 'VIP' });
  const v6 = async (ns: Netns): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const k of ['accept_dad', 'accept_ra', 'autoconf', 'forwarding']) out[k] = await sysctl(ns, `net.ipv6.conf.${name.replace('.', '/')}.${k}`);
    return out;
  };
  const ours = await until('lvskit\'s VMAC with its VIP', async () => ((await addressFacts(lb1.ns, name, names(lb1))).some((a) => a.local === 'VIP') ? vmacFacts(lb1.ns, name, 'eth0') : undefined), 5000);
  const theirs = await vmacFacts(lb2.ns, name, 'eth0');
  t.log('keepalived\'s VMAC:', JSON.stringify(theirs));
  t.log('lvskit\'s VMAC:    ', JSON.stringify(ours));
  t.deepEqual(ours, theirs);
  t.like(theirs, { kind: 'macvlan', mode: 'private', mac, parent: 'eth0', up: true, addrGenMode: 'none', disableIpv6: '0' });
  t.deepEqual(await v6(lb1.ns), await v6(lb2.ns));
  const ourAddresses = await addressFacts(lb1.ns, name, names(lb1));
  const backupAddresses = await addressFacts(lb2.ns, name, names(lb2));
  t.deepEqual(ourAddresses.filter((a) => a.local !== 'VIP'), backupAddresses, 'the same link-local on each VMAC');
  await handOver(t, lab, { vrid, instance: 'VI_VMAC', link: name, lvskit: { speaker: lvskit, ns: lb1.ns, src: lb1.linkLocal, mac }, keepalived: { speaker: keepalived, ns: lb2.ns, src: lb2.linkLocal, mac } });
  const theirAddresses = await until('keepalived\'s VIP on its VMAC', async () => {
    const a = await addressFacts(lb2.ns, name, names(lb2));
    return a.some((x) => x.local === 'VIP') ? a : undefined;
  }, 5000);
  t.log('addresses on keepalived\'s VMAC (MASTER):', JSON.stringify(theirAddresses));
  t.log('addresses on lvskit\'s VMAC (MASTER):    ', JSON.stringify(ourAddresses));
  t.deepEqual(ourAddresses, theirAddresses);
  await stopped(keepalived);
});
