// layer: tests (kernel tier, root)
// job: interop with a real keepalived --vrrp: v2 auth_type PASS and v3, lvskit as MASTER and as BACKUP, failover and preemption both ways, never two masters for over one advert interval.
import test, { type ExecutionContext } from 'ava';
import { performance } from 'node:perf_hooks';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/state.js';
import { kernelTierUnavailable, run } from '../helpers/netns.js';
import { addressesOn, createVrrpLab, longestOverlapMs, type Balancer, type Seen, type VrrpLab } from '../helpers/vrrp-lab.js';
import { keepalivedEntered, startKeepalived, startLvskit, transition, type Speaker } from '../helpers/vrrp-procs.js';
import { until } from '../helpers/until.js';

const unavailable = kernelTierUnavailable() ?? (await run(['keepalived', '--version']).then(() => undefined, () => 'keepalived is not installed'));
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-keepalived): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;
/**
 * Scheduling slack on a shared 2-core machine: takeover within the protocol bound plus this. The
 * observer stamps frames in user space, so a frame can look up to ~100 ms late under load: the
 * "not too early" checks allow that much.
 */
const MARGIN_MS = 400;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Spec { name: string; vrid: number; version: 2 | 3; intervalMs: number; vip: string; authPass?: string }

function lvskitInstance(s: Spec, priority: number): VrrpInstanceConfig {
  return {
    name: s.name, interface: 'eth0', vrid: s.vrid, version: s.version, priority, advertIntervalMs: s.intervalMs,
    virtualAddresses: [s.vip.includes(':') ? s.vip : { address: s.vip, label: 'eth0:1' }], ...(s.authPass ? { authPass: s.authPass } : {}),
  };
}

function keepalivedConf(s: Spec, priority: number): string {
  return `global_defs {
  router_id lvskit-test
}
vrrp_instance ${s.name} {
  state BACKUP
  interface eth0
  version ${s.version}
  virtual_router_id ${s.vrid}
  priority ${priority}
  advert_int ${s.intervalMs / 1000}
${s.authPass ? `  authentication {\n    auth_type PASS\n    auth_pass ${s.authPass}\n  }\n` : ''}  virtual_ipaddress {
    ${s.vip.includes(':') ? `${s.vip} dev eth0` : `${s.vip} dev eth0 label eth0:1`}
  }
}
`;
}

const source = (b: Balancer, s: Spec): string => (s.vip.includes(':') ? b.linkLocal : b.ipv4);
const advertFrom = (s: Spec, src: string) => (x: Seen): boolean => x.kind === 'vrrp' && x.vrid === s.vrid && x.src === src && (x.priority ?? 0) > 0;
const lastFrom = (lab: VrrpLab, s: Spec, src: string): Seen => lab.adverts(s.vrid).filter((x) => x.src === src).at(-1)!;
/** keepalived complains in its log about packets it rejects; none of these may appear. */
const complaint = /invalid passwd|Invalid VRRPv\d checksum|invalid ttl|invalid version|ip number count|not present in MASTER advert|interval mismatch|auth, expecting/;

/** The hard failover of `master` (SIGKILL of the process that speaks VRRP) to `backup`, timed on the wire. */
async function hardFailover(t: ExecutionContext, lab: VrrpLab, s: Spec, master: { speaker: Speaker; at: Balancer }, backup: { at: Balancer; priority: number }): Promise<void> {
  await lab.waitFor(advertFrom(s, source(master.at, s)), 3 * s.intervalMs, performance.now());
  master.speaker.signal('SIGKILL');
  const takeover = await lab.waitFor(advertFrom(s, source(backup.at, s)), masterDownIntervalMs(s.version, backup.priority, s.intervalMs / 10) + 3000);
  const after = takeover.atMs - lastFrom(lab, s, source(master.at, s)).atMs;
  const bound = masterDownIntervalMs(s.version, backup.priority, s.intervalMs / 10);
  t.log(`${s.name}: takeover ${after.toFixed(1)} ms after the last advert (bound ${bound} ms)`);
  t.true(after <= bound + MARGIN_MS, `took over ${after} ms after the last advert`);
  t.true(after >= bound - 100);
}

ktest('v2 auth_type PASS: lvskit MASTER, keepalived BACKUP; SIGKILL lvskit → keepalived takes over; lvskit returns and preempts; graceful stop', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const s: Spec = { name: 'VI_1', vrid: 81, version: 2, intervalMs: 1000, vip: `${lab.net4}.100`, authPass: 'lvs-pass1' };
  const lvskit = startLvskit(t, lb1.ns, [lvskitInstance(s, 200)]);
  await lvskit.waitFor(transition('VI_1', 'MASTER'), 6000);
  const keepalived = startKeepalived(t, lb2.ns, keepalivedConf(s, 100));
  await keepalived.waitFor(keepalivedEntered('VI_1', 'BACKUP'), 4000, true);
  await sleep(masterDownIntervalMs(2, 100, 100) + 1000); // longer than keepalived's own Master_Down_Interval
  t.false(keepalived.lines.some(keepalivedEntered('VI_1', 'MASTER')), 'keepalived accepts lvskit\'s adverts and stays BACKUP');
  t.false((await addressesOn(lb2.ns)).includes(s.vip));
  await hardFailover(t, lab, s, { speaker: lvskit, at: lb1 }, { at: lb2, priority: 100 });
  await keepalived.waitFor(keepalivedEntered('VI_1', 'MASTER'), 2000, true);
  await until('the new master added the VIP', async () => (await addressesOn(lb2.ns)).includes(s.vip), 3000).catch(() => undefined);
  t.true((await addressesOn(lb2.ns)).includes(s.vip));

  const back = performance.now();
  const again = startLvskit(t, lb1.ns, [lvskitInstance(s, 200)]);
  await again.waitFor(transition('VI_1', 'MASTER'), masterDownIntervalMs(2, 200, 100) + 3000);
  const yielded = await keepalived.waitFor((l) => keepalivedEntered('VI_1', 'BACKUP')(l) && l.atMs > back, 3000, true);
  t.log(`keepalived yielded ${(yielded.atMs - back).toFixed(0)} ms after lvskit restarted`);
  await until('the VIP left lb2', async () => !(await addressesOn(lb2.ns)).includes(s.vip), 3000).catch(() => undefined);
  t.false((await addressesOn(lb2.ns)).includes(s.vip), 'keepalived released the VIP');
  t.true((await addressesOn(lb1.ns)).includes(s.vip));

  again.kill('SIGTERM');
  const zero = await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 81 && x.src === lb1.ipv4 && x.priority === 0, 3000);
  const takeover = await lab.waitFor(advertFrom(s, lb2.ipv4), 3000, zero.atMs);
  t.true(takeover.atMs - zero.atMs <= skewTimeMs(2, 100, 100) + MARGIN_MS, `graceful: ${takeover.atMs - zero.atMs} ms`);
  await keepalived.waitFor((l) => l.text.includes('(VI_1) Backup received priority 0 advertisement'), 2000, true);
  t.true(longestOverlapMs(lab, 81, 1000) <= 1000, `split ${longestOverlapMs(lab, 81, 1000)} ms`);
  t.false(keepalived.lines.some((l) => complaint.test(l.text)), keepalived.lines.filter((l) => complaint.test(l.text)).map((l) => l.text).join('\n'));
});

ktest('v2 auth_type PASS: keepalived MASTER, lvskit BACKUP; SIGKILL keepalived → lvskit takes over; keepalived returns and preempts; graceful stop', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const s: Spec = { name: 'VI_2', vrid: 82, version: 2, intervalMs: 1000, vip: `${lab.net4}.101`, authPass: 'lvs-pass2' };
  const keepalived = startKeepalived(t, lb1.ns, keepalivedConf(s, 200));
  await keepalived.waitFor(keepalivedEntered('VI_2', 'MASTER'), 6000);
  const lvskit = startLvskit(t, lb2.ns, [lvskitInstance(s, 100)]);
  await lvskit.waitFor(transition('VI_2', 'BACKUP'), 3000);
  await sleep(4500); // a window longer than lvskit's Master_Down_Interval (3.6 s): it must stay BACKUP throughout
  t.false(lvskit.lines.some(transition('VI_2', 'MASTER')), 'lvskit accepts keepalived\'s adverts and stays BACKUP');
  t.false(lvskit.lines.some((l) => l.json?.type === 'drop'), 'and drops none of them');
  await hardFailover(t, lab, s, { speaker: keepalived, at: lb1 }, { at: lb2, priority: 100 });
  await lvskit.waitFor(transition('VI_2', 'MASTER'), 2000, true);
  await until('the new master added the VIP', async () => (await addressesOn(lb2.ns)).includes(s.vip), 3000).catch(() => undefined);
  t.true((await addressesOn(lb2.ns)).includes(s.vip));
  await keepalived.exited;

  const back = performance.now();
  const again = startKeepalived(t, lb1.ns, keepalivedConf(s, 200), 'keepalived-2');
  await again.waitFor(keepalivedEntered('VI_2', 'MASTER'), masterDownIntervalMs(2, 200, 100) + 3000);
  const yielded = await lvskit.waitFor((l) => transition('VI_2', 'BACKUP')(l) && l.atMs > back && l.json?.reason === 'higher-priority', 3000, true);
  t.log(`lvskit yielded ${(yielded.atMs - back).toFixed(0)} ms after keepalived restarted`);
  await until('the VIP left lb2', async () => !(await addressesOn(lb2.ns)).includes(s.vip), 3000).catch(() => undefined);
  t.false((await addressesOn(lb2.ns)).includes(s.vip), 'lvskit released the VIP');

  again.kill('SIGTERM');
  const zero = await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 82 && x.src === lb1.ipv4 && x.priority === 0, 3000);
  const takeover = await lab.waitFor(advertFrom(s, lb2.ipv4), 3000, zero.atMs);
  t.true(takeover.atMs - zero.atMs <= skewTimeMs(2, 100, 100) + MARGIN_MS, `graceful: ${takeover.atMs - zero.atMs} ms`);
  t.like((await lvskit.waitFor((l) => transition('VI_2', 'MASTER')(l) && l.atMs > zero.atMs, 2000, true)).json, { reason: 'priority-zero' });
  t.true(longestOverlapMs(lab, 82, 1000) <= 1000, `split ${longestOverlapMs(lab, 82, 1000)} ms`);
});

ktest('v3 IPv4 (advert 500 ms): lvskit MASTER → keepalived on SIGKILL; lvskit preempts back', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const s: Spec = { name: 'VI_3', vrid: 83, version: 3, intervalMs: 500, vip: `${lab.net4}.102` };
  const lvskit = startLvskit(t, lb1.ns, [lvskitInstance(s, 150)]);
  await lvskit.waitFor(transition('VI_3', 'MASTER'), 4000);
  const keepalived = startKeepalived(t, lb2.ns, keepalivedConf(s, 100));
  await keepalived.waitFor(keepalivedEntered('VI_3', 'BACKUP'), 4000, true);
  await sleep(2500); // a window longer than keepalived's Master_Down_Interval (about 1.6 s): it must stay BACKUP throughout
  t.false(keepalived.lines.some(keepalivedEntered('VI_3', 'MASTER')));
  await hardFailover(t, lab, s, { speaker: lvskit, at: lb1 }, { at: lb2, priority: 100 });
  const again = startLvskit(t, lb1.ns, [lvskitInstance(s, 150)]);
  await again.waitFor(transition('VI_3', 'MASTER'), 4000);
  await keepalived.waitFor((l) => l.text.includes('(VI_3) Master received advert from') && l.text.includes('higher priority 150'), 3000, true);
  t.true(longestOverlapMs(lab, 83, 500) <= 500, `split ${longestOverlapMs(lab, 83, 500)} ms`);
  t.false(keepalived.lines.some((l) => complaint.test(l.text)), keepalived.lines.filter((l) => complaint.test(l.text)).map((l) => l.text).join('\n'));
});

ktest('v3 IPv6 (advert 500 ms): keepalived MASTER → lvskit on graceful stop and on SIGKILL; keepalived preempts back', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const s: Spec = { name: 'VI_4', vrid: 84, version: 3, intervalMs: 500, vip: `${lab.net6}::100` };
  const keepalived = startKeepalived(t, lb1.ns, keepalivedConf(s, 200));
  await keepalived.waitFor(keepalivedEntered('VI_4', 'MASTER'), 4000);
  const lvskit = startLvskit(t, lb2.ns, [lvskitInstance(s, 100)]);
  await lvskit.waitFor(transition('VI_4', 'BACKUP'), 3000);
  await sleep(2500); // a window longer than lvskit's Master_Down_Interval (about 1.6 s): it must stay BACKUP throughout
  t.false(lvskit.lines.some(transition('VI_4', 'MASTER')), 'lvskit hears keepalived over IPv6');
  t.false(lvskit.lines.some((l) => l.json?.type === 'drop'));
  keepalived.kill('SIGTERM');
  const zero = await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 84 && x.src === lb1.linkLocal && x.priority === 0, 3000);
  const takeover = await lab.waitFor(advertFrom(s, lb2.linkLocal), 3000, zero.atMs);
  t.true(takeover.atMs - zero.atMs <= skewTimeMs(3, 100, 50) + MARGIN_MS, `graceful: ${takeover.atMs - zero.atMs} ms`);
  await keepalived.exited;
  const again = startKeepalived(t, lb1.ns, keepalivedConf(s, 200), 'keepalived-2');
  await again.waitFor(keepalivedEntered('VI_4', 'MASTER'), 4000);
  await lvskit.waitFor((l) => transition('VI_4', 'BACKUP')(l) && l.json?.reason === 'higher-priority', 3000, true);
  await hardFailover(t, lab, s, { speaker: again, at: lb1 }, { at: lb2, priority: 100 });
  t.true(longestOverlapMs(lab, 84, 500) <= 500, `split ${longestOverlapMs(lab, 84, 500)} ms`);
});
