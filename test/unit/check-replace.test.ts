// layer: tests (unit tier)
// job: HealthChecks.replace() and reconcile() on a fake clock with scripted probes and the memory sink: state kept across a reload, only the difference applied, drift repaired.
import test from 'ava';
import type { HealthCheckEvent } from '../../src/check/events.js';
import { HealthChecks } from '../../src/check/runner.js';
import { MemorySink, type SinkDestination } from '../../src/check/sink.js';
import type { RealServerSpec, VirtualServerSpec } from '../../src/check/spec.js';
import type { CheckConfig, Probe } from '../../src/check/types.js';
import { CheckConfigError } from '../../src/check/validate.js';
import { FAIL, FakeClock, OK } from '../helpers/check-clock.js';

/** Real servers by address: UP or not (default UP); every probe call is recorded with its time and connect timeout. */
class Board {
  readonly up = new Map<string, boolean>();
  readonly calls: { ip: string; at: number; connectTimeoutMs?: number }[] = [];
  constructor(private readonly clock: FakeClock) {}
  readonly probeFor = (config: CheckConfig): Probe => async () => {
    const ip = config.kind === 'MISC_CHECK' ? config.argv[1]! : config.kind === 'FILE_CHECK' ? config.path : config.connectIp;
    this.calls.push({ ip, at: this.clock.now(), ...(config.kind === 'MISC_CHECK' || config.kind === 'FILE_CHECK' ? {} : { connectTimeoutMs: config.connectTimeoutMs }) });
    return this.up.get(ip) ?? true ? OK : FAIL;
  };

  /** When `ip` was probed. */
  times(ip: string): number[] {
    return this.calls.filter((c) => c.ip === ip).map((c) => c.at);
  }
}

const TIMING = { delayLoopMs: 6000, retry: 1, delayBeforeRetryMs: 1000 };
const rs = (address: string, extra: Partial<RealServerSpec> = {}): RealServerSpec => ({
  address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 1000 }], ...extra,
});
const THREE = ['172.16.16.37', '172.16.16.38', '172.16.16.39'];
const site = (extra: Partial<VirtualServerSpec<string>> = {}): VirtualServerSpec<string> => ({
  id: 'web', service: 'web', port: 80, forward: 'dr', ...TIMING, realServers: THREE.map((a) => rs(a)), ...extra,
});
/** The three real servers, with `changes` made to the ones named. */
const servers = (changes: Record<string, Partial<RealServerSpec>>): RealServerSpec[] => THREE.map((a) => rs(a, changes[a]));

async function setup(spec = site()) {
  const clock = new FakeClock();
  const board = new Board(clock);
  const sink = new MemorySink<string>((s) => s);
  const hc = new HealthChecks<string>({ sink, clock, random: () => 0, jitterRatio: 0, timerSlackMs: 0, probeFor: board.probeFor });
  const events: HealthCheckEvent[] = [];
  void (async () => { for await (const e of hc.events()) events.push(e); })();
  await hc.add(spec);
  await clock.advance(1);
  /** Events and sink operations from now on. */
  const mark = () => {
    const e = events.length;
    const l = sink.log.length;
    return { events: () => events.slice(e), ops: () => sink.log.slice(l).map((o) => [o.op, o.destination, ...(o.weight !== undefined ? [o.weight] : [])]) };
  };
  return { clock, board, sink, hc, events, mark };
}

/** Event types and their gist, for comparing sequences. */
function gist(events: HealthCheckEvent[]): unknown[] {
  return events.filter((e) => e.type !== 'attempt').map((e) => {
    if (e.type === 'real-server') return [e.type, e.rs, e.event.type, ...(e.event.type === 'weight' ? [e.event.weight] : [])];
    if (e.type === 'quorum') return [e.type, e.up, e.weight, e.threshold];
    if (e.type === 'sorry-server') return [e.type, e.active, e.destination];
    if (e.type === 'applied') return [e.type, e.op.op, e.op.destination.address];
    if (e.type === 'replaced') return [e.type, e.added, e.removed, e.changed, e.policyChanged];
    return [e.type];
  });
}

/** Fail 172.16.16.38 until it is DOWN (weight 0 with inhibit_on_failure): the failure at 6000, the last retry at 7000. */
async function downOn38(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  s.board.up.set('172.16.16.38', false);
  await s.clock.advance(7000);
  await s.hc.settled();
}

test('replace with unchanged settings does nothing: no sink operation, no event, the probes keep their schedule', async (t) => {
  const s = await setup();
  await s.clock.advance(2999);
  const m = s.mark();
  const r = await s.hc.replace(site({ realServers: [...THREE].reverse().map((a) => rs(a)) }));
  t.like(r, { unchanged: true, added: [], removed: [], changed: [], ops: [], failures: [] });
  await s.clock.advance(9000);
  await s.hc.settled();
  t.deepEqual(m.events().filter((e) => e.type !== 'attempt'), []);
  t.deepEqual(m.ops(), []);
  for (const ip of THREE) t.deepEqual(s.board.times(ip), [0, 6000, 12000], ip);
  t.deepEqual(s.hc.status().virtualServers[0]!.realServers.map((x) => x.id), THREE.map((a) => `${a}:80`), 'the running order stays');
  await s.hc.stop();
});

test('a changed weight is exactly one set-weight; the probes keep their schedule', async (t) => {
  const s = await setup();
  await s.clock.advance(2999);
  const m = s.mark();
  const r = await s.hc.replace(site({ realServers: servers({ '172.16.16.37': { weight: 20 } }) }));
  t.like(r, { unchanged: false, added: [], removed: [], changed: ['172.16.16.37:80'], policyChanged: false, checkers: { kept: 3, started: 0, stopped: 0 } });
  t.deepEqual(r.ops.map((o) => [o.op, o.destination.address, o.destination.weight]), [['set-weight', '172.16.16.37', 20]]);
  t.deepEqual(m.ops(), [['set-weight', '172.16.16.37:80', 20]]);
  t.deepEqual(gist(m.events()), [
    ['replaced', [], [], ['172.16.16.37:80'], false], ['real-server', '172.16.16.37:80', 'weight', 20], ['applied', 'set-weight', '172.16.16.37'],
  ]);
  await s.clock.advance(9000);
  for (const ip of THREE) t.deepEqual(s.board.times(ip), [0, 6000, 12000], `${ip}: its check was never stopped and started again`);
  t.is(s.hc.checks, 3);
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 20, '172.16.16.38:80': 10, '172.16.16.39:80': 10 });
  await s.hc.stop();
});

test('a DOWN real server (inhibited, weight 0) stays DOWN across a replace that changes another one\'s weight', async (t) => {
  const s = await setup();
  await downOn38(s);
  t.is(s.sink.weights('web')['172.16.16.38:80'], 0);
  const m = s.mark();
  await s.hc.replace(site({ realServers: servers({ '172.16.16.39': { weight: 5 } }) }));
  t.deepEqual(m.ops(), [['set-weight', '172.16.16.39:80', 5]], 'no return to the initial UP for .38');
  const down = s.hc.status().virtualServers[0]!.realServers[1]!;
  t.like(down, { up: false, appliedWeight: 0 });
  t.deepEqual(down.downReason, { checker: down.checkers[0]!.key, failure: FAIL }, 'the reason stays too');
  await s.clock.advance(12_000); // still failing: tried every delay_loop, no retry, no flap
  await s.hc.settled();
  t.deepEqual(m.ops(), [['set-weight', '172.16.16.39:80', 5]]);
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] === 'real-server'), [['real-server', '172.16.16.39:80', 'weight', 5]]);
  s.board.up.set('172.16.16.38', true);
  await s.clock.advance(6000);
  await s.hc.settled();
  t.is(s.sink.weights('web')['172.16.16.38:80'], 10, 'back when its check passes');
  await s.hc.stop();
});

test('a changed connect_timeout restarts only that real server\'s checker', async (t) => {
  const s = await setup();
  await s.clock.advance(2999);
  const oldKey = s.hc.status().virtualServers[0]!.realServers[0]!.checkers[0]!.key;
  const m = s.mark();
  const r = await s.hc.replace(site({ realServers: servers({ '172.16.16.37': { checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 2000 }] } }) }));
  t.like(r, { changed: ['172.16.16.37:80'], checkers: { kept: 2, started: 1, stopped: 1 }, ops: [] });
  await s.clock.advance(9000);
  t.is(s.hc.checks, 3);
  t.is(s.hc.scheduler.status(oldKey), undefined, 'the old check is gone');
  t.deepEqual(s.board.calls.filter((c) => c.ip === '172.16.16.37').map((c) => [c.at, c.connectTimeoutMs]), [[0, 1000], [3000, 2000], [9000, 2000]]);
  for (const ip of THREE.slice(1)) t.deepEqual(s.board.times(ip), [0, 6000, 12000], ip);
  t.deepEqual(gist(m.events()), [['replaced', [], [], ['172.16.16.37:80'], false]]);
  t.deepEqual(m.ops(), []);
  await s.hc.stop();
});

test('a DOWN real server whose checker changed starts it afresh: UP without alpha (as add), DOWN until a success with alpha', async (t) => {
  const s = await setup();
  await downOn38(s);
  const changed = { '172.16.16.38': { checkers: [{ kind: 'TCP_CHECK' as const, connectTimeoutMs: 2000 }], alpha: true } };
  let m = s.mark();
  await s.hc.replace(site({ realServers: servers(changed) }));
  t.deepEqual(m.ops(), [], 'alpha: still DOWN');
  s.board.up.set('172.16.16.38', true);
  await s.clock.advance(1);
  await s.hc.settled();
  t.deepEqual(m.ops(), [['set-weight', '172.16.16.38:80', 10]], 'UP on its first success');
  s.board.up.set('172.16.16.38', false);
  await s.clock.advance(7000);
  await s.hc.settled();
  m = s.mark();
  await s.hc.replace(site({ realServers: servers({ '172.16.16.38': { checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 3000 }] } }) }));
  t.deepEqual(m.ops(), [['set-weight', '172.16.16.38:80', 10]], 'without alpha a new checker starts UP');
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] === 'real-server'), [['real-server', '172.16.16.38:80', 'up']]);
  await s.hc.stop();
});

test('an added real server starts as add() starts it (alpha: weight 0 until its first success); a removed one is removed', async (t) => {
  const s = await setup();
  await s.clock.advance(2999);
  const m = s.mark();
  const r = await s.hc.replace(site({ realServers: [rs('172.16.16.37'), rs('172.16.16.38'), rs('172.16.16.40', { alpha: true })] }));
  t.like(r, { added: ['172.16.16.40:80'], removed: ['172.16.16.39:80'], changed: [], checkers: { kept: 2, started: 1, stopped: 1 } });
  t.deepEqual(m.ops(), [['add', '172.16.16.40:80', 0], ['remove', '172.16.16.39:80']]);
  t.is(s.hc.checks, 3);
  await s.clock.advance(1);
  await s.hc.settled();
  t.deepEqual(m.ops().slice(2), [['set-weight', '172.16.16.40:80', 10]]);
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 10, '172.16.16.40:80': 10 });
  await s.clock.advance(9000);
  t.deepEqual(s.board.times('172.16.16.39'), [0], 'the removed server is no longer probed');
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] !== 'applied'), [
    ['replaced', ['172.16.16.40:80'], ['172.16.16.39:80'], [], false], ['real-server', '172.16.16.40:80', 'up'],
  ]);
  await s.hc.stop();
});

test('quorum and the sorry server are evaluated again under the new policy', async (t) => {
  const s = await setup(site({ quorum: 20, sorryServer: { address: '10.9.9.9' } }));
  let m = s.mark();
  await s.hc.replace(site({ quorum: 40, sorryServer: { address: '10.9.9.9' } }));
  t.deepEqual(m.ops(), [['add', '10.9.9.9:80', 1], ['set-weight', '172.16.16.37:80', 0], ['set-weight', '172.16.16.38:80', 0], ['set-weight', '172.16.16.39:80', 0]]);
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] !== 'applied'), [
    ['replaced', [], [], [], true], ['quorum', false, 30, 40], ['sorry-server', true, '10.9.9.9:80'],
  ]);
  m = s.mark();
  await s.hc.replace(site({ quorum: 40, sorryServer: { address: '10.9.9.8', weight: 2 } }));
  t.deepEqual(m.ops(), [['add', '10.9.9.8:80', 2], ['remove', '10.9.9.9:80']], 'moved while active: the new one in first');
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] === 'sorry-server'), [['sorry-server', false, '10.9.9.9:80'], ['sorry-server', true, '10.9.9.8:80']]);
  m = s.mark();
  await s.hc.replace(site({ quorum: 40, hysteresis: 10, sorryServer: { address: '10.9.9.8', weight: 2 } }));
  t.deepEqual(m.ops(), [], '30 is not quorum + hysteresis: still lost');
  m = s.mark();
  await s.hc.replace(site({ quorum: 30, sorryServer: { address: '10.9.9.8', weight: 2 } }));
  t.deepEqual(m.ops(), [['set-weight', '172.16.16.37:80', 10], ['set-weight', '172.16.16.38:80', 10], ['set-weight', '172.16.16.39:80', 10], ['remove', '10.9.9.8:80']]);
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] === 'quorum' || (e as string[])[0] === 'sorry-server'),
    [['quorum', true, 30, 30], ['sorry-server', false, '10.9.9.8:80']]);
  t.like(s.hc.status().virtualServers[0], { quorumUp: true, liveWeight: 30, threshold: 30, sorryActive: false });
  await s.hc.stop();
});

test('misc_dynamic: the weight the script set survives a replace that changes the configured weight', async (t) => {
  const misc = (address: string, weight: number): RealServerSpec => rs(address, { weight, checkers: [{ kind: 'MISC_CHECK', argv: ['/bin/check', address], dynamic: true }] });
  const clock = new FakeClock();
  const sink = new MemorySink<string>((x) => x);
  const hc = new HealthChecks<string>({ sink, clock, random: () => 0, jitterRatio: 0, timerSlackMs: 0, probeFor: () => async () => ({ ok: true, weight: 5 }) });
  await hc.add(site({ realServers: [misc('172.16.16.37', 10)] }));
  await clock.advance(1);
  await hc.settled();
  t.deepEqual(sink.weights('web'), { '172.16.16.37:80': 5 });
  const r = await hc.replace(site({ realServers: [misc('172.16.16.37', 20)] }));
  t.deepEqual(r.ops, [], 'the dynamic weight still decides');
  t.like(hc.status().virtualServers[0]!.realServers[0], { weight: 5, appliedWeight: 5 });
  await hc.stop();
});

test('a checker shared with another virtual server keeps running for it when one of them changes it', async (t) => {
  const s = await setup();
  await s.hc.add(site({ id: 'api', service: 'api' }));
  t.is(s.hc.checks, 3);
  await s.clock.advance(2999);
  await s.hc.replace(site({ realServers: servers({ '172.16.16.37': { checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 2000 }] } }) }));
  t.is(s.hc.checks, 4, 'api still needs the old one');
  await s.clock.advance(3000);
  t.deepEqual(s.board.calls.filter((c) => c.ip === '172.16.16.37').map((c) => [c.at, c.connectTimeoutMs]), [[0, 1000], [3000, 2000], [6000, 1000]]);
  await s.hc.replace(site({ id: 'api', service: 'api', realServers: servers({ '172.16.16.37': { checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 2000 }] } }) }));
  t.is(s.hc.checks, 3, 'now both share the new one');
  await s.hc.stop();
});

test('invalid settings, another service or an unknown id are refused and change nothing', async (t) => {
  const s = await setup();
  await downOn38(s);
  const before = s.hc.status();
  const m = s.mark();
  const bad = site({ realServers: servers({ '172.16.16.37': { weight: 20 }, '172.16.16.39': { weight: -1 } }) });
  const error = await t.throwsAsync(s.hc.replace(bad), { instanceOf: CheckConfigError });
  t.is(error?.field, 'virtualServer.realServers[2].weight');
  const moved = await t.throwsAsync(s.hc.replace(site({ service: 'other', realServers: servers({ '172.16.16.37': { weight: 20 } }) })), { instanceOf: CheckConfigError });
  t.is(moved?.field, 'virtualServer.service');
  await t.throwsAsync(s.hc.replace(site({ id: 'nope' })), { message: 'virtual server nope is not checked (add() it first)' });
  await t.throwsAsync(s.hc.reconcile('nope', []), { message: 'virtual server nope is not checked (add() it first)' });
  await s.hc.settled();
  t.deepEqual(m.ops(), []);
  t.deepEqual(m.events().filter((e) => e.type !== 'attempt'), []);
  t.deepEqual(s.hc.status(), before);
  await s.hc.stop();
  await t.throwsAsync(s.hc.replace(site()), { message: 'health checks are shut down' });
});

/** The memory sink's table of `web`, edited behind the health checks' back (as `ipvsadm` would). */
function table(s: Awaited<ReturnType<typeof setup>>): Map<string, SinkDestination> {
  return s.sink.tables.get('web')!;
}

test('reconcile repairs a deleted destination, a changed weight and an extra one, with only the operations needed', async (t) => {
  const s = await setup();
  await downOn38(s);
  const kernel = table(s);
  kernel.delete('172.16.16.37:80');
  kernel.set('172.16.16.38:80', { ...kernel.get('172.16.16.38:80')!, weight: 10 });
  kernel.set('172.16.16.99:80', { address: '172.16.16.99', port: 80, weight: 5, forward: 'dr' });
  const m = s.mark();
  const r = await s.hc.reconcile('web', [...kernel.values()]);
  t.deepEqual(r.ops.map((o) => [o.op, o.destination.address, o.destination.weight]), [
    ['add', '172.16.16.37', 10], ['set-weight', '172.16.16.38', 0], ['remove', '172.16.16.99', 5],
  ]);
  t.deepEqual(m.ops(), [['add', '172.16.16.37:80', 10], ['set-weight', '172.16.16.38:80', 0], ['remove', '172.16.16.99:80']]);
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 0, '172.16.16.39:80': 10 });
  t.like(await s.hc.reconcile('web', [...table(s).values()]), { ops: [], failures: [] }, 'nothing to repair: nothing done');
  t.deepEqual(gist(m.events()).filter((e) => (e as string[])[0] !== 'applied'), [], 'health is untouched');
  await s.hc.stop();
});

test('replace with present: a service re-created empty gets its whole pool back in one pass, at the new weight', async (t) => {
  const s = await setup();
  await downOn38(s);
  table(s).clear();
  const m = s.mark();
  const r = await s.hc.replace(site({ realServers: servers({ '172.16.16.37': { weight: 20 } }) }), { present: [] });
  t.deepEqual(m.ops(), [['add', '172.16.16.37:80', 20], ['add', '172.16.16.38:80', 0], ['add', '172.16.16.39:80', 10]]);
  t.is(r.ops.length, 3);
  const again = await s.hc.replace(site({ realServers: servers({ '172.16.16.37': { weight: 20 } }) }), { present: [...table(s).values()] });
  t.like(again, { unchanged: true, ops: [] });
  await s.hc.stop();
});

test('a refused operation during replace is in the result and the next reconcile applies it', async (t) => {
  const memory = new MemorySink<string>((x) => x);
  let refuse = true;
  const clock = new FakeClock();
  const board = new Board(clock);
  const hc = new HealthChecks<string>({
    sink: {
      addDestination: (svc, d) => memory.addDestination(svc, d), removeDestination: (svc, d) => memory.removeDestination(svc, d),
      setWeight: (svc, d) => { if (refuse) throw Object.assign(new Error('IPVS_CMD_SET_DEST: ESRCH'), { code: 'ESRCH' }); memory.setWeight(svc, d); },
    },
    clock, random: () => 0, jitterRatio: 0, timerSlackMs: 0, probeFor: board.probeFor,
  });
  await hc.add(site());
  const r = await hc.replace(site({ realServers: servers({ '172.16.16.37': { weight: 20 } }) }));
  t.deepEqual([r.ops, r.failures.map((f) => [f.op.op, f.op.destination.address, (f.error as Error).message])], [[], [['set-weight', '172.16.16.37', 'IPVS_CMD_SET_DEST: ESRCH']]]);
  refuse = false;
  const again = await hc.reconcile('web', [...memory.tables.get('web')!.values()]);
  t.deepEqual(again.ops.map((o) => [o.op, o.destination.address, o.destination.weight]), [['set-weight', '172.16.16.37', 20]]);
  await hc.stop();
});

test('reconcile while a change is being applied: the pool ends as health says', async (t) => {
  const memory = new MemorySink<string>((x) => x);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const clock = new FakeClock();
  const board = new Board(clock);
  const hc = new HealthChecks<string>({
    sink: {
      addDestination: (svc, d) => memory.addDestination(svc, d), removeDestination: (svc, d) => memory.removeDestination(svc, d),
      setWeight: async (svc, d) => { await gate; memory.setWeight(svc, d); },
    },
    clock, random: () => 0, jitterRatio: 0, timerSlackMs: 0, probeFor: board.probeFor,
  });
  await hc.add(site());
  board.up.set('172.16.16.38', false);
  await clock.advance(1001); // .38 DOWN: its cut waits at the gate
  const dump = [...memory.tables.get('web')!.values()].filter((d) => d.address !== '172.16.16.39'); // .39 deleted behind our back
  memory.tables.get('web')!.delete('172.16.16.39:80');
  const done = hc.reconcile('web', dump);
  release();
  await done;
  await hc.settled();
  t.deepEqual(memory.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 0, '172.16.16.39:80': 10 });
  await hc.stop();
});
