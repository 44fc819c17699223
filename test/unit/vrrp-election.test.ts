// layer: tests (unit tier)
// job: several pure machines on a simulated LAN with a fake clock: election, hard failure, graceful stop, preemption, reload in place, upgrade restart — never two masters for more than one advert interval.
import test from 'ava';
import { createMachine, masterDownIntervalMs, skewTimeMs, step, type Machine, type MachineConfig, type TimerName, type VrrpEvent } from '../../src/vrrp/state.js';
import { baseConfig } from '../helpers/vrrp-machine.js';

interface Router { name: string; address: string; machine: Machine; alive: boolean; timers: Map<TimerName, number> }
interface Pending { atMs: number; seq: number; run: () => void }

/** A LAN where adverts arrive `latencyMs` after they are sent, and timers fire on a shared fake clock. */
class Lan {
  now = 0;
  private seq = 0;
  private queue: Pending[] = [];
  readonly routers: Router[] = [];
  /** (time, router, state) for every state change. */
  readonly history: Array<{ atMs: number; router: string; state: string }> = [];
  /** Every advert sent. */
  readonly sent: Array<{ atMs: number; router: string; priority: number }> = [];

  constructor(private readonly latencyMs = 1) {}

  add(name: string, address: string, config: Partial<MachineConfig>): Router {
    const r: Router = { name, address, machine: createMachine({ ...baseConfig, primaryAddress: address, ...config }), alive: true, timers: new Map() };
    this.routers.push(r);
    return r;
  }

  at(atMs: number, run: () => void): void {
    this.queue.push({ atMs, seq: this.seq++, run });
    this.queue.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  }

  /** Step a router, carry out its actions: adverts onto the wire, timers onto the clock. */
  deliver(r: Router, event: VrrpEvent): void {
    if (!r.alive) return;
    const before = r.machine.state;
    const { machine, actions } = step(r.machine, event, this.now);
    r.machine = machine;
    if (machine.state !== before) this.history.push({ atMs: this.now, router: r.name, state: machine.state });
    for (const a of actions) {
      if (a.type === 'send-advert') {
        this.sent.push({ atMs: this.now, router: r.name, priority: a.priority });
        for (const other of this.routers) {
          if (other !== r) {
            const ev: VrrpEvent = { type: 'advert', src: r.address, priority: a.priority, advertIntervalCs: r.machine.config.advertIntervalCs };
            this.at(this.now + this.latencyMs, () => this.deliver(other, ev));
          }
        }
      } else if (a.type === 'set-timer') {
        const token = this.seq;
        r.timers.set(a.timer, token);
        this.at(a.atMs, () => { if (r.timers.get(a.timer) === token) { r.timers.delete(a.timer); this.deliver(r, { type: 'timer', timer: a.timer }); } });
      } else if (a.type === 'clear-timer') {
        r.timers.delete(a.timer);
      }
    }
  }

  runUntil(endMs: number): void {
    while (this.queue.length > 0 && this.queue[0]!.atMs <= endMs) {
      const next = this.queue.shift()!;
      this.now = next.atMs;
      next.run();
    }
    this.now = endMs;
  }

  /** SIGKILL: silent from now on. */
  kill(r: Router): void { r.alive = false; r.timers.clear(); this.history.push({ atMs: this.now, router: r.name, state: 'DEAD' }); }

  masters(): string[] { return this.routers.filter((r) => r.alive && r.machine.state === 'MASTER').map((r) => r.name); }

  /** The longest stretch with two or more live masters. */
  longestSplitMs(): number {
    const state = new Map<string, string>();
    let longest = 0;
    let since: number | undefined;
    for (const h of this.history) {
      state.set(h.router, h.state);
      const count = [...state.values()].filter((s) => s === 'MASTER').length;
      if (count >= 2 && since === undefined) since = h.atMs;
      if (count < 2 && since !== undefined) { longest = Math.max(longest, h.atMs - since); since = undefined; }
    }
    if (since !== undefined) longest = Math.max(longest, this.now - since);
    return longest;
  }
}

test('three routers start together: the highest priority wins, within Master_Down_Interval of the lowest', (t) => {
  const lan = new Lan();
  const [a, b, c] = [lan.add('a', '10.0.0.1', { priority: 100 }), lan.add('b', '10.0.0.2', { priority: 200 }), lan.add('c', '10.0.0.3', { priority: 150 })];
  for (const r of [a, b, c]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
  lan.runUntil(20_000);
  t.deepEqual(lan.masters(), ['b']);
  t.is(lan.history.find((h) => h.state === 'MASTER')?.atMs, masterDownIntervalMs(2, 200, 100), 'b is first: its skew is the shortest');
  t.is(lan.longestSplitMs(), 0);
});

test('equal priorities: the greater primary address wins; the loser yields on its first advert', (t) => {
  const lan = new Lan();
  const [a, b] = [lan.add('a', '10.0.0.9', { priority: 100 }), lan.add('b', '10.0.0.10', { priority: 100 })];
  for (const r of [a, b]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
  lan.runUntil(20_000);
  t.deepEqual(lan.masters(), ['b']);
  t.true(lan.longestSplitMs() <= 1000, `split for ${lan.longestSplitMs()} ms`);
});

test('MASTER killed: the backup takes over within Master_Down_Interval of the last advert', (t) => {
  const lan = new Lan();
  const [a, b] = [lan.add('a', '10.0.0.1', { priority: 200 }), lan.add('b', '10.0.0.2', { priority: 100 })];
  for (const r of [a, b]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
  lan.runUntil(10_500);
  t.deepEqual(lan.masters(), ['a']);
  lan.kill(a);
  lan.runUntil(20_000);
  t.deepEqual(lan.masters(), ['b']);
  const lastAdvert = Math.floor((10_500 - masterDownIntervalMs(2, 200, 100)) / 1000) * 1000 + masterDownIntervalMs(2, 200, 100);
  const takeover = lan.history.find((h) => h.router === 'b' && h.state === 'MASTER')!.atMs;
  t.is(takeover, lastAdvert + 1 + masterDownIntervalMs(2, 100, 100), 'last advert + latency + 3 × 1 s + (256 − 100)/256 s');
});

test('graceful stop: priority 0, the backup takes over after Skew_Time; the VIP is never held twice', (t) => {
  for (const version of [2, 3] as const) {
    const lan = new Lan();
    const interval = version === 2 ? 100 : 5;
    const [a, b] = [lan.add('a', '10.0.0.1', { version, priority: 200, advertIntervalCs: interval }), lan.add('b', '10.0.0.2', { version, priority: 100, advertIntervalCs: interval })];
    for (const r of [a, b]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
    lan.runUntil(9_000);
    lan.deliver(a, { type: 'shutdown' });
    const stopped = lan.now;
    lan.runUntil(12_000);
    const takeover = lan.history.find((h) => h.router === 'b' && h.state === 'MASTER')!.atMs;
    t.is(takeover - stopped, 1 + skewTimeMs(version, 100, interval), `v${version}: latency + Skew_Time`);
    t.is(lan.longestSplitMs(), 0);
  }
});

test('preemption: a higher-priority router that returns takes over after its Master_Down_Interval; split ≤ one interval', (t) => {
  for (const version of [2, 3] as const) {
    const lan = new Lan();
    const interval = version === 2 ? 100 : 5;
    const a = lan.add('a', '10.0.0.1', { version, priority: 100, advertIntervalCs: interval });
    lan.at(0, () => lan.deliver(a, { type: 'startup' }));
    lan.runUntil(5_000);
    const b = lan.add('b', '10.0.0.2', { version, priority: 200, advertIntervalCs: interval });
    lan.deliver(b, { type: 'startup' });
    lan.runUntil(15_000);
    t.deepEqual(lan.masters(), ['b'], `v${version}`);
    const took = lan.history.find((h) => h.router === 'b' && h.state === 'MASTER')!.atMs;
    t.is(took - 5_000, masterDownIntervalMs(version, 200, interval), `v${version}: lower adverts are discarded`);
    t.true(lan.longestSplitMs() <= interval * 10, `v${version}: two masters for ${lan.longestSplitMs()} ms`);
  }
});

test('nopreempt: a returning higher-priority router stays BACKUP behind a lower master', (t) => {
  const lan = new Lan();
  const a = lan.add('a', '10.0.0.1', { priority: 100 });
  lan.at(0, () => lan.deliver(a, { type: 'startup' }));
  lan.runUntil(5_000);
  const b = lan.add('b', '10.0.0.2', { priority: 200, preempt: false });
  lan.deliver(b, { type: 'startup' });
  lan.runUntil(30_000);
  t.deepEqual(lan.masters(), ['a']);
  t.is(b.machine.state, 'BACKUP');
});

/** The longest time between two adverts (priority > 0) of `router` from `sinceMs` to `untilMs`. */
function longestGapMs(lan: Lan, router: string, sinceMs: number, untilMs: number): number {
  const times = [sinceMs, ...lan.sent.filter((x) => x.router === router && x.priority > 0 && x.atMs >= sinceMs && x.atMs <= untilMs).map((x) => x.atMs), untilMs];
  return Math.max(...times.slice(1).map((at, i) => at - times[i]!));
}

test('reload in place: a MASTER lowered but still above the backup, at a new interval (v3), stays MASTER and never pauses', (t) => {
  for (const to of [20, 300]) {
    const lan = new Lan();
    const [a, b] = [lan.add('a', '10.0.0.1', { version: 3, priority: 200, advertIntervalCs: 100 }), lan.add('b', '10.0.0.2', { version: 3, priority: 100, advertIntervalCs: 100 })];
    for (const r of [a, b]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
    lan.runUntil(8_500);
    lan.deliver(a, { type: 'reconfigure', config: { ...a.machine.config, priority: 150, advertIntervalCs: to } });
    lan.runUntil(30_000);
    t.deepEqual(lan.history.filter((h) => h.atMs > 0).map((h) => `${h.router}:${h.state}`), ['a:MASTER'], `${to} cs: no transition after the election`);
    t.true(longestGapMs(lan, 'a', 5_000, 30_000) <= Math.max(1000, to * 10), `${to} cs: longest gap ${longestGapMs(lan, 'a', 5_000, 30_000)} ms`);
    t.is(lan.sent.filter((x) => x.router === 'a' && x.atMs > 8_500).every((x) => x.priority === 150), true);
    t.is(b.machine.masterAdverIntervalCs, to, 'the backup learned the new interval');
  }
});

test('reload below the backup: the backup preempts Master_Down_Interval after the last advert it honoured; the old MASTER yields', (t) => {
  const lan = new Lan();
  const [a, b] = [lan.add('a', '10.0.0.1', { priority: 200 }), lan.add('b', '10.0.0.2', { priority: 100 })];
  for (const r of [a, b]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
  lan.runUntil(8_500);
  const honoured = lan.sent.filter((x) => x.router === 'a').at(-1)!.atMs;
  lan.deliver(a, { type: 'reconfigure', config: { ...a.machine.config, priority: 50 } });
  lan.runUntil(20_000);
  const took = lan.history.find((h) => h.router === 'b' && h.state === 'MASTER')!.atMs;
  t.is(took, honoured + 1 + masterDownIntervalMs(2, 100, 100));
  t.deepEqual(lan.masters(), ['b']);
  t.is(lan.history.find((h) => h.router === 'a' && h.state === 'BACKUP' && h.atMs > 8_500)?.atMs, took + 1, 'a yields to the first higher advert');
  t.true(lan.longestSplitMs() <= 1000);
});

test('upgrade restart: hand-over, then a successor resumes within Master_Down_Interval — the backup never becomes MASTER', (t) => {
  const lan = new Lan();
  const [a, b] = [lan.add('a', '10.0.0.1', { priority: 200 }), lan.add('b', '10.0.0.2', { priority: 100 })];
  for (const r of [a, b]) lan.at(0, () => lan.deliver(r, { type: 'startup' }));
  lan.runUntil(8_500);
  lan.deliver(a, { type: 'shutdown', release: false });
  t.false(lan.sent.some((x) => x.priority === 0), 'no priority 0');
  lan.runUntil(8_500 + 3000); // the successor starts 3 s later (Master_Down_Interval 3.6 s)
  a.machine = createMachine(a.machine.config);
  lan.deliver(a, { type: 'startup', resume: 'MASTER' });
  lan.runUntil(30_000);
  t.is(b.machine.state, 'BACKUP');
  t.false(lan.history.some((h) => h.router === 'b' && h.state === 'MASTER'));
  t.true(longestGapMs(lan, 'a', 5_000, 30_000) < masterDownIntervalMs(2, 100, 100));
  // The same successor started plainly (no resume) waits as BACKUP, and the backup takes over.
  const plain = new Lan();
  const [c, d] = [plain.add('c', '10.0.0.1', { priority: 200 }), plain.add('d', '10.0.0.2', { priority: 100 })];
  for (const r of [c, d]) plain.at(0, () => plain.deliver(r, { type: 'startup' }));
  plain.runUntil(8_500);
  plain.deliver(c, { type: 'shutdown', release: false });
  plain.runUntil(8_500 + 3000);
  c.machine = createMachine(c.machine.config);
  plain.deliver(c, { type: 'startup' });
  plain.runUntil(30_000);
  t.true(plain.history.some((h) => h.router === 'd' && h.state === 'MASTER'));
});
