// layer: tests (kernel tier)
// job: the rtnetlink client against the host kernel in fresh namespaces, with `ip` as the oracle.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrnoError } from '../../src/errors.js';
import { NetlinkError } from '../../src/netlink/errors.js';
import { GenlSocket } from '../../src/genl/client.js';
import { IFA_F_NODAD, LinkWatcher, RtnlClient, type Link, type LinkResync } from '../../src/rtnl/index.js';
import { createNetns, createVethPair, type Netns } from '../helpers/netns.js';

interface IpAddrJson { ifname: string; addr_info: { family: string; local: string; prefixlen: number; label?: string }[] }

async function ipAddresses(ns: Netns, dev: string): Promise<{ local: string; prefixlen: number; label?: string }[]> {
  const json = JSON.parse(await ns.ip('-j', 'addr', 'show', 'dev', dev)) as IpAddrJson[];
  return (json[0]?.addr_info ?? []).filter((a) => !a.local.startsWith('fe80'))
    .map((a) => (a.label !== undefined ? { local: a.local, prefixlen: a.prefixlen, label: a.label } : { local: a.local, prefixlen: a.prefixlen }));
}

async function setup(t: ExecutionContext) {
  const a = await createNetns(t);
  const b = await createNetns(t);
  await createVethPair(a, b, { deviceA: 'eth1', deviceB: 'eth1' });
  const rtnl = RtnlClient.open({ netns: a.name });
  t.teardown(() => rtnl.close());
  return { a, b, rtnl };
}

test('links are listed as `ip link` lists them', async (t) => {
  const { a, rtnl } = await setup(t);
  const links = await rtnl.listLinks();
  const oracle = JSON.parse(await a.ip('-j', 'link', 'show')) as { ifindex: number; ifname: string; address: string; mtu: number }[];
  t.deepEqual(links.map((l) => [l.index, l.name, l.mac, l.mtu]), oracle.map((l) => [l.ifindex, l.ifname, l.address, l.mtu]));
  const eth1 = links.find((l) => l.name === 'eth1');
  if (!eth1) return t.fail('eth1 not listed');
  t.like(eth1, { kind: 'veth', adminUp: true, up: true, operState: 'up' });
  t.is((await rtnl.getLink('eth1')).index, eth1.index);
  t.is((await rtnl.getLink(eth1.index)).name, 'eth1');
});

test('a labelled VIP is added and removed, as `ip addr` sees it', async (t) => {
  const { a, rtnl } = await setup(t);
  await rtnl.addAddress({ dev: 'eth1', address: '123.30.175.40', prefixLength: 32, label: 'eth1:2' });
  t.deepEqual(await ipAddresses(a, 'eth1'), [{ local: '123.30.175.40', prefixlen: 32, label: 'eth1:2' }]);
  const ours = await rtnl.listAddresses({ family: 4, ifindex: await a.ifindex('eth1') });
  t.like(ours[0], { address: '123.30.175.40', prefixLength: 32, label: 'eth1:2', family: 4, scope: 'global' });
  await rtnl.deleteAddress({ dev: 'eth1', address: '123.30.175.40', prefixLength: 32, label: 'eth1:2' });
  t.deepEqual(await ipAddresses(a, 'eth1'), []);
});

test('an IPv6 VIP (nodad) is added and removed, as `ip -6 addr` sees it', async (t) => {
  const { a, rtnl } = await setup(t);
  const ifindex = await a.ifindex('eth1');
  await rtnl.addAddress({ ifindex, address: '2001:db8:40::1', prefixLength: 64, flags: IFA_F_NODAD });
  t.deepEqual(await ipAddresses(a, 'eth1'), [{ local: '2001:db8:40::1', prefixlen: 64 }]);
  const listed = (await rtnl.listAddresses({ family: 6, ifindex })).find((x) => x.address === '2001:db8:40::1');
  t.truthy(listed && (listed.flags & IFA_F_NODAD) !== 0);
  await rtnl.deleteAddress({ ifindex, address: '2001:db8:40::1', prefixLength: 64 });
  t.deepEqual(await ipAddresses(a, 'eth1'), []);
});

test('kernel refusals are NetlinkErrors with errno and operation; bad labels change nothing', async (t) => {
  const { a, rtnl } = await setup(t);
  await rtnl.addAddress({ dev: 'eth1', address: '10.9.0.1', prefixLength: 24 });
  const dup = await t.throwsAsync(rtnl.addAddress({ dev: 'eth1', address: '10.9.0.1', prefixLength: 24 }), { instanceOf: NetlinkError });
  t.like(dup, { errno: 17, code: 'EEXIST', syscall: 'RTM_NEWADDR' });
  await rtnl.addAddress({ dev: 'eth1', address: '10.9.0.1', prefixLength: 24 }, { replace: true });
  const missing = await t.throwsAsync(rtnl.deleteAddress({ dev: 'eth1', address: '10.9.0.2', prefixLength: 24 }), { instanceOf: NetlinkError });
  t.like(missing, { code: 'EADDRNOTAVAIL', syscall: 'RTM_DELADDR' });
  const nodev = await t.throwsAsync(rtnl.addAddress({ dev: 'nosuch0', address: '10.9.0.3' }), { instanceOf: NetlinkError });
  t.is(nodev?.code, 'ENODEV');
  await t.throwsAsync(rtnl.addAddress({ dev: 'eth1', address: '10.9.0.4', label: 'eth2:1' }), { instanceOf: TypeError, message: /^label:/ });
  t.deepEqual((await ipAddresses(a, 'eth1')).map((x) => x.local), ['10.9.0.1']);
});

test('link down and up arrive as events, with the watcher\'s state kept current', async (t) => {
  const { a, rtnl } = await setup(t);
  const watcher = await rtnl.watchLinks();
  t.teardown(() => watcher.close());
  const index = await a.ifindex('eth1');
  t.true(watcher.links().get(index)?.up);
  const down = once(watcher, 'down') as Promise<[Link]>;
  await a.ip('link', 'set', 'eth1', 'down');
  const [downLink] = await down;
  t.is(downLink.name, 'eth1');
  t.false(watcher.links().get(index)?.up);
  const up = once(watcher, 'up') as Promise<[Link]>;
  await a.ip('link', 'set', 'eth1', 'up');
  const [upLink] = await up;
  t.is(upLink.index, index);
  t.true(watcher.links().get(index)?.up);
});

test('a deleted link is a `del` change, and the async iterator yields changes', async (t) => {
  const { a, rtnl } = await setup(t);
  const watcher = await rtnl.watchLinks();
  t.teardown(() => watcher.close());
  const seen = (async () => {
    for await (const change of watcher.changes()) {
      if (change.kind === 'del' && change.link.name === 'eth1') return change;
    }
    return undefined;
  })();
  await a.ip('link', 'del', 'eth1');
  const change = await seen;
  t.is(change?.previous?.name, 'eth1');
  t.false([...watcher.links().values()].some((l) => l.name === 'eth1'));
});

test('notifications lost to ENOBUFS (a burst while the loop is blocked): the watcher reads the links again and sees the last state', async (t) => {
  const { a } = await setup(t);
  // A small receive buffer (64 KiB): a few dozen notifications fill it.
  const watcher = await LinkWatcher.open({ netns: a.name, receiveBufferBytes: 65536 });
  t.teardown(() => watcher.close());
  const index = await a.ifindex('eth1');
  t.true(watcher.links().get(index)?.up);
  const resynced = once(watcher, 'resync') as Promise<[LinkResync]>;
  const downs: string[] = [];
  watcher.on('down', (l) => downs.push(l.name));
  // 5,000 MTU changes, then eth1 down, with this event loop blocked: nothing is read meanwhile.
  const batch = [...Array.from({ length: 5000 }, (_, i) => `link set dev eth1 mtu ${1400 + (i % 2)}`), 'link set dev eth1 down'].join('\n');
  execFileSync('ip', ['-n', a.name, '-batch', '-'], { input: batch });
  const [resync] = await Promise.race([resynced, sleep(20_000).then(() => { throw new Error('no resync within 20 s of the burst'); })]);
  t.true(resync.overruns >= 1);
  t.true(resync.changed >= 1);
  t.false(watcher.links().get(index)?.up, 'the watcher knows eth1 is down');
  t.deepEqual(downs, ['eth1'], 'the lost down came out of the resync as an event');
  // It goes on following notifications.
  const up = once(watcher, 'up') as Promise<[Link]>;
  await a.ip('link', 'set', 'eth1', 'up');
  t.is((await up)[0].index, index);
});

test('a namespace that does not exist is ENOENT, and the error names the call', (t) => {
  const err = t.throws(() => RtnlClient.open({ netns: 'lvskit-no-such-namespace' }), { instanceOf: Error });
  t.like(err, { code: 'ENOENT', errno: 2 });
  t.true(err instanceof ErrnoError || (err as { name?: string }).name === 'ErrnoError');
});

test('generic netlink: the controller family resolves once per socket; an unknown family is ENOENT', async (t) => {
  const ns = await createNetns(t);
  const genl = GenlSocket.open({ netns: ns.name });
  t.teardown(() => genl.close());
  const first = genl.family('nlctrl');
  t.is(genl.family('nlctrl'), first);
  const nlctrl = await first;
  t.is(nlctrl.id, 0x10);
  t.is(nlctrl.groups.get('notify'), 0x10);
  t.true(nlctrl.ops.length > 0);
  const err = await t.throwsAsync(genl.family('lvsknosuchfam'), { instanceOf: ErrnoError });
  t.like(err, { code: 'ENOENT', syscall: 'CTRL_CMD_GETFAMILY' });
  t.regex(err?.message ?? '', /lvsknosuchfam/);
});

test('concurrent dumps on one client both complete (the engine runs them one after the other)', async (t) => {
  const { a, rtnl } = await setup(t);
  await rtnl.addAddress({ dev: 'eth1', address: '10.7.0.1', prefixLength: 24, label: 'eth1:7' });
  const [links, addrs, more] = await Promise.all([rtnl.listLinks(), rtnl.listAddresses({ family: 4 }), rtnl.listLinks()]);
  t.deepEqual(links.map((l) => l.name), more.map((l) => l.name));
  t.true(links.some((l) => l.name === 'eth1'));
  t.true(addrs.some((x) => x.address === '10.7.0.1' && x.label === 'eth1:7' && x.ifindex === links.find((l) => l.name === 'eth1')?.index));
  t.deepEqual((await ipAddresses(a, 'eth1')).map((x) => x.label), ['eth1:7']);
});
