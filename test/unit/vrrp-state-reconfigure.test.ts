// layer: tests (unit tier)
// job: the machine's reload in place (reconfigure), its resume start and its hand-over stop, on a fake clock.
import test from 'ava';
import type { MachineConfig } from '../../src/vrrp/state.js';
import { baseConfig, Sim } from '../helpers/vrrp-machine.js';

const cfg = (c: Partial<MachineConfig> = {}): MachineConfig => ({ ...baseConfig, ...c });
const reconfigure = (s: Sim, c: Partial<MachineConfig>, atMs = s.now, advertChanged?: boolean) =>
  s.on({ type: 'reconfigure', config: cfg(c), ...(advertChanged !== undefined ? { advertChanged } : {}) }, atMs);

/** A MASTER (priority 100 unless told) at 3609.375 ms, its Adver_Timer due one interval later. */
function master(c: Partial<MachineConfig> = {}): Sim {
  const s = new Sim(c);
  s.on({ type: 'startup' }, 0);
  s.fire('masterDown');
  return s;
}

test('reconfigure MASTER, priority lowered: stays MASTER, advertises the new priority at once, Adver_Timer from now', (t) => {
  const s = master({ priority: 200 });
  t.deepEqual(reconfigure(s, { priority: 150 }, 4000), [
    { type: 'send-advert', priority: 150 },
    { type: 'set-timer', timer: 'adver', atMs: 5000 },
  ]);
  t.is(s.state, 'MASTER');
  t.like(s.machine, { basePriority: 150, priority: 150 });
  t.deepEqual(s.fire('adver')[0], { type: 'send-advert', priority: 150 }, 'the adverts that follow carry it too');
  t.false(s.log.some((l) => l.atMs >= 4000 && l.action.type === 'notify'), 'no transition');
});

test('reconfigure: the priority is recomputed with the tracking weight; an owner lowered to 254 in a conflict stays there', (t) => {
  const s = master({ priority: 100 });
  s.on({ type: 'track', fault: false, weight: 20 }, 4000);
  t.is(s.machine.priority, 120);
  reconfigure(s, { priority: 150 }, 4100);
  t.like(s.machine, { basePriority: 150, priority: 170 });
  const owner = new Sim({ priority: 255, primaryAddress: '10.0.0.1' });
  owner.on({ type: 'startup' }, 0);
  owner.advert('10.0.0.2', 255, 100); // → 254, BACKUP
  reconfigure(owner, { priority: 255, preempt: false }, 200);
  t.is(owner.machine.basePriority, 254, 'the configured priority did not change: the conflict still holds');
  reconfigure(owner, { priority: 200 }, 300);
  t.is(owner.machine.basePriority, 200);
});

test('reconfigure MASTER, interval changed: advert now, then at the new interval; Master_Adver_Interval follows', (t) => {
  for (const [from, to] of [[100, 300], [100, 50]] as const) {
    const s = master({ version: 3, advertIntervalCs: from });
    s.fire('adver'); // last advert at 4609.375
    const at = 4609.375 + 700;
    t.deepEqual(reconfigure(s, { version: 3, advertIntervalCs: to }, at), [
      { type: 'send-advert', priority: 100 },
      { type: 'set-timer', timer: 'adver', atMs: at + to * 10 },
    ], `${from} → ${to} cs`);
    t.is(s.machine.masterAdverIntervalCs, to);
    s.fire('adver');
    t.is(s.now - at, to * 10);
  }
});

test('reconfigure MASTER: settings outside the advert change no timer and send nothing; advertChanged (VIPs, password) sends one', (t) => {
  const s = master();
  const adver = s.due('adver');
  t.deepEqual(reconfigure(s, { preempt: false, preemptDelayMs: 3000 }, 4000), []);
  t.is(s.due('adver'), adver);
  t.deepEqual(reconfigure(s, { preempt: false, preemptDelayMs: 3000 }, 4100, true), [
    { type: 'send-advert', priority: 100 },
    { type: 'set-timer', timer: 'adver', atMs: 5100 },
  ]);
});

test('reconfigure BACKUP: the Master_Down_Timer is kept; a priority now above the master\'s preempts at it, as §6.4.2 says', (t) => {
  const s = new Sim({ priority: 100 });
  s.on({ type: 'startup' }, 0);
  s.advert('10.0.0.1', 150, 1000);
  const due = s.due('masterDown');
  t.deepEqual(reconfigure(s, { priority: 200 }, 1500), [], 'no action: the next advert decides');
  t.is(s.due('masterDown'), due);
  t.deepEqual(s.advert('10.0.0.1', 150, 2000), [], 'the lower advert is discarded');
  s.fire('masterDown');
  t.is(s.now, due!);
  t.like(s.last.at(-1), { type: 'notify', from: 'BACKUP', to: 'MASTER', reason: 'preempt', priority: 200 });
  const lower = new Sim({ priority: 200 });
  lower.on({ type: 'startup' }, 0);
  lower.advert('10.0.0.1', 150, 1000);
  reconfigure(lower, { priority: 100 }, 1500);
  t.deepEqual(lower.advert('10.0.0.1', 150, 2000), [{ type: 'set-timer', timer: 'masterDown', atMs: 2000 + 3609.375 }], 'now honoured, with the new skew');
});

test('reconfigure BACKUP, interval: v2 takes its own new interval; v3 keeps the one learned from the master', (t) => {
  const v2 = new Sim();
  v2.on({ type: 'startup' }, 0);
  v2.advert('10.0.0.1', 200, 1000);
  reconfigure(v2, { advertIntervalCs: 200 }, 1500);
  t.is(v2.machine.masterAdverIntervalCs, 200);
  t.is(v2.advert('10.0.0.1', 200, 2000, 200)[0]?.type, 'set-timer');
  t.is(v2.due('masterDown'), 2000 + 6000 + 609.375);
  const v3 = new Sim({ version: 3 });
  v3.on({ type: 'startup' }, 0);
  v3.advert('10.0.0.1', 200, 1000, 50);
  reconfigure(v3, { version: 3, advertIntervalCs: 200 }, 1500);
  t.is(v3.machine.masterAdverIntervalCs, 50);
  const unheard = new Sim({ version: 3 });
  unheard.on({ type: 'startup' }, 0);
  reconfigure(unheard, { version: 3, advertIntervalCs: 200 }, 100);
  t.is(unheard.machine.masterAdverIntervalCs, 200, 'no master heard yet: our own');
});

test('reconfigure: a changed preempt_delay drops a running delay; the next lower advert starts the new one', (t) => {
  const s = new Sim({ priority: 200, preemptDelayMs: 10_000 });
  s.on({ type: 'startup' }, 0);
  s.advert('10.0.0.1', 100, 1000);
  t.is(s.machine.preemptAtMs, 11_000);
  reconfigure(s, { priority: 200, preemptDelayMs: 2000 }, 1500);
  t.is(s.machine.preemptAtMs, undefined);
  s.advert('10.0.0.1', 100, 2000);
  t.is(s.machine.preemptAtMs, 4000);
});

test('reconfigure: priority 255 gained — a BACKUP becomes MASTER at once (§6.4.1); FAULT waits for recovery', (t) => {
  const s = new Sim({ priority: 100 });
  s.on({ type: 'startup' }, 0);
  s.advert('10.0.0.1', 200, 1000);
  const actions = reconfigure(s, { priority: 255 }, 1500);
  t.is(s.state, 'MASTER');
  t.deepEqual(actions.slice(0, 3), [{ type: 'clear-timer', timer: 'masterDown' }, { type: 'send-advert', priority: 255 }, { type: 'add-vips' }]);
  t.like(actions.at(-1), { type: 'notify', from: 'BACKUP', to: 'MASTER', reason: 'address-owner', priority: 255 });
  const f = new Sim({ priority: 100 });
  f.on({ type: 'track', fault: true, weight: 0 });
  f.on({ type: 'startup' });
  t.deepEqual(reconfigure(f, { priority: 255 }), []);
  t.is(f.state, 'FAULT');
  f.on({ type: 'track', fault: false, weight: 0 }, 10);
  t.like(f.last.at(-1), { type: 'notify', to: 'MASTER', reason: 'fault-cleared' });
});

test('reconfigure: priority 255 lost — the MASTER stays, advertising the new priority; Accept_Mode off now blocks', (t) => {
  const s = new Sim({ priority: 255, acceptMode: false });
  s.on({ type: 'startup' }, 0);
  t.false(s.machine.blocked, 'the owner never blocks');
  t.deepEqual(reconfigure(s, { priority: 200, acceptMode: false }, 500), [
    { type: 'block-vips', block: true },
    { type: 'send-advert', priority: 200 },
    { type: 'set-timer', timer: 'adver', atMs: 1500 },
  ]);
  t.is(s.state, 'MASTER');
  t.true(s.machine.blocked);
  t.deepEqual(reconfigure(s, { priority: 200, acceptMode: true }, 600), [{ type: 'block-vips', block: false }]);
});

test('reconfigure MASTER, garp_master_refresh: restarted from now, or stopped; a pending delayed round is dropped at delay 0', (t) => {
  const garp = { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 };
  const s = master({ garp });
  t.deepEqual(reconfigure(s, { garp: { ...garp, masterRefreshMs: 2000 } }, 4000), [{ type: 'set-timer', timer: 'garpRefresh', atMs: 6000 }]);
  t.is(s.due('garpDelay'), 3609.375 + 5000, 'the delayed round keeps its time');
  t.deepEqual(reconfigure(s, { garp: { ...garp, masterDelayMs: 0, masterRepeat: 2 } }, 4100), [
    { type: 'clear-timer', timer: 'garpRefresh' },
    { type: 'clear-timer', timer: 'garpDelay' },
  ]);
  const r = master({ garp });
  reconfigure(r, { garp: { ...garp, masterRepeat: 2 } }, 4000);
  t.deepEqual(r.fire('garpDelay'), [{ type: 'announce', repeat: 2 }], 'a round reads the repeat when it goes');
});

test('reconfigure: the sync daemon turned on asks for the current role, turned off stops it; INIT waits for startup', (t) => {
  const roles = (s: Sim) => s.last.flatMap((a) => (a.type === 'sync-daemon' ? [a.role] : []));
  const b = new Sim();
  b.on({ type: 'startup' }, 0);
  reconfigure(b, { syncDaemon: true }, 100);
  t.deepEqual(roles(b), ['backup']);
  reconfigure(b, { syncDaemon: false }, 200);
  t.deepEqual(roles(b), ['stop']);
  const m = master();
  reconfigure(m, { syncDaemon: true }, 4000);
  t.deepEqual(roles(m), ['master']);
  const i = new Sim();
  t.deepEqual(reconfigure(i, { syncDaemon: true, priority: 150 }), [], 'INIT: the settings only');
  t.is(i.machine.priority, 150);
  i.on({ type: 'startup' });
  t.deepEqual(roles(i), ['backup']);
  const owner = new Sim();
  owner.on({ type: 'startup' }, 0);
  reconfigure(owner, { syncDaemon: true, priority: 255 }, 100);
  t.deepEqual(roles(owner), ['master'], 'one request, for the state it ends in');
});

test('startup resume: MASTER at once (advert, VIPs, announcement, timers, sync daemon), no stale-VIP removal', (t) => {
  const s = new Sim({ syncDaemon: true });
  t.deepEqual(s.on({ type: 'startup', resume: 'MASTER' }, 100), [
    { type: 'send-advert', priority: 100 },
    { type: 'add-vips' },
    { type: 'announce', repeat: 5 },
    { type: 'set-timer', timer: 'adver', atMs: 1100 },
    { type: 'set-timer', timer: 'garpDelay', atMs: 5100 },
    { type: 'sync-daemon', role: 'master' },
    { type: 'notify', from: 'INIT', to: 'MASTER', reason: 'resume', priority: 100 },
  ]);
  t.is(s.state, 'MASTER');
});

test('startup resume with a fault: priority 0 (the MASTER handed over ends here), VIPs released, FAULT', (t) => {
  const s = new Sim({ syncDaemon: true });
  s.on({ type: 'track', fault: true, weight: 0 });
  t.deepEqual(s.on({ type: 'startup', resume: 'MASTER' }), [
    { type: 'send-advert', priority: 0 },
    { type: 'sync-daemon', role: 'backup' },
    { type: 'remove-vips' },
    { type: 'notify', from: 'INIT', to: 'FAULT', reason: 'fault', priority: 100 },
  ]);
  t.is(s.state, 'FAULT');
});

test('shutdown without release (hand-over): timers cleared and nothing else — no priority 0, VIPs and sync daemon kept, no STOP', (t) => {
  const s = master({ syncDaemon: true, garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 7000, masterRefreshRepeat: 1 } });
  t.deepEqual(s.on({ type: 'shutdown', release: false }, 4000), [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'clear-timer', timer: 'garpDelay' },
    { type: 'clear-timer', timer: 'garpRefresh' },
  ]);
  t.is(s.state, 'INIT');
  t.deepEqual(s.machine.timers, {});
  const b = new Sim();
  b.on({ type: 'startup' });
  t.deepEqual(b.on({ type: 'shutdown', release: false }), [{ type: 'clear-timer', timer: 'masterDown' }]);
  t.deepEqual(b.on({ type: 'shutdown' }), [], 'stopped already');
});
