// layer: tests (kernel tier, root)
// job: preflight against a real namespace: strict rp_filter on a VIP's interface refuses `lvskit run` and `lvskit check --preflight` at the config line, naming the sysctl, with nothing touched; fixed (by hand or --fix-rp-filter) it starts; a missing interface at its line; IPVS reported absent exactly when this kernel has none.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { daemonFiles, logged, startDaemon, type DaemonFiles } from '../helpers/daemon-procs.js';
import { lvskit } from '../helpers/cli.js';
import { createNetns, createVethPair, kernelTierUnavailable, type Netns } from '../helpers/netns.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (preflight): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.skip : test;

/** A VRRP-only balancer config: the instance on eth0 (line 3), its VIP on `vipDev` (line 8); `extra` after the instance. */
function conf(vipDev = 'eth0', extra = ''): string {
  return `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.61.0.100/32 dev ${vipDev} label ${vipDev}:1
  }
}
${extra}`;
}

/** A balancer namespace with eth0 (10.61.0.1/24, up) to a peer, rp_filter as given. */
async function balancer(t: ExecutionContext, rp: { all?: number; eth0?: number } = {}): Promise<Netns> {
  const lb = await createNetns(t);
  const peer = await createNetns(t);
  await createVethPair(lb, peer, { deviceA: 'eth0', addressesA: ['10.61.0.1/24'] });
  await lb.exec(['sysctl', '-qw', `net.ipv4.conf.all.rp_filter=${rp.all ?? 0}`, `net.ipv4.conf.eth0.rp_filter=${rp.eth0 ?? 0}`]);
  return lb;
}

const vipOn = async (ns: Netns): Promise<boolean> => (await ns.ip('-4', 'addr', 'show')).includes('10.61.0.100');

/** `lvskit run` that must refuse: its exit code and text, and that it touched nothing. */
async function refusedRun(t: ExecutionContext, ns: Netns, files: DaemonFiles): Promise<string> {
  const d = startDaemon(t, ns, files);
  await d.exited;
  const text = d.lines.map((l) => l.text).join('\n');
  t.is(d.child.exitCode, 1, text);
  t.regex(text, /not started, nothing changed/);
  t.false(d.lines.some((l) => l.json?.source === 'vrrp'), 'VRRP never ran: no socket, no transition');
  t.false(existsSync(files.control), 'no control socket');
  t.false(await vipOn(ns), 'no VIP');
  return text;
}

ktest('rp_filter=1 on the VIP\'s interface: `lvskit check --preflight` and `lvskit run` refuse at the VIP\'s line naming the sysctl; nothing touched; set to 0 by hand, it starts', async (t) => {
  const lb = await balancer(t, { eth0: 1 });
  const files = daemonFiles(t, { 'keepalived.conf': conf() });
  const check = await lvskit('check', '--preflight', '-n', lb.name, '-f', files.conf);
  t.is(check.code, 1, check.stderr);
  t.regex(check.stderr, /keepalived\.conf:8:5: error: rp_filter is 1 \(strict\) on eth0, .*Fix: sysctl -w net\.ipv4\.conf\.eth0\.rp_filter=0 /);
  const text = await refusedRun(t, lb, files);
  t.regex(text, /keepalived\.conf:8:5: error: rp_filter is 1 \(strict\) on eth0, .*net\.ipv4\.conf\.eth0\.rp_filter=0/);
  await lb.exec(['sysctl', '-qw', 'net.ipv4.conf.eth0.rp_filter=0']);
  const ok = await lvskit('check', '--preflight', '-n', lb.name, '-f', files.conf);
  t.is(ok.code, 0, ok.stderr);
  const d = startDaemon(t, lb, files);
  await d.waitFor(logged('daemon', 'started'), 10_000);
  t.true(existsSync(files.control));
});

ktest('rp_filter=1 on `all` makes eth0 strict too (the kernel takes the larger): the fix named is the `all` one; --fix-rp-filter sets it to 0, logs it, and starts', async (t) => {
  const lb = await balancer(t, { all: 1 });
  const files = daemonFiles(t, { 'keepalived.conf': conf() });
  const text = await refusedRun(t, lb, files);
  t.regex(text, /keepalived\.conf:8:5: error: .*Fix: sysctl -w net\.ipv4\.conf\.all\.rp_filter=0 \(/);
  const d = startDaemon(t, lb, files, ['--fix-rp-filter']);
  await d.waitFor(logged('daemon', 'started'), 10_000);
  t.truthy(d.lines.find(logged('daemon', 'sysctl-set', (j) => j.sysctl === 'net.ipv4.conf.all.rp_filter' && j.from === 1 && j.to === 0)));
  t.is((await lb.exec(['sysctl', '-n', 'net.ipv4.conf.all.rp_filter'])).trim(), '0');
});

ktest('an interface the configuration names and this system lacks is reported at its line, with the other places as notes', async (t) => {
  const lb = await balancer(t);
  const files = daemonFiles(t, { 'keepalived.conf': conf('eth5').replace('  advert_int 1\n', '  advert_int 1\n  track_interface {\n    eth5\n  }\n') });
  const check = await lvskit('check', '--preflight', '-n', lb.name, '-f', files.conf);
  t.is(check.code, 1);
  t.regex(check.stderr, /keepalived\.conf:8:5: note: vrrp_instance VI_1 track_interface eth5 names it too/);
  t.regex(check.stderr, /keepalived\.conf:11:5: error: interface eth5 does not exist \(vrrp_instance VI_1 VIP 10\.61\.0\.100 \(dev eth5\)\)/);
  t.regex(await refusedRun(t, lb, files), /keepalived\.conf:11:5: error: interface eth5 does not exist/);
});

/** Whether this kernel has IPVS, asked the way an operator would (modprobe where it can load). */
function kernelHasIpvs(): boolean {
  try {
    execFileSync('modprobe', ['-q', 'ip_vs'], { stdio: 'ignore' });
  } catch { /* no module, or no modprobe */ }
  return existsSync('/proc/net/ip_vs');
}

ktest('a virtual_server needs IPVS: reported at its line with `modprobe ip_vs` exactly when this kernel has none', async (t) => {
  const lb = await balancer(t);
  const files = daemonFiles(t, { 'keepalived.conf': conf('eth0', 'virtual_server 10.61.0.100 80 {\n  lb_kind DR\n  protocol TCP\n  real_server 10.61.0.5 80 {\n  }\n}\n') });
  const check = await lvskit('check', '--preflight', '-n', lb.name, '-f', files.conf);
  const finding = /keepalived\.conf:11:1: error: virtual_server 10\.61\.0\.100:80\/TCP needs IPVS, .*Fix: modprobe ip_vs/;
  if (kernelHasIpvs()) {
    t.log('this kernel has IPVS: the finding must not appear');
    t.notRegex(check.stderr, finding);
    t.is(check.code, 0, check.stderr);
  } else {
    t.log('this kernel has no IPVS: the finding must appear');
    t.regex(check.stderr, finding);
    t.is(check.code, 1);
  }
});
