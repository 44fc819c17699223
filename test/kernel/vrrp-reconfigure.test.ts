// layer: tests (kernel tier, root)
// job: reload in place and upgrade restart on real sockets: a reconfigured MASTER keeps MASTER with no VIP flap; a lowered one is preempted as VRRP says; removed, replaced, added and unchanged instances; sync groups and the sync daemon; invalid reloads change nothing; hand-over + resume with an lvskit and a keepalived backup.
import test, { type ExecutionContext } from 'ava';
import { performance } from 'node:perf_hooks';
import type { TransitionEvent } from '../../src/vrrp/events.js';
import type { VirtualAddressConfig, VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import { masterDownIntervalMs } from '../../src/vrrp/state.js';
import { VrrpConfigError } from '../../src/vrrp/validate.js';
import { kernelTierUnavailable, run } from '../helpers/netns.js';
import { addressesOn, createVrrpLab, monitorAddresses, type Balancer, type Seen, type VrrpLab } from '../helpers/vrrp-lab.js';
import { keepalivedEntered, startKeepalived } from '../helpers/vrrp-procs.js';
import { entered, startRunner, type RecordedRunner } from '../helpers/vrrp-runner.js';
import { until } from '../helpers/until.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-reconfigure): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.skip : test.serial;
const keepalivedMissing = unavailable ?? (await run(['keepalived', '--version']).then(() => undefined, () => 'keepalived is not installed'));
const kaTest = keepalivedMissing && process.env.CI !== 'true' ? test.skip : test.serial;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Scheduling slack on a shared 2-core machine, on top of a protocol bound. */
const MARGIN_MS = 400;
/** v2, advert 1 s: Master_Down_Interval ≤ 3.996 s, plus the margin. */
const ELECTION_MS = 4000 + 1500;
/** The backups' (priority 100, v2, 1 s) Master_Down_Interval: 3609.375 ms. */
const BACKUP_DOWN_MS = masterDownIntervalMs(2, 100, 100);

function vi(name: string, vrid: number, priority: number, vips: Array<string | VirtualAddressConfig>, more: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig {
  return { name, interface: 'eth0', vrid, priority, authPass: 'reload', advertIntervalMs: 1000, virtualAddresses: vips, ...more };
}

/** The longest time without an advert (priority > 0) of `vrid` from `src` between `sinceMs` and `untilMs`. */
function longestGapMs(lab: VrrpLab, vrid: number, src: string, sinceMs: number, untilMs: number): number {
  const times = [sinceMs, ...lab.adverts(vrid, sinceMs).filter((s) => s.src === src && s.atMs <= untilMs).map((s) => s.atMs), untilMs];
  return Math.max(...times.slice(1).map((at, i) => at - times[i]!));
}

const isTransition = (e: { type: string }): e is TransitionEvent => e.type === 'transition';
const zeros = (lab: VrrpLab, vrid: number, sinceMs = 0): Seen[] => lab.seen.filter((s) => s.kind === 'vrrp' && s.vrid === vrid && s.priority === 0 && s.atMs >= sinceMs);

/** A MASTER (priority 200) on lb1 and a BACKUP (priority 100) on lb2 that has heard it for a while. */
async function pair(t: ExecutionContext, lab: VrrpLab, instance: (priority: number) => VrrpInstanceConfig): Promise<[RecordedRunner, RecordedRunner]> {
  const master = await startRunner(t, lab.balancers[0]!.ns, { instances: [instance(200)] });
  await master.waitFor(entered(instance(200).name, 'MASTER'), ELECTION_MS);
  const backup = await startRunner(t, lab.balancers[1]!.ns, { instances: [instance(100)] });
  await backup.waitFor(entered(instance(100).name, 'BACKUP'), 3000);
  await master.runner.settled();
  const name = instance(100).name;
  await until('the backup has heard the master', () => backup.runner.status().find((i) => i.name === name)?.master, 5000);
  return [master, backup];
}

ktest('reload in place: MASTER lowered (still above the backup), a VIP added and one removed, interval 1 → 2 s: adverts never pause, no takeover, the kept VIP never leaves', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const [kept, dropped, added] = [100, 101, 102].map((h) => `${lab.net4}.${h}`) as [string, string, string];
  const before = [{ address: kept, label: 'eth0:1' }, dropped];
  const after = [{ address: kept, label: 'eth0:1' }, added];
  // No delayed GARP round (garp_master_delay 0): every announcement after the reload is the reload's.
  const [master, backup] = await pair(t, lab, (p) => vi('VI_1', 71, p, before, { garpMasterDelayMs: 0 }));
  const monitor = await monitorAddresses(t, lb1.ns);
  const atMs = performance.now();
  // Both balancers reloaded together, as an operator would: a v2 backup drops adverts whose interval or VIP list is not its own.
  const [mr, br] = await Promise.all([
    master.runner.reconfigure([vi('VI_1', 71, 150, after, { advertIntervalMs: 2000, garpMasterDelayMs: 0 })]),
    backup.runner.reconfigure([vi('VI_1', 71, 100, after, { advertIntervalMs: 2000, garpMasterDelayMs: 0 })]),
  ]);
  const appliedMs = performance.now();
  t.deepEqual(mr, { added: [], removed: [], replaced: [], changed: [{ name: 'VI_1', fields: ['priority', 'advertIntervalCs', 'vips'] }], unchanged: [] });
  t.deepEqual(br.changed, [{ name: 'VI_1', fields: ['advertIntervalCs', 'vips'] }]);
  const garp = await lab.waitFor((s) => s.kind === 'garp' && s.address === added, 2000, atMs);
  t.is(garp.mac, lb1.mac, 'the new VIP is announced by the master');
  await sleep(masterDownIntervalMs(2, 100, 200) + 1500); // longer than the backup's Master_Down_Interval at the new interval
  const endMs = performance.now();
  const gap = longestGapMs(lab, 71, lb1.ipv4, atMs - 3000, endMs);
  t.true(gap <= 2000 + MARGIN_MS, `longest pause between the master's adverts: ${gap.toFixed(0)} ms`);
  const later = lab.adverts(71, appliedMs).filter((s) => s.src === lb1.ipv4);
  t.true(later.length >= 4 && later.every((s) => s.priority === 150), `adverts after the reload: ${later.map((s) => s.priority).join(',')}`);
  const spacing = later.slice(1).map((s, i) => s.atMs - later[i]!.atMs).sort((a, b) => a - b);
  t.true(Math.abs(spacing[Math.floor(spacing.length / 2)]! - 2000) < 100, `advert spacing ${spacing.map((x) => x.toFixed(0)).join(',')}`);
  t.is(lab.adverts(71).filter((s) => s.src !== lb1.ipv4).length, 0, 'the backup never advertised');
  t.false(backup.events.some((e) => isTransition(e) && e.to === 'MASTER'), 'the backup never became MASTER');
  t.false(master.events.some((e) => isTransition(e) && e.seenMs > atMs), 'no transition on the master');
  t.is(zeros(lab, 71).length, 0, 'no priority 0');
  t.false(monitor.deleted(kept), `the kept VIP was never removed: ${monitor.lines.map((l) => l.text).join('\n')}`);
  t.true(monitor.deleted(dropped), 'the dropped VIP went');
  t.true(monitor.added(added), 'the new VIP came');
  t.deepEqual(master.events.flatMap((e) => (e.type === 'vip' && e.seenMs > atMs ? [`${e.op} ${e.address}`] : [])).sort(), [`add ${added}`, `remove ${dropped}`]);
  t.is(lab.seen.filter((s) => s.kind === 'garp' && s.address === kept && s.atMs > atMs).length, 0, 'the kept VIP is not announced again');
  t.is(lab.seen.filter((s) => s.kind === 'garp' && s.address === added).length, 5, 'garp_master_repeat for the new VIP');
  const on1 = await addressesOn(lb1.ns);
  t.true(on1.includes(kept) && on1.includes(added) && !on1.includes(dropped), on1.join(' '));
  t.deepEqual((await addressesOn(lb2.ns)).filter((a) => [kept, added, dropped].includes(a)), []);
  t.like(master.runner.status()[0], { state: 'MASTER', priority: 150, masterAdverIntervalCs: 200 });
  t.like(backup.runner.status()[0], { state: 'BACKUP', master: { address: lb1.ipv4, priority: 150 } });
  t.true(master.events.some((e) => e.type === 'reconfigure'), 'a reconfigure event');
});

ktest('reload below the backup: it preempts Master_Down_Interval after the last advert it honoured; the old MASTER yields', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vip = `${lab.net4}.105`;
  const [master, backup] = await pair(t, lab, (p) => vi('VI_2', 72, p, [vip]));
  await master.runner.reconfigure([vi('VI_2', 72, 50, [vip])]);
  const honoured = lab.adverts(72).filter((s) => s.src === lb1.ipv4 && s.priority === 200).at(-1)!;
  const took = await backup.waitFor(entered('VI_2', 'MASTER'), BACKUP_DOWN_MS + 3000);
  t.like(took, { from: 'BACKUP', reason: 'preempt', priority: 100 });
  const first = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 72 && s.src === lb2.ipv4 && (s.priority ?? 0) > 0, 2000, honoured.atMs);
  const after = first.atMs - honoured.atMs;
  t.log(`backup took over ${after.toFixed(1)} ms after the last priority-200 advert (bound ${BACKUP_DOWN_MS} ms)`);
  t.true(after >= BACKUP_DOWN_MS - 100 && after <= BACKUP_DOWN_MS + MARGIN_MS, `${after} ms`);
  t.true(lab.adverts(72, honoured.atMs + 1).filter((s) => s.src === lb1.ipv4).every((s) => s.priority === 50), 'the lowered adverts went out');
  t.like(await master.waitFor((e) => isTransition(e) && e.to === 'BACKUP' && e.from === 'MASTER', 2000), { reason: 'higher-priority' });
  await until('the VIP moved to lb2', async () => !(await addressesOn(lb1.ns)).includes(vip) && (await addressesOn(lb2.ns)).includes(vip), 3000).catch(() => undefined);
  t.false((await addressesOn(lb1.ns)).includes(vip));
  t.true((await addressesOn(lb2.ns)).includes(vip));
});

ktest('reload: a removed MASTER sends priority 0 and releases its VIP, a replaced one (new VRID) stops and starts, an added owner is MASTER at once, the unchanged one is not touched; unused channels close', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const lb = lab.balancers[0]!;
  const vip = (h: number): string => `${lab.net4}.${h}`;
  const r = await startRunner(t, lb.ns, { instances: [vi('VI_A', 73, 255, [vip(110)]), vi('VI_B', 74, 255, [vip(111)]), vi('VI_C', 75, 255, [vip(112)])] });
  for (const name of ['VI_A', 'VI_B', 'VI_C']) await r.waitFor(entered(name, 'MASTER'), 2000);
  await r.runner.settled();
  const monitor = await monitorAddresses(t, lb.ns);
  await sleep(1200);
  const atMs = performance.now();
  const result = await r.runner.reconfigure([vi('VI_B', 76, 255, [vip(111)]), vi('VI_C', 75, 255, [vip(112)]), vi('VI_D', 77, 255, [vip(113)])]);
  t.deepEqual(result, { added: ['VI_D'], removed: ['VI_A'], replaced: [{ name: 'VI_B', fields: ['vrid'] }], changed: [], unchanged: ['VI_C'] });
  await r.runner.settled();
  await sleep(2500);
  t.is(zeros(lab, 73, atMs).length, 1, 'VI_A: priority 0');
  t.is(zeros(lab, 74, atMs).length, 1, 'VI_B (old VRID): priority 0');
  t.is(zeros(lab, 75).length, 0, 'VI_C: none');
  t.is(lab.adverts(73, atMs + 50).length + lab.adverts(74, atMs + 50).length, 0, 'nothing more from the old VRIDs');
  t.true(lab.adverts(76, atMs).length >= 2 && lab.adverts(77, atMs).length >= 2, 'the new VRIDs advertise');
  t.true(longestGapMs(lab, 75, lb.ipv4, atMs - 1000, performance.now()) <= 1000 + MARGIN_MS, 'VI_C kept its rhythm');
  const transitions = r.events.filter((e): e is TransitionEvent & { seenMs: number } => isTransition(e) && e.seenMs > atMs).map((e) => `${e.instance}:${e.from}→${e.to}`);
  t.deepEqual(transitions.sort(), ['VI_A:MASTER→STOP', 'VI_B:INIT→MASTER', 'VI_B:MASTER→STOP', 'VI_D:INIT→MASTER']);
  const on = await addressesOn(lb.ns);
  t.deepEqual([110, 111, 112, 113].map((h) => on.includes(vip(h))), [false, true, true, true]);
  t.false(monitor.deleted(vip(112)), 'the unchanged instance\'s VIP never left');
  t.true(monitor.deleted(vip(110)) && monitor.deleted(vip(111)), 'removed, and replaced (a stop then a start)');
  t.deepEqual(r.runner.status().map((s) => `${s.name}/${s.vrid}/${s.state}`), ['VI_B/76/MASTER', 'VI_C/75/MASTER', 'VI_D/77/MASTER']);
  // Everything onto unicast: the multicast channel closes, a unicast one opens.
  t.deepEqual(Object.keys(r.runner.channelDrops()).map((k) => k.split('/')[2]), ['multicast']);
  await r.runner.reconfigure([vi('VI_U', 78, 255, [vip(114)], { unicastPeers: [`${lab.net4}.254`] })]);
  t.deepEqual(Object.keys(r.runner.channelDrops()).map((k) => k.split('/')[2]), [lb.ipv4]);
  await r.waitFor(entered('VI_U', 'MASTER'), 2000);
  await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 78 && s.dst === `${lab.net4}.254`, 2000, atMs);
});

ktest('an invalid reload rejects with the field named and changes nothing', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const lb = lab.balancers[0]!;
  const vip = `${lab.net4}.120`;
  const good = vi('VI_1', 79, 255, [vip], { garpMasterDelayMs: 0 }); // no delayed GARP round: any event would be the reload's
  const r = await startRunner(t, lb.ns, { instances: [good] });
  await r.waitFor(entered('VI_1', 'MASTER'), 2000);
  await r.runner.settled();
  const before = { status: r.runner.status(), addresses: await addressesOn(lb.ns), channels: Object.keys(r.runner.channelDrops()), events: r.events.length };
  const extra = (more: Partial<VrrpInstanceConfig>): VrrpInstanceConfig => vi('VI_2', 80, 100, [`${lab.net4}.121`], more);
  const cases: Array<[VrrpInstanceConfig[], Parameters<typeof r.runner.reconfigure>[1], string]> = [
    [[{ ...good, vrid: 300, priority: 100 }], [], 'instances[0].vrid'],
    [[good, extra({ interface: 'eth9' })], [], 'instances[1].interface'], // no such link
    [[good, extra({ interface: 'eth1' })], [], 'instances[1].interface'], // a link without an IPv4 address
    [[{ ...good, priority: 200 }, extra({ interface: 'eth9' })], [], 'instances[1].interface'], // VI_1's change waits for every check
    [[extra({ interface: 'eth9' })], [], 'instances[0].interface'], // so does VI_1's removal
    [[{ ...good, priority: 200, acceptMode: false }], [], 'instances[0].acceptMode'], // no blockVips hook
    [[good, { ...good, vrid: 81 }], [], 'instances[1].name'],
    [[good, extra({})], [{ name: 'G', members: ['VI_1', 'VI_X'] }], 'syncGroups[0].members[1]'],
    [[], [], 'instances'],
  ];
  for (const [instances, groups, field] of cases) {
    const error = await t.throwsAsync(r.runner.reconfigure(instances, groups), { instanceOf: VrrpConfigError });
    t.is(error?.field, field, error?.message);
  }
  await sleep(1500);
  t.is(r.events.length - before.events, 0, `no event at all: ${r.events.slice(before.events).map((e) => e.type).join(', ')}`);
  t.deepEqual(r.runner.status().map((s) => ({ ...s, stats: undefined })), before.status.map((s) => ({ ...s, stats: undefined })));
  t.deepEqual(await addressesOn(lb.ns), before.addresses);
  t.deepEqual(Object.keys(r.runner.channelDrops()), before.channels);
  t.is(lab.seen.filter((s) => s.kind === 'vrrp' && s.vrid !== 79).length, 0, 'nothing sent for any other VRID');
  t.true(lab.adverts(79, performance.now() - 1500).length >= 1, 'VI_1 still advertises');
  t.is(zeros(lab, 79).length, 0);
});

ktest('reload: a new sync group of a MASTER and an added BACKUP brings the BACKUP up at once; a sync daemon moved to another interface is stopped on the old one first', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const requests: string[] = [];
  const one = (sync: string): VrrpInstanceConfig => vi('VI_1', 90, 255, [`${lab.net4}.140`], { lvsSyncDaemonInterface: sync });
  const r = await startRunner(t, lab.balancers[0]!.ns, { instances: [one('eth0')], hooks: { syncDaemon: (q) => { requests.push(`${q.role} ${q.interface}`); } } });
  await r.waitFor(entered('VI_1', 'MASTER'), 2000);
  await r.runner.settled();
  const atMs = performance.now();
  const result = await r.runner.reconfigure([one('eth1'), vi('VI_2', 91, 100, [`${lab.net4}.141`])], [{ name: 'G', members: ['VI_1', 'VI_2'] }]);
  t.like(result, { added: ['VI_2'], changed: [{ name: 'VI_1', fields: ['lvsSyncDaemonInterface'] }] });
  const up = await r.waitFor((e) => isTransition(e) && e.instance === 'VI_2' && e.to === 'MASTER', 1000);
  t.like(up, { from: 'BACKUP', reason: 'sync-group' });
  t.true(up.seenMs - atMs < 1000, 'long before its own Master_Down_Interval');
  await r.waitFor((e) => e.type === 'group-transition' && e.group === 'G' && e.to === 'MASTER', 1000);
  await r.runner.settled();
  t.deepEqual(requests, ['master eth0', 'stop eth0', 'master eth1']);
  t.true((await addressesOn(lab.balancers[0]!.ns)).includes(`${lab.net4}.141`));
});

ktest('reload with the priority 0 armed for a signal: it is re-armed with the new VIP list, so the backup takes it (Skew_Time, not Master_Down_Interval)', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const [a, b] = [`${lab.net4}.125`, `${lab.net4}.126`];
  const [master, backup] = await pair(t, lab, (p) => vi('VI_S', 84, p, [a]));
  const stopped = new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve(master.runner.stop())));
  master.runner.releaseOnSignal(['SIGUSR2']);
  await Promise.all([master.runner.reconfigure([vi('VI_S', 84, 200, [a, b])]), backup.runner.reconfigure([vi('VI_S', 84, 100, [a, b])])]);
  await master.runner.settled();
  await sleep(1200);
  process.kill(process.pid, 'SIGUSR2');
  await stopped;
  const zero = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 84 && s.src === lb1.ipv4 && s.priority === 0, 2000, 0);
  const took = await backup.waitFor(entered('VI_S', 'MASTER'), BACKUP_DOWN_MS + 2000);
  t.like(took, { reason: 'priority-zero' });
  const first = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 84 && s.src === lb2.ipv4 && (s.priority ?? 0) > 0, 2000, zero.atMs);
  t.true(first.atMs - zero.atMs < 1000, `took over ${(first.atMs - zero.atMs).toFixed(0)} ms after the priority 0`);
  t.is(zeros(lab, 84).length, 1);
  t.like(backup.runner.status()[0], { stats: { priorityZeroReceived: 1, drops: { 'address-count': 0, 'address-list': 0 } } });
});

/** Hand-over by `old` (MASTER of VI_H on lb1), then a successor on lb1 resuming after `pauseMs`; returns it. */
async function upgrade(t: ExecutionContext, lab: VrrpLab, old: RecordedRunner, instance: VrrpInstanceConfig, vip: string, pauseMs: number): Promise<{ successor: RecordedRunner; stoppedMs: number }> {
  const lb1 = lab.balancers[0]!;
  await old.runner.stop({ release: false });
  const stoppedMs = performance.now();
  t.true((await addressesOn(lb1.ns)).includes(vip), 'the VIP stays through the hand-over');
  t.false(old.events.some((e) => isTransition(e) && e.to === 'STOP'), 'no STOP');
  await sleep(pauseMs);
  const successor = await startRunner(t, lb1.ns, { instances: [instance] }, { resume: [instance.name] });
  t.like(await successor.waitFor(entered(instance.name, 'MASTER'), 1000), { from: 'INIT', reason: 'resume' });
  return { successor, stoppedMs };
}

ktest('upgrade restart: the MASTER hands over (no priority 0, VIP kept), a successor resumes within Master_Down_Interval — the lvskit backup never takes over', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vip = `${lab.net4}.130`;
  const instance = (p: number): VrrpInstanceConfig => vi('VI_H', 85, p, [{ address: vip, label: 'eth0:3' }]);
  const [old, backup] = await pair(t, lab, instance);
  const monitor = await monitorAddresses(t, lb1.ns);
  const sinceMs = performance.now();
  const { successor, stoppedMs } = await upgrade(t, lab, old, instance(200), vip, 1000);
  t.is(lab.adverts(85, stoppedMs + 1).filter((s) => s.atMs < stoppedMs + 900).length, 0, 'the old runner sent nothing after its stop');
  await lab.waitFor((s) => s.kind === 'garp' && s.address === vip && s.mac === lb1.mac, 2000, stoppedMs);
  await sleep(BACKUP_DOWN_MS + 1500);
  const gap = longestGapMs(lab, 85, lb1.ipv4, sinceMs, performance.now());
  t.log(`longest pause between adverts across the restart: ${gap.toFixed(0)} ms (Master_Down_Interval ${BACKUP_DOWN_MS} ms)`);
  t.true(gap < BACKUP_DOWN_MS, `${gap} ms`);
  t.is(zeros(lab, 85).length, 0, 'no priority 0 on the wire');
  t.false(backup.events.some((e) => isTransition(e) && e.to === 'MASTER'), 'the backup never became MASTER');
  t.is(lab.adverts(85).filter((s) => s.src === lb2.ipv4).length, 0, 'the backup never advertised');
  t.false(monitor.deleted(vip), 'the VIP never left the interface');
  t.like(successor.runner.status()[0], { state: 'MASTER', priority: 200 });
  t.like(backup.runner.status()[0], { state: 'BACKUP', master: { address: lb1.ipv4, priority: 200 } });
  t.true((await addressesOn(lb1.ns)).includes(vip));
  t.false((await addressesOn(lb2.ns)).includes(vip));
});

kaTest('upgrade restart with keepalived as the backup: it hears no priority 0 and never enters MASTER', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vip = `${lab.net4}.131`;
  const instance = vi('VI_K', 86, 200, [{ address: vip, label: 'eth0:1' }]);
  const old = await startRunner(t, lb1.ns, { instances: [instance] });
  await old.waitFor(entered('VI_K', 'MASTER'), ELECTION_MS);
  const keepalived = startKeepalived(t, lb2.ns, `global_defs {
  router_id lvskit-test
}
vrrp_instance VI_K {
  state BACKUP
  interface eth0
  virtual_router_id 86
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass reload
  }
  virtual_ipaddress {
    ${vip} dev eth0 label eth0:1
  }
}
`);
  await keepalived.waitFor(keepalivedEntered('VI_K', 'BACKUP'), 4000, true);
  await sleep(BACKUP_DOWN_MS + 500); // keepalived has heard lvskit for longer than its Master_Down_Interval
  const monitor = await monitorAddresses(t, lb1.ns);
  const sinceMs = performance.now();
  await upgrade(t, lab, old, instance, vip, 1000);
  await sleep(BACKUP_DOWN_MS + 1500);
  const gap = longestGapMs(lab, 86, lb1.ipv4, sinceMs, performance.now());
  t.log(`longest pause between adverts across the restart: ${gap.toFixed(0)} ms`);
  t.true(gap < BACKUP_DOWN_MS, `${gap} ms`);
  t.is(zeros(lab, 86).length, 0);
  t.false(keepalived.lines.some(keepalivedEntered('VI_K', 'MASTER')), 'keepalived never entered MASTER');
  t.false(keepalived.lines.some((l) => /priority 0|invalid|mismatch|not present/.test(l.text)), keepalived.lines.map((l) => l.text).join('\n'));
  t.is(lab.adverts(86).filter((s) => s.src === lb2.ipv4).length, 0, 'keepalived never advertised');
  t.false(monitor.deleted(vip));
  t.false((await addressesOn(lb2.ns)).includes(vip));
});
