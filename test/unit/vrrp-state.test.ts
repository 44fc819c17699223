// layer: tests (unit tier)
// job: every RFC transition of the pure machine on a fake clock: Initialize, Backup, Master (RFC 3768/5798 §6.4), skew, Master_Down_Interval.
import test from 'ava';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/state.js';
import { Sim } from '../helpers/vrrp-machine.js';

test('Skew_Time and Master_Down_Interval as RFC 3768 and RFC 5798 define them', (t) => {
  t.is(skewTimeMs(2, 100, 100), 609.375); // (256 − 100) / 256 s
  t.is(masterDownIntervalMs(2, 100, 100), 3609.375);
  t.is(skewTimeMs(2, 100, 300), 609.375, 'v2 skew does not depend on the interval');
  t.is(skewTimeMs(3, 100, 5), 30.46875); // ((256 − 100) × 5 cs) / 256
  t.is(masterDownIntervalMs(3, 100, 5), 180.46875);
  t.is(skewTimeMs(3, 254, 100), 7.8125);
});

test('Initialize (§6.4.1): a backup clears stale VIPs, arms Master_Down_Timer, and reports BACKUP', (t) => {
  const s = new Sim();
  t.is(s.state, 'INIT');
  t.deepEqual(s.on({ type: 'startup' }, 1000), [
    { type: 'remove-vips' },
    { type: 'set-timer', timer: 'masterDown', atMs: 1000 + 3609.375 },
    { type: 'notify', from: 'INIT', to: 'BACKUP', reason: 'startup', priority: 100 },
  ]);
  t.is(s.state, 'BACKUP');
  t.deepEqual(s.on({ type: 'startup' }, 1001), [], 'a second startup does nothing');
});

test('Initialize (§6.4.1): the address owner (255) becomes MASTER at once: advert, VIPs, GARP, Adver_Timer', (t) => {
  const s = new Sim({ priority: 255 });
  t.deepEqual(s.on({ type: 'startup' }, 0), [
    { type: 'send-advert', priority: 255 },
    { type: 'add-vips' },
    { type: 'announce', repeat: 5 },
    { type: 'set-timer', timer: 'adver', atMs: 1000 },
    { type: 'set-timer', timer: 'garpDelay', atMs: 5000 },
    { type: 'notify', from: 'INIT', to: 'MASTER', reason: 'address-owner', priority: 255 },
  ]);
});

test('Backup (§6.4.2): Master_Down_Timer fires → MASTER with the RFC order of actions', (t) => {
  const s = new Sim();
  s.on({ type: 'startup' });
  t.deepEqual(s.fire('masterDown'), [
    { type: 'send-advert', priority: 100 },
    { type: 'add-vips' },
    { type: 'announce', repeat: 5 },
    { type: 'set-timer', timer: 'adver', atMs: 3609.375 + 1000 },
    { type: 'set-timer', timer: 'garpDelay', atMs: 3609.375 + 5000 },
    { type: 'notify', from: 'BACKUP', to: 'MASTER', reason: 'master-down', priority: 100 },
  ]);
  t.is(s.now, 3609.375);
});

test('Backup (§6.4.2): adverts of a higher or equal priority reset Master_Down_Timer; no advert → takeover', (t) => {
  const s = new Sim();
  s.on({ type: 'startup' });
  for (let at = 500; at <= 10_500; at += 1000) {
    t.deepEqual(s.advert('10.0.0.1', 200, at), [{ type: 'set-timer', timer: 'masterDown', atMs: at + 3609.375 }]);
  }
  s.advert('10.0.0.1', 100, 11_500);
  t.is(s.due('masterDown'), 11_500 + 3609.375, 'equal priority resets it too');
  t.deepEqual(s.machine.master, { address: '10.0.0.1', priority: 100 });
  t.is(s.state, 'BACKUP');
  s.fire('masterDown');
  t.is(s.state, 'MASTER');
  t.is(s.now, 15_109.375, 'taken over exactly Master_Down_Interval after the last advert');
});

test('Backup (§6.4.2): priority 0 → Master_Down_Timer = Skew_Time; it fires → MASTER (reason priority-zero)', (t) => {
  const s = new Sim();
  s.on({ type: 'startup' });
  s.advert('10.0.0.1', 200, 1000);
  t.deepEqual(s.advert('10.0.0.1', 0, 1500), [{ type: 'set-timer', timer: 'masterDown', atMs: 1500 + 609.375 }]);
  s.fire('masterDown');
  t.is(s.state, 'MASTER');
  t.like(s.last.at(-1), { type: 'notify', to: 'MASTER', reason: 'priority-zero' });
  const v3 = new Sim({ version: 3, advertIntervalCs: 5, priority: 100 });
  v3.on({ type: 'startup' });
  v3.advert('10.0.0.1', 200, 100, 5);
  v3.advert('10.0.0.1', 0, 150, 5);
  t.is(v3.due('masterDown'), 150 + 30.46875, 'v3 skew scales with Master_Adver_Interval');
});

test('Backup (§6.4.2): preempting, a lower-priority advert is discarded, so the timer runs out', (t) => {
  const s = new Sim({ priority: 150 });
  s.on({ type: 'startup' }, 0);
  const deadline = s.due('masterDown');
  for (let at = 100; at < 3000; at += 1000) t.deepEqual(s.advert('10.0.0.1', 100, at), [], 'discarded');
  t.is(s.due('masterDown'), deadline);
  s.fire('masterDown');
  t.like(s.last.at(-1), { type: 'notify', from: 'BACKUP', to: 'MASTER', reason: 'preempt' });
});

test('Backup (§6.4.2, v3): Master_Adver_Interval is learned from the master; v2 keeps its own', (t) => {
  const v3 = new Sim({ version: 3, priority: 100, advertIntervalCs: 100 });
  v3.on({ type: 'startup' });
  v3.advert('10.0.0.1', 200, 1000, 200);
  t.is(v3.machine.masterAdverIntervalCs, 200);
  t.is(v3.due('masterDown'), 1000 + masterDownIntervalMs(3, 100, 200));
  const v2 = new Sim();
  v2.on({ type: 'startup' });
  v2.advert('10.0.0.1', 200, 1000, 100);
  t.is(v2.due('masterDown'), 1000 + 3609.375);
});

test('Master (§6.4.3): Adver_Timer fires → an advert with the current priority, and the timer again', (t) => {
  const s = new Sim({ priority: 255 });
  s.on({ type: 'startup' });
  t.deepEqual(s.fire('adver'), [{ type: 'send-advert', priority: 255 }, { type: 'set-timer', timer: 'adver', atMs: 2000 }]);
  t.deepEqual(s.fire('adver'), [{ type: 'send-advert', priority: 255 }, { type: 'set-timer', timer: 'adver', atMs: 3000 }]);
});

test('Master (§6.4.3): priority 0 from another router → send an advert now and reset Adver_Timer', (t) => {
  const s = new Sim({ priority: 255 });
  s.on({ type: 'startup' });
  t.deepEqual(s.advert('10.0.0.9', 0, 400), [{ type: 'send-advert', priority: 255 }, { type: 'set-timer', timer: 'adver', atMs: 1400 }]);
  t.is(s.state, 'MASTER');
});

test('Master (§6.4.3): a higher priority → BACKUP: VIPs released, no priority 0, Master_Down_Timer armed', (t) => {
  const s = new Sim({ version: 3, priority: 100, advertIntervalCs: 100 });
  s.on({ type: 'startup' });
  s.fire('masterDown');
  t.deepEqual(s.advert('10.0.0.1', 200, 5000, 50), [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'clear-timer', timer: 'garpDelay' },
    { type: 'remove-vips' },
    { type: 'notify', from: 'MASTER', to: 'BACKUP', reason: 'higher-priority', priority: 100 },
    { type: 'set-timer', timer: 'masterDown', atMs: 5000 + masterDownIntervalMs(3, 100, 50) },
  ]);
  t.is(s.state, 'BACKUP');
  t.is(s.machine.masterAdverIntervalCs, 50, 'learned from the higher-priority master (RFC 5798 §6.4.3)');
});

test('Master (§6.4.3): equal priority — a greater sender address wins, a smaller one loses, our own is ignored', (t) => {
  const mk = (): Sim => {
    const s = new Sim({ primaryAddress: '10.0.0.20' });
    s.on({ type: 'startup' });
    s.fire('masterDown');
    return s;
  };
  const greater = mk();
  greater.advert('10.0.0.100', 100, 4000); // 100 > 20 as an unsigned integer, not as text
  t.is(greater.state, 'BACKUP');
  const smaller = mk();
  t.deepEqual(smaller.advert('10.0.0.3', 100, 4000), [{ type: 'send-advert', priority: 100 }]);
  t.is(smaller.state, 'MASTER');
  const own = mk();
  t.deepEqual(own.advert('10.0.0.20', 100, 4000), []);
  t.is(own.state, 'MASTER');
});

test('Master (§6.4.3): a lower priority keeps us MASTER, and we answer at once (keepalived\'s default)', (t) => {
  const s = new Sim({ priority: 200 });
  s.on({ type: 'startup' });
  s.fire('masterDown');
  t.deepEqual(s.advert('10.0.0.1', 100, 4000), [{ type: 'send-advert', priority: 200 }]);
  t.is(s.state, 'MASTER');
});

test('two address owners: the one that hears the other lowers itself to 254 and yields, with a warning', (t) => {
  const s = new Sim({ priority: 255, primaryAddress: '10.0.0.1' });
  s.on({ type: 'startup' });
  const actions = s.advert('10.0.0.2', 255, 300);
  t.like(actions[0], { type: 'warning', message: 'both this router and 10.0.0.2 are configured as address owner (priority 255); lowering ours to 254' });
  t.is(s.machine.basePriority, 254);
  t.is(s.state, 'BACKUP');
});

test('INIT and FAULT take no part: adverts and stale timers change nothing', (t) => {
  const s = new Sim();
  t.deepEqual(s.advert('10.0.0.1', 0, 0), []);
  t.deepEqual(s.on({ type: 'timer', timer: 'masterDown' }), []);
  s.on({ type: 'track', fault: true, weight: 0 });
  s.on({ type: 'startup' });
  t.is(s.state, 'FAULT');
  const before = s.machine;
  t.deepEqual(s.advert('10.0.0.1', 0, 10), []);
  t.deepEqual(s.on({ type: 'timer', timer: 'adver' }, 20), []);
  t.deepEqual(s.machine, before);
});

test('a stale timer (cleared by a transition) is ignored', (t) => {
  const s = new Sim();
  s.on({ type: 'startup' });
  s.fire('masterDown');
  s.advert('10.0.0.1', 200, 3700); // → BACKUP: adver cleared
  t.deepEqual(s.on({ type: 'timer', timer: 'adver' }, 4609.375), []);
  t.deepEqual(s.on({ type: 'timer', timer: 'garpDelay' }, 8609.375), []);
  t.is(s.state, 'BACKUP');
});
