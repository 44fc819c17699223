// layer: tests (kernel tier, root)
// job: `lvskit top` against two VRRP-only `lvskit run` daemons (no IPVS needed): the MASTER as `(this)`, the BACKUP naming the master it hears and its priority, the VIP, no service table, the autoban off, the transitions among the recent events; after the master's stop, the backup's next frame shows it MASTER.
import test from 'ava';
import type { TopFrame } from '../../src/cli/top-view.js';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { createVrrpLab } from '../helpers/vrrp-lab.js';
import { until } from '../helpers/until.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (top-vrrp): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

function conf(priority: number, vip: string): string {
  return `vrrp_instance VI_1 {
  state ${priority > 100 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${vip}/32 dev eth0
  }
}
`;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

ktest('lvskit top shows each balancer\'s VRRP view: MASTER (this), BACKUP hearing the master at its priority, the VIP, recent transitions', async (t) => {
  t.timeout(90_000);
  const lab = await createVrrpLab(t, 2);
  const vip = `${lab.net4}.100`;
  const lb1 = startDaemon(t, lab.balancers[0]!.ns, daemonFiles(t, { 'keepalived.conf': conf(150, vip) }));
  await lb1.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  const lb2 = startDaemon(t, lab.balancers[1]!.ns, daemonFiles(t, { 'keepalived.conf': conf(100, vip) }));
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.to === 'BACKUP'), 10_000);
  await until('lb2 has heard lb1 (its status names the master)', async () => (await lb2.status()).instances[0]?.master, 5000);

  const backup = await lb2.cli('top', '--once', '--interval', '500ms');
  t.is(backup.code, 0, backup.stderr);
  t.regex(backup.stdout, new RegExp(`^ {2}VI_1 +BACKUP +100 +51 +eth0 +${escape(lab.balancers[0]!.ipv4)} \\(150\\) +${escape(vip)}/32$`, 'm'));
  t.notRegex(backup.stdout, /SERVICE/, 'no service: no service table');
  t.regex(backup.stdout, /^BANS - \(autoban off\)$/m);
  t.regex(backup.stdout, /^EVENTS\n.*VI_1: INIT → BACKUP/m);

  const master = await lb1.cli('top', '--json', '--interval', '500ms');
  t.is(master.code, 0, master.stderr);
  const frame = JSON.parse(master.stdout) as TopFrame;
  t.like(frame.instances[0], { name: 'VI_1', state: 'MASTER', priority: 150, vips: [`${vip}/32`] });
  t.is(frame.instances[0]?.master, undefined);
  t.deepEqual(frame.services, []);
  t.is(frame.bans, undefined);
  t.true(frame.events.some((e) => e.type === 'transition' && /→ MASTER/.test(e.message)), JSON.stringify(frame.events));
  t.regex((await lb1.cli('top', '--once')).stdout, /^ {2}VI_1 +MASTER +150 +51 +eth0 +\(this\) /m);

  // The master stops (priority 0): the backup's next frame shows it MASTER, and why, among its events.
  lb1.kill('SIGTERM');
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  const after = await lb2.cli('top', '--once', '--interval', '500ms');
  t.regex(after.stdout, /^ {2}VI_1 +MASTER +100 +51 +eth0 +\(this\) /m);
  t.regex(after.stdout, /VI_1: BACKUP → MASTER \(priority-zero, priority 100\)/);
});
