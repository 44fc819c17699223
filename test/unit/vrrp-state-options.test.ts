// layer: tests (unit tier)
// job: the machine's options on a fake clock: nopreempt, preempt_delay, tracking (FAULT, weights), accept_mode, GARP rounds, sync daemon, sync events, shutdown.
import test from 'ava';
import { Sim } from '../helpers/vrrp-machine.js';

test('nopreempt: a higher-priority backup keeps honouring a lower master; it takes over only when adverts stop', (t) => {
  const s = new Sim({ priority: 200, preempt: false });
  s.on({ type: 'startup' });
  for (let at = 1000; at <= 20_000; at += 1000) {
    t.deepEqual(s.advert('10.0.0.1', 100, at), [{ type: 'set-timer', timer: 'masterDown', atMs: at + 3000 + (56 * 1000) / 256 }]);
  }
  t.is(s.state, 'BACKUP');
  s.fire('masterDown');
  t.is(s.state, 'MASTER');
});

test('preempt_delay: lower adverts are honoured for the delay (from the first one), then discarded', (t) => {
  const s = new Sim({ priority: 200, preemptDelayMs: 10_000 });
  s.on({ type: 'startup' }, 0);
  s.advert('10.0.0.1', 100, 1000);
  t.is(s.machine.preemptAtMs, 11_000, 'the delay starts at the first lower-priority advert');
  for (let at = 2000; at < 11_000; at += 1000) {
    s.advert('10.0.0.1', 100, at);
    t.is(s.due('masterDown'), at + 3000 + (56 * 1000) / 256, `still honoured at ${at}`);
  }
  t.deepEqual(s.advert('10.0.0.1', 100, 11_000), [], 'delay over: discarded');
  t.deepEqual(s.advert('10.0.0.1', 100, 12_000), []);
  s.fire('masterDown');
  t.is(s.state, 'MASTER');
  t.like(s.last.at(-1), { reason: 'preempt' });
  t.is(s.now, 10_000 + 3000 + (56 * 1000) / 256, 'preempted Master_Down_Interval after the last honoured advert');
});

test('preempt_delay: an advert of higher or equal priority cancels a running delay', (t) => {
  const s = new Sim({ priority: 200, preemptDelayMs: 10_000 });
  s.on({ type: 'startup' }, 0);
  s.advert('10.0.0.1', 100, 1000);
  t.is(s.machine.preemptAtMs, 11_000);
  s.advert('10.0.0.3', 250, 2000);
  t.is(s.machine.preemptAtMs, undefined);
  s.advert('10.0.0.1', 100, 3000);
  t.is(s.machine.preemptAtMs, 13_000, 'restarted by the next lower advert');
});

test('track: an unweighted link down in BACKUP → FAULT (timer cleared); up again → BACKUP with a fresh timer', (t) => {
  const s = new Sim();
  s.on({ type: 'startup' }, 0);
  t.deepEqual(s.on({ type: 'track', fault: true, weight: 0 }, 500), [
    { type: 'clear-timer', timer: 'masterDown' },
    { type: 'notify', from: 'BACKUP', to: 'FAULT', reason: 'fault', priority: 100 },
  ]);
  t.is(s.due('masterDown'), undefined);
  t.deepEqual(s.on({ type: 'track', fault: false, weight: 0 }, 9000), [
    { type: 'set-timer', timer: 'masterDown', atMs: 9000 + 3609.375 },
    { type: 'notify', from: 'FAULT', to: 'BACKUP', reason: 'fault-cleared', priority: 100 },
  ]);
});

test('track: a MASTER whose link goes down sends priority 0 and releases the VIPs (FAULT)', (t) => {
  const s = new Sim({ priority: 255 });
  s.on({ type: 'startup' }, 0);
  t.deepEqual(s.on({ type: 'track', fault: true, weight: 0 }, 700), [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'clear-timer', timer: 'garpDelay' },
    { type: 'send-advert', priority: 0 },
    { type: 'remove-vips' },
    { type: 'notify', from: 'MASTER', to: 'FAULT', reason: 'fault', priority: 255 },
  ]);
  // The owner recovers straight to MASTER (Initialize again).
  s.on({ type: 'track', fault: false, weight: 0 }, 2000);
  t.is(s.state, 'MASTER');
  t.like(s.last.at(-1), { type: 'notify', from: 'FAULT', to: 'MASTER', reason: 'fault-cleared' });
});

test('track: weights move the priority (clamped to 1..254); the next advert carries it', (t) => {
  const s = new Sim({ priority: 100 });
  s.on({ type: 'startup' });
  s.fire('masterDown');
  s.on({ type: 'track', fault: false, weight: -60 });
  t.is(s.machine.priority, 40);
  t.deepEqual(s.fire('adver')[0], { type: 'send-advert', priority: 40 });
  s.on({ type: 'track', fault: false, weight: -500 });
  t.is(s.machine.priority, 1);
  s.on({ type: 'track', fault: false, weight: 200 });
  t.is(s.machine.priority, 254, 'never 255 without owning the address');
  t.is(s.state, 'MASTER', 'weights alone are no FAULT');
  // A backup whose priority rises above the master's preempts it (discards its adverts).
  const b = new Sim({ priority: 100 });
  b.on({ type: 'startup' });
  b.advert('10.0.0.1', 150, 100);
  b.on({ type: 'track', fault: false, weight: 100 });
  t.deepEqual(b.advert('10.0.0.1', 150, 1100), []);
});

test('a fault before startup starts in FAULT (clearing stale VIPs)', (t) => {
  const s = new Sim();
  s.on({ type: 'track', fault: true, weight: 0 });
  t.deepEqual(s.on({ type: 'startup' }), [{ type: 'remove-vips' }, { type: 'notify', from: 'INIT', to: 'FAULT', reason: 'startup', priority: 100 }]);
});

test('accept_mode off: MASTER asks to block VIP traffic and unblocks when leaving; the owner never blocks', (t) => {
  const s = new Sim({ acceptMode: false });
  s.on({ type: 'startup' });
  t.true(s.fire('masterDown').some((a) => a.type === 'block-vips' && a.block));
  t.true(s.advert('10.0.0.1', 200, 4000).some((a) => a.type === 'block-vips' && !a.block));
  t.false(s.machine.blocked);
  const owner = new Sim({ acceptMode: false, priority: 255 });
  t.false(owner.on({ type: 'startup' }).some((a) => a.type === 'block-vips'));
  const accepting = new Sim({ acceptMode: true });
  accepting.on({ type: 'startup' });
  t.false(accepting.fire('masterDown').some((a) => a.type === 'block-vips'));
});

test('garp_master_delay / _repeat / _refresh / _refresh_repeat: rounds after the transition and periodically', (t) => {
  const s = new Sim({ priority: 255, garp: { masterDelayMs: 2000, masterRepeat: 3, masterRefreshMs: 7000, masterRefreshRepeat: 2 } });
  s.on({ type: 'startup' }, 0);
  t.deepEqual(s.last.filter((a) => a.type === 'announce'), [{ type: 'announce', repeat: 3 }]);
  t.is(s.due('garpDelay'), 2000);
  t.is(s.due('garpRefresh'), 7000);
  t.deepEqual(s.fire('garpDelay'), [{ type: 'announce', repeat: 3 }]);
  t.is(s.due('garpDelay'), undefined, 'one delayed round only');
  t.deepEqual(s.fire('garpRefresh'), [{ type: 'announce', repeat: 2 }, { type: 'set-timer', timer: 'garpRefresh', atMs: 14_000 }]);
  s.fire('garpRefresh');
  t.is(s.due('garpRefresh'), 21_000);
  const none = new Sim({ priority: 255, garp: { masterDelayMs: 0, masterRepeat: 1, masterRefreshMs: 0, masterRefreshRepeat: 1 } });
  none.on({ type: 'startup' });
  t.deepEqual(none.machine.timers, { adver: 1000 });
});

test('lvs_sync_daemon_interface: backup at startup, master on MASTER, backup when leaving, stop on shutdown', (t) => {
  const s = new Sim({ syncDaemon: true });
  const roles = (): string[] => s.last.flatMap((a) => (a.type === 'sync-daemon' ? [a.role] : []));
  s.on({ type: 'startup' });
  t.deepEqual(roles(), ['backup']);
  s.fire('masterDown');
  t.deepEqual(roles(), ['master']);
  s.advert('10.0.0.1', 200, 4000);
  t.deepEqual(roles(), ['backup']);
  s.on({ type: 'shutdown' }, 5000);
  t.deepEqual(roles(), ['stop']);
  const plain = new Sim();
  plain.on({ type: 'startup' });
  t.false(plain.last.some((a) => a.type === 'sync-daemon'));
});

test('sync events: a BACKUP follows a group MASTER, a MASTER follows a group BACKUP; others ignore them', (t) => {
  const s = new Sim();
  s.on({ type: 'startup' });
  s.on({ type: 'sync', to: 'MASTER' }, 100);
  t.is(s.state, 'MASTER');
  t.like(s.last.at(-1), { type: 'notify', from: 'BACKUP', to: 'MASTER', reason: 'sync-group' });
  s.on({ type: 'sync', to: 'BACKUP' }, 200);
  t.is(s.state, 'BACKUP');
  t.true(s.last.some((a) => a.type === 'remove-vips'));
  t.is(s.due('masterDown'), 200 + 3609.375);
  t.deepEqual(s.on({ type: 'sync', to: 'BACKUP' }, 300), []);
  const f = new Sim();
  f.on({ type: 'track', fault: true, weight: 0 });
  f.on({ type: 'startup' });
  t.deepEqual(f.on({ type: 'sync', to: 'MASTER' }), [], 'a FAULT member does not follow to MASTER');
});

test('shutdown: a MASTER sends priority 0 and releases the VIPs; a BACKUP stops its timer; both report STOP', (t) => {
  const m = new Sim();
  m.on({ type: 'startup' });
  m.fire('masterDown');
  t.deepEqual(m.on({ type: 'shutdown' }, 4000), [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'clear-timer', timer: 'garpDelay' },
    { type: 'send-advert', priority: 0 },
    { type: 'remove-vips' },
    { type: 'notify', from: 'MASTER', to: 'STOP', reason: 'shutdown', priority: 100 },
  ]);
  t.is(m.state, 'INIT');
  t.deepEqual(m.machine.timers, {});
  const b = new Sim();
  b.on({ type: 'startup' });
  t.deepEqual(b.on({ type: 'shutdown' }), [
    { type: 'clear-timer', timer: 'masterDown' },
    { type: 'notify', from: 'BACKUP', to: 'STOP', reason: 'shutdown', priority: 100 },
  ]);
  t.deepEqual(b.on({ type: 'shutdown' }), [], 'stopping twice does nothing');
});
