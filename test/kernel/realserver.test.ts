// layer: tests (kernel tier, root)
// job: `lvskit realserver` on a real server in its own namespace, with `ip addr` and `sysctl` as the oracles: plan, --apply twice (the second a no-op), --check for monitoring, --remove.
import test, { type ExecutionContext } from 'ava';
import { lvskit } from '../helpers/cli.js';
import { createNetns, createVethPair, kernelTierUnavailable, type Netns } from '../helpers/netns.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (realserver): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.skip : test;

const VIPS = ['123.30.175.34', '123.30.175.35', '2001:db8::34'];
const ARP = ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.eth0.arp_ignore', 'net.ipv4.conf.eth0.arp_announce'];

/** A real server: eth0 (up, to a peer namespace), lo up; every ARP sysctl at the kernel's default 0. */
async function realServer(t: ExecutionContext): Promise<Netns> {
  const rs = await createNetns(t);
  const peer = await createNetns(t);
  await createVethPair(rs, peer, { deviceA: 'eth0', addressesA: ['172.16.16.37/24'] });
  return rs;
}

/** `ip addr show dev lo` as `address/len label` lines (the label for IPv4 only). */
async function loAddresses(ns: Netns): Promise<string[]> {
  const json = JSON.parse(await ns.ip('-j', 'addr', 'show', 'dev', 'lo')) as { addr_info: { local: string; prefixlen: number; label?: string; family: string }[] }[];
  return json[0]!.addr_info.filter((a) => !['127.0.0.1', '::1'].includes(a.local)).map((a) => `${a.local}/${a.prefixlen}${a.family === 'inet' ? ` ${a.label}` : ''}`);
}

async function sysctl(ns: Netns, names: readonly string[]): Promise<number[]> {
  return (await ns.exec(['sysctl', '-n', ...names])).trim().split('\n').map(Number);
}

const vipArgs = VIPS.flatMap((v) => ['--vip', v]);

ktest('no flag prints what would change and changes nothing; --apply makes it so (sysctls, then lo:1, lo:2, /128); --apply again changes nothing', async (t) => {
  const rs = await realServer(t);
  const shown = await lvskit('realserver', '-n', rs.name, ...vipArgs);
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /^would change/);
  t.deepEqual(await loAddresses(rs), [], 'a plan changes nothing');
  t.deepEqual(await sysctl(rs, ARP), [0, 0, 0, 0]);
  const applied = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--apply');
  t.is(applied.code, 0, applied.stderr);
  t.is(applied.stdout, [
    'changed:',
    '~ net.ipv4.conf.all.arp_ignore 0 → 1',
    '~ net.ipv4.conf.all.arp_announce 0 → 2',
    '~ net.ipv4.conf.eth0.arp_ignore 0 → 1',
    '~ net.ipv4.conf.eth0.arp_announce 0 → 2',
    '+ 123.30.175.34/32 dev lo label lo:1',
    '+ 123.30.175.35/32 dev lo label lo:2',
    '+ 2001:db8::34/128 dev lo',
    '',
  ].join('\n'));
  t.deepEqual((await loAddresses(rs)).sort(), ['123.30.175.34/32 lo:1', '123.30.175.35/32 lo:2', '2001:db8::34/128']);
  t.deepEqual(await sysctl(rs, ARP), [1, 2, 1, 2]);
  const again = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--apply', '--json');
  t.is(again.code, 0, again.stderr);
  t.like(JSON.parse(again.stdout), { action: 'apply', changes: [], ok: true, interfaces: ['eth0'] });
  t.is((await lvskit('realserver', '-n', rs.name, ...vipArgs, '--apply')).stdout.split('\n')[0], 'nothing changed: VIPs 123.30.175.34, 123.30.175.35, 2001:db8::34 on lo; arp_ignore and arp_announce right on all, eth0');
});

ktest('--check: exit 1 naming each missing piece; 0 once applied; 1 again when a piece goes (a sysctl reset, a VIP deleted by hand)', async (t) => {
  const rs = await realServer(t);
  const before = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--check');
  t.is(before.code, 1);
  t.is(before.stdout.split('\n').filter((l) => l.startsWith('missing: ')).length, 7, before.stdout);
  t.regex(before.stdout, /^missing: net\.ipv4\.conf\.all\.arp_ignore is 0, wanted 1$/m);
  t.regex(before.stdout, /^missing: 123\.30\.175\.34\/32 is not on lo$/m);
  t.deepEqual(await loAddresses(rs), [], '--check changes nothing');
  t.is((await lvskit('realserver', '-n', rs.name, ...vipArgs, '--apply')).code, 0);
  const ok = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--check');
  t.is(ok.code, 0, ok.stdout);
  t.regex(ok.stdout, /^ok: /);
  await rs.exec(['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_announce=0']);
  await rs.ip('addr', 'del', '123.30.175.35/32', 'dev', 'lo');
  const broken = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--check');
  t.is(broken.code, 1);
  t.is(broken.stdout, 'missing: net.ipv4.conf.eth0.arp_announce is 0, wanted 2\nmissing: 123.30.175.35/32 is not on lo\n');
});

ktest('--check: a VIP on eth0 as well is wrong (exit 1) and --apply leaves it alone', async (t) => {
  const rs = await realServer(t);
  await rs.ip('addr', 'add', '123.30.175.34/32', 'dev', 'eth0');
  t.is((await lvskit('realserver', '-n', rs.name, '--vip', '123.30.175.34', '--apply')).code, 0);
  const check = await lvskit('realserver', '-n', rs.name, '--vip', '123.30.175.34', '--check');
  t.is(check.code, 1);
  t.regex(check.stdout, /^wrong: 123\.30\.175\.34 is also on eth0: /m);
  t.regex(await rs.ip('-4', 'addr', 'show', 'dev', 'eth0'), /123\.30\.175\.34\/32/);
});

ktest('--remove: the VIPs leave lo, the sysctls stay; again: nothing to remove', async (t) => {
  const rs = await realServer(t);
  await rs.ip('addr', 'add', '10.9.9.9/32', 'dev', 'lo', 'label', 'lo:7'); // another service's VIP: not named, not touched
  t.is((await lvskit('realserver', '-n', rs.name, ...vipArgs, '--apply')).code, 0);
  const removed = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--remove');
  t.is(removed.code, 0, removed.stderr);
  t.regex(removed.stdout, /^removed:\n- 123\.30\.175\.34\/32 dev lo label lo:1\n- 123\.30\.175\.35\/32 dev lo label lo:2\n- 2001:db8::34\/128 dev lo\n/);
  t.deepEqual(await loAddresses(rs), ['10.9.9.9/32 lo:7']);
  t.deepEqual(await sysctl(rs, ARP), [1, 2, 1, 2], 'the sysctls stay (the VIP still on lo needs them)');
  const again = await lvskit('realserver', '-n', rs.name, ...vipArgs, '--remove');
  t.regex(again.stdout, /^nothing to remove/);
});

ktest('refusals name what is wrong and change nothing: an --interface that does not exist, a VIP that is not a host address', async (t) => {
  const rs = await realServer(t);
  const noIf = await lvskit('realserver', '-n', rs.name, '--vip', '10.0.0.5', '--interface', 'eth7', '--apply');
  t.is(noIf.code, 1);
  t.is(noIf.stderr.trim(), 'lvskit: interface: no link eth7');
  const wide = await lvskit('realserver', '-n', rs.name, '--vip', '10.0.0.5/24', '--apply');
  t.is(wide.code, 1);
  t.regex(wide.stderr, /vip: 10\.0\.0\.5\/24: a VIP on lo is a \/32/);
  t.deepEqual(await loAddresses(rs), []);
  t.deepEqual(await sysctl(rs, ARP), [0, 0, 0, 0]);
});
