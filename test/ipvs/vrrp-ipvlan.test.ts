// layer: tests (IPVS tier: user-mode Linux has the ipvlan driver the host kernel lacks)
// job: use_ipvlan against a real keepalived 2.2.7 as the oracle, in the same run: the ipvlan link (kind, L2 mode, flag, MAC, sysctls), its addresses and the base's (the VIP stays on the base), the adverts' source MAC and address, one master in a mixed pair, removal at stop; IPv4 and IPv6 (VRRPv3, the ipvlan's own link-local the advert source).
import test, { type ExecutionContext } from 'ava';
import { daemonFiles, logged, startDaemon, type Daemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable, run } from '../helpers/netns.js';
import { until } from '../helpers/until.js';
import { addressFacts, addressesOnLink, type AddressFacts, linkExists, stopped, vmacFacts } from '../helpers/vmac-facts.js';
import { handOver } from '../helpers/vmac-pair.js';
import { createVrrpLab, type Balancer, type Seen } from '../helpers/vrrp-lab.js';
import { keepalivedEntered, startKeepalived, type Speaker } from '../helpers/vrrp-procs.js';

const unavailable = kernelTierUnavailable()
  ?? (await run(['keepalived', '--version']).then(() => undefined, () => 'keepalived is not installed'))
  // Only asked whether it can be loaded (-n): the kernel loads it itself on the first RTM_NEWLINK
  // of kind ipvlan (lvskit's, in the first test), as it would on a balancer.
  ?? (await run(['modprobe', '-n', 'ipvlan']).then(() => undefined, (e: Error) => `this kernel has no ipvlan driver to load: ${e.message}`));
if (unavailable) console.warn(`SKIPPING IPVS tier (vrrp-ipvlan): ${unavailable}`);
const itest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

/** An instance with `use_ipvlan ${ipvlan}` (its words after the keyword). */
function conf(o: { vrid: number; priority: number; vip: string; ipvlan: string }): string {
  return `global_defs {
  router_id lb
}
vrrp_instance VI_IPVLAN {
  state BACKUP
  interface eth0
  virtual_router_id ${o.vrid}
  priority ${o.priority}
  advert_int 1
  use_ipvlan ${o.ipvlan}
  virtual_ipaddress {
    ${o.vip}/24
  }
}
`;
}

function lvskitDaemon(t: ExecutionContext, b: Balancer, text: string): Daemon {
  return startDaemon(t, b.ns, daemonFiles(t, { 'keepalived.conf': text }));
}

function keepalived(t: ExecutionContext, b: Balancer, text: string): Speaker {
  return startKeepalived(t, b.ns, text, undefined, '/var/tmp'); // not /tmp: the guest's is its own tmpfs
}

itest('use_ipvlan: lvskit makes the ipvlan keepalived makes (L2 bridge, the base\'s MAC, its address, its sysctls); adverts leave from its address; the VIP on the base; one master in a mixed pair; removed at stop', async (t) => {
  t.timeout(110_000);
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vrid = 71;
  const name = `vrrp.${vrid}`;
  const vip = `${lab.net4}.100`;
  const own = [`${lab.net4}.21`, `${lab.net4}.22`] as const;
  const names = (i: 0 | 1): Record<string, string> => {
    const b = lab.balancers[i]!;
    return { [own[i]]: 'IPVLAN', [vip]: 'VIP', [b.ipv4]: 'BASE', [b.ipv6]: 'BASE6', [b.linkLocal]: 'LL' };
  };
  /** The addresses on the ipvlan and on its base, named. */
  const addresses = async (i: 0 | 1): Promise<Record<string, AddressFacts[]>> => {
    const ns = lab.balancers[i]!.ns;
    return { [name]: await addressFacts(ns, name, names(i)), eth0: await addressFacts(ns, 'eth0', names(i)) };
  };
  // lvskit MASTER (200) first, then keepalived BACKUP (100).
  const lvskit = lvskitDaemon(t, lb1, conf({ vrid, priority: 200, vip, ipvlan: `${own[0]}/24` }));
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 30_000);
  const kd = keepalived(t, lb2, conf({ vrid, priority: 100, vip, ipvlan: `${own[1]}/24` }));
  await kd.waitFor(keepalivedEntered('VI_IPVLAN', 'BACKUP'), 15_000, true);
  const ours = await until('lvskit\'s ipvlan, the VIP up', async () => ((await addressesOnLink(lb1.ns, 'eth0')).includes(vip) ? vmacFacts(lb1.ns, name, 'eth0') : undefined), 10_000);
  const theirs = await until('keepalived\'s ipvlan with its address', async () => ((await addressesOnLink(lb2.ns, name)).includes(own[1]) ? vmacFacts(lb2.ns, name, 'eth0') : undefined), 10_000);
  t.log('keepalived\'s ipvlan:', JSON.stringify(theirs));
  t.log('lvskit\'s ipvlan:    ', JSON.stringify(ours));
  t.deepEqual(ours, theirs);
  t.like(theirs, { kind: 'ipvlan', mode: 'l2', ipvlanFlag: 'bridge', mac: 'base', parent: 'eth0', up: true }); // the oracle is what keepalived's source says
  const ourAddresses = await addresses(0);
  t.deepEqual(await addressesOnLink(lb1.ns, name), [own[0]], 'the VIP is on eth0, not on the ipvlan, as keepalived puts it (below)');
  // Adverts leave from each ipvlan's address with the base's MAC (an ipvlan has no MAC of its own):
  // lvskit's while it is MASTER (keepalived hears them through its ipvlan), keepalived's once lvskit stops.
  await handOver(t, lab, { vrid, instance: 'VI_IPVLAN', link: name, waitMs: 6000,
    lvskit: { speaker: lvskit, ns: lb1.ns, src: own[0], mac: lb1.mac }, keepalived: { speaker: kd, ns: lb2.ns, src: own[1], mac: lb2.mac } });
  // Each MASTER's gratuitous ARPs for the VIP leave from the base (where the VIP is), with its MAC.
  const garpFrom = (mac: string) => (x: Seen): boolean => x.kind === 'garp' && x.address === vip && x.mac === mac;
  t.true(lab.seen.some(garpFrom(lb1.mac)), 'lvskit announced the VIP');
  await lab.waitFor(garpFrom(lb2.mac), 5000, 0);
  const theirAddresses = await until('keepalived\'s VIP up', async () => ((await addressesOnLink(lb2.ns, 'eth0')).includes(vip) ? addresses(1) : undefined), 5000);
  t.log('addresses, keepalived MASTER:', JSON.stringify(theirAddresses));
  t.log('addresses, lvskit MASTER:    ', JSON.stringify(ourAddresses));
  t.like(theirAddresses, { [name]: [{ local: 'IPVLAN' }] });
  t.deepEqual(ourAddresses, theirAddresses);
  await stopped(kd);
  t.false(await linkExists(lb2.ns, name), 'keepalived removed its ipvlan at its stop');
});

itest('use_ipvlan NAME ADDRESS private: the named ipvlan in private mode, an address without a length, as keepalived makes them; adopted by lvskit started again after a SIGKILL', async (t) => {
  t.timeout(110_000);
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vrid = 72;
  const vip = `${lab.net4}.101`;
  const own = [`${lab.net4}.31`, `${lab.net4}.32`] as const;
  // Each alone in its own namespace (another VRID each, so both become MASTER).
  const lvskit = lvskitDaemon(t, lb1, conf({ vrid, priority: 100, vip, ipvlan: `ipv72 ${own[0]} private` }));
  const kd = keepalived(t, lb2, conf({ vrid: vrid + 1, priority: 100, vip: `${lab.net4}.102`, ipvlan: `ipv72 ${own[1]} private` }));
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 30_000);
  await kd.waitFor(keepalivedEntered('VI_IPVLAN', 'MASTER'), 20_000, true);
  const ours = await vmacFacts(lb1.ns, 'ipv72', 'eth0');
  const theirs = await vmacFacts(lb2.ns, 'ipv72', 'eth0');
  t.log('keepalived\'s ipvlan:', JSON.stringify(theirs));
  t.log('lvskit\'s ipvlan:    ', JSON.stringify(ours));
  t.deepEqual(ours, theirs);
  t.like(theirs, { kind: 'ipvlan', mode: 'l2', ipvlanFlag: 'private', mac: 'base', parent: 'eth0' });
  const ourAddresses = await addressFacts(lb1.ns, 'ipv72', { [own[0]]: 'IPVLAN', [vip]: 'VIP' });
  const theirAddresses = await addressFacts(lb2.ns, 'ipv72', { [own[1]]: 'IPVLAN', [`${lab.net4}.102`]: 'VIP' });
  t.true((await addressesOnLink(lb1.ns, 'eth0')).includes(vip) && (await addressesOnLink(lb2.ns, 'eth0')).includes(`${lab.net4}.102`), 'each VIP on eth0');
  t.log('addresses, keepalived:', JSON.stringify(theirAddresses), 'lvskit:', JSON.stringify(ourAddresses));
  t.deepEqual(ourAddresses, theirAddresses);
  // lvskit killed (no clean-up) and started again adopts the ipvlan it finds (kind, base and flag
  // as the kernel reports them match): the same link, not a new one.
  const ifindex = await lb1.ns.ifindex('ipv72');
  lvskit.kill('SIGKILL');
  await lvskit.exited;
  const again = lvskitDaemon(t, lb1, conf({ vrid, priority: 100, vip, ipvlan: `ipv72 ${own[0]} private` }));
  await again.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 30_000);
  t.is(await lb1.ns.ifindex('ipv72'), ifindex, 'the ipvlan was adopted, not made again');
  await stopped(again);
  t.false(await linkExists(lb1.ns, 'ipv72'));
});

itest('IPv6 use_ipvlan (VRRPv3, no address): the ipvlan keepalived makes (IPv6 on, the kernel\'s link-local), adverts from that link-local with the base\'s MAC, the VIP on the base; one master in a mixed pair', async (t) => {
  t.timeout(110_000);
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vrid = 74;
  const name = `vrrp.${vrid}`;
  const vip = `${lab.net6}::174`;
  const c = (priority: number): string => conf({ vrid, priority, vip, ipvlan: 'bridge' }).replace(`${vip}/24`, `${vip}/64`).replace('advert_int 1', 'advert_int 1\n  version 3');
  const lvskit = lvskitDaemon(t, lb1, c(200));
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 30_000);
  const kd = keepalived(t, lb2, c(100));
  await kd.waitFor(keepalivedEntered('VI_IPVLAN', 'BACKUP'), 15_000, true);
  /** The ipvlan's own link-local (the kernel makes it; an L2 ipvlan's differs from its base's). */
  const linkLocal = (b: Balancer): Promise<string> => until(`the link-local of ${name}`, async () => {
    const [l] = JSON.parse(await b.ns.ip('-j', '-6', 'addr', 'show', 'dev', name, 'scope', 'link')) as Array<{ addr_info: Array<{ local?: string }> }>;
    return l?.addr_info.find((a) => a.local?.startsWith('fe80'))?.local;
  }, 10_000);
  const ll = [await linkLocal(lb1), await linkLocal(lb2)] as const;
  t.not(ll[0], lb1.linkLocal);
  const ours = await vmacFacts(lb1.ns, name, 'eth0');
  const theirs = await vmacFacts(lb2.ns, name, 'eth0');
  t.log('keepalived\'s ipvlan:', JSON.stringify(theirs));
  t.log('lvskit\'s ipvlan:    ', JSON.stringify(ours));
  t.deepEqual(ours, theirs);
  t.like(theirs, { kind: 'ipvlan', mode: 'l2', ipvlanFlag: 'bridge', mac: 'base', up: true, addrGenMode: 'eui64', disableIpv6: '0' });
  t.deepEqual(await addressFacts(lb1.ns, name, { [ll[0]]: 'LL' }), await addressFacts(lb2.ns, name, { [ll[1]]: 'LL' }));
  t.true((await addressFacts(lb1.ns, 'eth0', { [vip]: 'VIP' })).some((a) => a.local === 'VIP'), 'the VIP on the base');
  await handOver(t, lab, { vrid, instance: 'VI_IPVLAN', link: name, waitMs: 6000,
    lvskit: { speaker: lvskit, ns: lb1.ns, src: ll[0], mac: lb1.mac }, keepalived: { speaker: kd, ns: lb2.ns, src: ll[1], mac: lb2.mac } });
  await until('keepalived\'s VIP on its base', async () => (await addressFacts(lb2.ns, 'eth0', { [vip]: 'VIP' })).some((a) => a.local === 'VIP'), 5000);
  await stopped(kd);
});
