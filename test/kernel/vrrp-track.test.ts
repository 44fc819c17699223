// layer: tests (kernel tier, root)
// job: track_interface and vrrp_sync_group on real links: a tracked link down → FAULT (priority 0, VIP released) and back; weights; a group failing over together.
import test from 'ava';
import { performance } from 'node:perf_hooks';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/state.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { addressesOn, createVrrpLab, longestOverlapMs } from '../helpers/vrrp-lab.js';
import { entered, startRunner } from '../helpers/vrrp-runner.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-track): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;
const MARGIN_MS = 400;

ktest('tracked link down → FAULT: priority 0, VIP released, the backup takes over after Skew_Time; link up → preempts back', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [typeof lab.balancers[0], typeof lab.balancers[0]];
  const vip = `${lab.net4}.120`;
  const vi = (priority: number): VrrpInstanceConfig => ({
    name: 'VI_T', interface: 'eth0', vrid: 70, version: 3, advertIntervalMs: 500, priority, virtualAddresses: [vip], trackInterfaces: ['eth1'],
  });
  const a = await startRunner(t, lb1.ns, { instances: [vi(200)] });
  await a.waitFor(entered('VI_T', 'MASTER'), 3000);
  const b = await startRunner(t, lb2.ns, { instances: [vi(100)] });
  await a.runner.settled();
  t.true((await addressesOn(lb1.ns)).includes(vip));
  const down = performance.now();
  await lb1.ns.ip('link', 'set', 'eth1', 'down');
  const fault = await a.waitFor(entered('VI_T', 'FAULT'), 2000);
  t.like(fault, { from: 'MASTER', reason: 'fault' });
  const zero = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 70 && s.src === lb1.ipv4 && s.priority === 0, 2000, down);
  const takeover = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 70 && s.src === lb2.ipv4 && (s.priority ?? 0) > 0, 2000, zero.atMs);
  t.true(takeover.atMs - zero.atMs <= skewTimeMs(3, 100, 50) + MARGIN_MS, `${takeover.atMs - zero.atMs} ms after priority 0`);
  await a.runner.settled();
  t.false((await addressesOn(lb1.ns)).includes(vip), 'VIP released in FAULT');
  await b.waitFor(entered('VI_T', 'MASTER'), 1000);
  // Two adverts of the new master (500 ms apart): lb1, in FAULT, would have advertised in between.
  const fromB = (x: { kind: string; vrid?: number; src?: string; priority?: number }): boolean => x.kind === 'vrrp' && x.vrid === 70 && x.src === lb2.ipv4 && (x.priority ?? 0) > 0;
  const bFirst = await lab.waitFor(fromB, 2000, performance.now());
  await lab.waitFor((x) => fromB(x) && x.atMs > bFirst.atMs, 2000, bFirst.atMs);
  await lab.waitFor((x) => fromB(x) && x.atMs > bFirst.atMs + 600, 2000, bFirst.atMs);
  t.is(lab.adverts(70, zero.atMs).filter((s) => s.src === lb1.ipv4).length, 0, 'no adverts while in FAULT');

  const up = performance.now();
  await lb1.ns.ip('link', 'set', 'eth1', 'up');
  await a.waitFor((e) => e.type === 'transition' && e.instance === 'VI_T' && e.from === 'FAULT' && e.to === 'BACKUP', 2000);
  const back = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 70 && s.src === lb1.ipv4 && (s.priority ?? 0) > 0, 4000, up);
  t.true(back.atMs - up <= masterDownIntervalMs(3, 200, 50) + MARGIN_MS, 'preempted after its Master_Down_Interval');
  await b.waitFor((e) => entered('VI_T', 'BACKUP')(e) && e.type === 'transition' && e.reason === 'higher-priority', 2000);
  t.true(longestOverlapMs(lab, 70, 500) <= 500);
  t.like(a.runner.status()[0], { state: 'MASTER', stats: { becameMaster: 2, releasedMaster: 1, priorityZeroSent: 1 } });
});

ktest('weighted tracking: a link down lowers the priority in the adverts; a backup above it preempts; no FAULT', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [typeof lab.balancers[0], typeof lab.balancers[0]];
  const vip = `${lab.net4}.121`;
  const a = await startRunner(t, lb1.ns, { instances: [{ name: 'VI_W', interface: 'eth0', vrid: 71, version: 3, advertIntervalMs: 300, priority: 200, virtualAddresses: [vip], trackInterfaces: [{ dev: 'eth1', weight: -150 }] }] });
  await a.waitFor(entered('VI_W', 'MASTER'), 3000);
  const b = await startRunner(t, lb2.ns, { instances: [{ name: 'VI_W', interface: 'eth0', vrid: 71, version: 3, advertIntervalMs: 300, priority: 100, virtualAddresses: [vip] }] });
  await b.waitFor(entered('VI_W', 'BACKUP'), 1000);
  const down = performance.now();
  await lb1.ns.ip('link', 'set', 'eth1', 'down');
  await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 71 && s.src === lb1.ipv4 && s.priority === 50, 2000, down);
  const takeover = await b.waitFor(entered('VI_W', 'MASTER'), masterDownIntervalMs(3, 100, 30) + 2000);
  t.like(takeover, { reason: 'preempt' });
  await a.waitFor((e) => entered('VI_W', 'BACKUP')(e), 2000);
  t.false(a.events.some(entered('VI_W', 'FAULT')));
  t.is(a.runner.status()[0]!.priority, 50);
});

ktest('vrrp_sync_group: one member\'s tracked link down puts the whole group in FAULT; the peer takes every member', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [typeof lab.balancers[0], typeof lab.balancers[0]];
  const group = (priority: number, trackB: boolean) => ({
    instances: [
      { name: 'VI_A', interface: 'eth0', vrid: 72, version: 3 as const, advertIntervalMs: 300, priority, virtualAddresses: [`${lab.net4}.130`] },
      { name: 'VI_B', interface: 'eth0', vrid: 73, version: 3 as const, advertIntervalMs: 300, priority, virtualAddresses: [`${lab.net4}.131`], ...(trackB ? { trackInterfaces: ['eth1'] } : {}) },
    ],
    syncGroups: [{ name: 'G', members: ['VI_A', 'VI_B'] }],
  });
  const a = await startRunner(t, lb1.ns, group(200, true));
  await a.waitFor((e) => e.type === 'group-transition' && e.to === 'MASTER', 3000);
  const b = await startRunner(t, lb2.ns, group(100, false));
  await b.waitFor((e) => e.type === 'group-transition' && e.to === 'BACKUP', 3000);
  await lb1.ns.ip('link', 'set', 'eth1', 'down');
  await a.waitFor((e) => e.type === 'group-transition' && e.to === 'FAULT', 2000);
  t.deepEqual(a.runner.status().map((s) => s.state), ['FAULT', 'FAULT'], 'VI_A follows VI_B although its own links are up');
  await b.waitFor((e) => e.type === 'group-transition' && e.to === 'MASTER', 3000);
  await Promise.all([a.runner.settled(), b.runner.settled()]);
  const onB = await addressesOn(lb2.ns);
  t.true(onB.includes(`${lab.net4}.130`) && onB.includes(`${lab.net4}.131`));
  const onA = await addressesOn(lb1.ns);
  t.false(onA.includes(`${lab.net4}.130`) || onA.includes(`${lab.net4}.131`));
  const up = performance.now();
  await lb1.ns.ip('link', 'set', 'eth1', 'up');
  await a.waitFor((e) => e.type === 'group-transition' && e.to === 'MASTER' && (e as { seenMs?: number }).seenMs! > up, 4000);
  t.deepEqual(a.runner.status().map((s) => s.state), ['MASTER', 'MASTER']);
});
