// layer: tests (unit tier)
// job: HealthChecks on a fake clock with scripted probes and the memory sink: inhibit, removal, quorum and sorry server, alpha, omega, sharing, sink errors, events.
import test from 'ava';
import type { HealthCheckEvent } from '../../src/check/events.js';
import { HealthChecks } from '../../src/check/runner.js';
import { MemorySink, type DestinationSink, type SinkDestination } from '../../src/check/sink.js';
import type { RealServerSpec, VirtualServerSpec } from '../../src/check/spec.js';
import type { CheckConfig, Probe } from '../../src/check/types.js';
import { FAIL, FakeClock, OK } from '../helpers/check-clock.js';

/** Real servers by address: UP or not; probes read it and count their calls. */
class Board {
  readonly up = new Map<string, boolean>();
  readonly calls = new Map<string, number>();
  readonly probeFor = (config: CheckConfig): Probe => async () => {
    const ip = config.kind === 'MISC_CHECK' ? config.argv[1]! : config.kind === 'FILE_CHECK' ? config.path : config.connectIp;
    this.calls.set(ip, (this.calls.get(ip) ?? 0) + 1);
    return this.up.get(ip) ?? true ? OK : FAIL;
  };
}

const TIMING = { delayLoopMs: 6000, retry: 1, delayBeforeRetryMs: 1000 };
const rs = (address: string, extra: Partial<RealServerSpec> = {}): RealServerSpec => ({
  address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 1000 }], ...extra,
});
const site = (id: string, extra: Partial<VirtualServerSpec<string>> = {}): VirtualServerSpec<string> => ({
  id, service: id, port: 80, forward: 'dr', ...TIMING,
  realServers: [rs('172.16.16.37'), rs('172.16.16.38'), rs('172.16.16.39')], ...extra,
});

function setup(sink: DestinationSink<string> = new MemorySink<string>((s) => s)) {
  const clock = new FakeClock();
  const board = new Board();
  const hc = new HealthChecks<string>({ sink, clock, random: () => 0, jitterRatio: 0, timerSlackMs: 0, probeFor: board.probeFor });
  const events: HealthCheckEvent[] = [];
  const iterator = hc.events();
  void (async () => { for await (const e of iterator) events.push(e); })();
  return { clock, board, hc, sink: sink as MemorySink<string>, events };
}

test('inhibit_on_failure: a failing server goes to weight 0 after its retries and back to 10 when it recovers', async (t) => {
  const s = setup();
  await s.hc.add(site('web'));
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 10, '172.16.16.39:80': 10 });
  await s.clock.advance(10);
  s.board.up.set('172.16.16.38', false);
  await s.clock.advance(6000); // the failure at 6000
  t.is(s.sink.weights('web')['172.16.16.38:80'], 10, 'one failure is retried, not acted on');
  await s.clock.advance(1000); // the retry at 7000 fails too
  await s.hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 0, '172.16.16.39:80': 10 });
  t.deepEqual(s.sink.log.slice(3).map((l) => [l.op, l.destination, l.weight]), [['set-weight', '172.16.16.38:80', 0]]);
  s.board.up.set('172.16.16.38', true);
  await s.clock.advance(6000);
  await s.hc.settled();
  t.is(s.sink.weights('web')['172.16.16.38:80'], 10);
  const rsEvents = s.events.filter((e) => e.type === 'real-server').map((e) => e.type === 'real-server' && [e.rs, e.event.type]);
  t.deepEqual(rsEvents, [['172.16.16.38:80', 'down'], ['172.16.16.38:80', 'up']]);
  const down = s.hc.status().virtualServers[0]!.realServers[1]!;
  t.deepEqual([down.up, down.appliedWeight], [true, 10]);
  await s.hc.stop();
});

test('without inhibit_on_failure a failing server is removed and added back', async (t) => {
  const s = setup();
  await s.hc.add(site('web', { realServers: [rs('172.16.16.37', { inhibitOnFailure: false }), rs('172.16.16.38', { inhibitOnFailure: false })] }));
  s.board.up.set('172.16.16.37', false);
  await s.clock.advance(1001);
  await s.hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.38:80': 10 });
  s.board.up.set('172.16.16.37', true);
  await s.clock.advance(6000);
  await s.hc.settled();
  t.deepEqual(s.sink.log.map((l) => [l.op, l.destination]), [['add', '172.16.16.37:80'], ['add', '172.16.16.38:80'], ['remove', '172.16.16.37:80'], ['add', '172.16.16.37:80']]);
  await s.hc.stop();
});

test('quorum loss switches to the sorry server (added before the real servers go) and back, with quorum_down/up events', async (t) => {
  const s = setup();
  await s.hc.add(site('web', { quorum: 20, hysteresis: 0, sorryServer: { address: '10.9.9.9' } }));
  s.board.up.set('172.16.16.37', false);
  s.board.up.set('172.16.16.38', false);
  await s.clock.advance(1001);
  await s.hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 0, '172.16.16.38:80': 0, '172.16.16.39:80': 0, '10.9.9.9:80': 1 });
  const switchOps = s.sink.log.slice(3).map((l) => [l.op, l.destination, l.weight]);
  t.deepEqual(switchOps, [
    ['set-weight', '172.16.16.37:80', 0], // .37 down: live weight 20, quorum holds
    ['add', '10.9.9.9:80', 1], // .38 down: quorum lost; the sorry server goes in first,
    ['set-weight', '172.16.16.38:80', 0],
    ['set-weight', '172.16.16.39:80', 0], // then the UP server it displaces is inhibited
  ]);
  t.deepEqual(s.events.filter((e) => e.type === 'quorum' || e.type === 'sorry-server').map((e) => e.type === 'quorum' ? ['quorum', e.up, e.weight, e.threshold] : ['sorry', e.type === 'sorry-server' && e.active]),
    [['quorum', false, 10, 20], ['sorry', true]]);
  s.board.up.set('172.16.16.37', true);
  await s.clock.advance(6000);
  await s.hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 0, '172.16.16.39:80': 10 });
  t.deepEqual(s.sink.log.at(-1), { service: 'web', op: 'remove', destination: '10.9.9.9:80' }, 'the sorry server goes last');
  t.like(s.hc.status().virtualServers[0], { quorumUp: true, liveWeight: 20, threshold: 20, sorryActive: false });
  await s.hc.stop();
});

test('hysteresis holds quorum until the live weight falls below quorum − hysteresis', async (t) => {
  const s = setup();
  await s.hc.add(site('web', { quorum: 20, hysteresis: 10, sorryServer: { address: '10.9.9.9' } }));
  s.board.up.set('172.16.16.37', false);
  s.board.up.set('172.16.16.38', false);
  await s.clock.advance(1001);
  await s.hc.settled();
  t.true(s.hc.status().virtualServers[0]!.quorumUp, 'live 10 is not below 20 − 10');
  s.board.up.set('172.16.16.39', false);
  await s.clock.advance(7000);
  await s.hc.settled();
  t.false(s.hc.status().virtualServers[0]!.quorumUp);
  s.board.up.set('172.16.16.37', true);
  s.board.up.set('172.16.16.38', true);
  await s.clock.advance(6000);
  await s.hc.settled();
  t.false(s.hc.status().virtualServers[0]!.quorumUp, 'live 20 is below 20 + 10');
  t.is(s.hc.status().virtualServers[0]!.threshold, 30);
  await s.hc.stop();
});

test('alpha: servers start DOWN (weight 0 with inhibit, sorry server in) until the first success', async (t) => {
  const s = setup();
  await s.hc.add(site('web', { alpha: true, sorryServer: { address: '10.9.9.9' } }));
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 0, '172.16.16.38:80': 0, '172.16.16.39:80': 0, '10.9.9.9:80': 1 });
  await s.clock.advance(1);
  await s.hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 10, '172.16.16.38:80': 10, '172.16.16.39:80': 10 });
  await s.hc.stop();
});

test('omega: shutdown takes every server down (events, quorum lost) and removes every destination', async (t) => {
  const s = setup();
  await s.hc.add(site('web', { omega: true, sorryServer: { address: '10.9.9.9' }, sorryServerInhibit: true }));
  await s.hc.add(site('api', { service: 'api' }));
  await s.hc.stop();
  t.deepEqual(s.sink.weights('web'), {});
  t.deepEqual(Object.keys(s.sink.weights('api')).length, 3, 'without omega the pool is left as it is');
  t.deepEqual(s.events.filter((e) => e.type === 'real-server' || e.type === 'quorum').map((e) => [e.type, e.vs, e.type === 'quorum' ? e.up : e.type === 'real-server' && e.event.type]),
    [['real-server', 'web', 'down'], ['real-server', 'web', 'down'], ['real-server', 'web', 'down'], ['quorum', 'web', false]]);
});

test('probe sharing: three virtual servers checking the same real servers run one probe per server', async (t) => {
  const s = setup();
  for (const id of ['a', 'b', 'c']) await s.hc.add(site(id));
  t.is(s.hc.checks, 3);
  await s.clock.advance(12_001);
  t.deepEqual([...s.board.calls.values()], [3, 3, 3], 'at 0, 6000 and 12000 — once per server, not once per virtual server');
  const failed: string[] = [];
  s.hc.on('attempt-failed', (f) => failed.push(`${f.vs} ${f.rs} ${f.failure.reason} ${f.retrying ? 'retrying' : 'verdict'}`));
  s.board.up.set('172.16.16.39', false);
  await s.clock.advance(7000);
  await s.hc.settled();
  for (const id of ['a', 'b', 'c']) t.is(s.sink.weights(id)['172.16.16.39:80'], 0, `${id} sees the shared verdict`);
  t.deepEqual(failed, ['a', 'b', 'c'].map((id) => `${id} 172.16.16.39:80 ${FAIL.ok ? '' : FAIL.reason} retrying`).concat(
    ['a', 'b', 'c'].map((id) => `${id} 172.16.16.39:80 ${FAIL.ok ? '' : FAIL.reason} verdict`)), 'each failed probe once per virtual server it serves');
  await s.hc.remove('a');
  await s.hc.remove('b');
  t.is(s.hc.checks, 3, 'c still needs them');
  await s.hc.remove('c');
  t.is(s.hc.checks, 0);
  await s.hc.stop();
});

test('misc_dynamic weight reaches the sink', async (t) => {
  const s = setup();
  let code = 7;
  const hc = new HealthChecks<string>({
    sink: s.sink, clock: s.clock, random: () => 0, jitterRatio: 0, timerSlackMs: 0,
    probeFor: () => async () => ({ ok: true, weight: code - 2 }),
  });
  await hc.add(site('web', { realServers: [rs('172.16.16.37', { checkers: [{ kind: 'MISC_CHECK', argv: ['/bin/check', '172.16.16.37'], dynamic: true }] })] }));
  await s.clock.advance(1);
  await hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 5 });
  code = 2;
  await s.clock.advance(6000);
  await hc.settled();
  t.deepEqual(s.sink.weights('web'), { '172.16.16.37:80': 0 });
  await hc.stop();
  await s.hc.stop();
});

test('a sink that fails: the error is an event, and the next change (or resync) applies what is still missing', async (t) => {
  const memory = new MemorySink<string>((x) => x);
  let failures = 1;
  const flaky: DestinationSink<string> = {
    addDestination: (svc, d: SinkDestination) => memory.addDestination(svc, d),
    removeDestination: (svc, d) => memory.removeDestination(svc, d),
    setWeight: async (svc, d) => {
      if (failures-- > 0) throw Object.assign(new Error('IPVS_CMD_SET_DEST failed: ENOENT'), { errno: 2, code: 'ENOENT' });
      memory.setWeight(svc, d);
    },
  };
  const s = setup(flaky);
  await s.hc.add(site('web'));
  s.board.up.set('172.16.16.37', false);
  await s.clock.advance(1001);
  await s.hc.settled();
  const errors = s.events.filter((e) => e.type === 'sink-error');
  t.is(errors.length, 1);
  t.is(memory.weights('web')['172.16.16.37:80'], 10);
  t.is(s.hc.status().virtualServers[0]!.realServers[0]!.appliedWeight, 10, 'status shows what the kernel really has');
  await s.hc.resync('web');
  t.is(memory.weights('web')['172.16.16.37:80'], 0);
  await s.hc.stop();
});

test('present destinations are not re-added; invalid settings are refused before anything is applied', async (t) => {
  const s = setup();
  await s.hc.add(site('web'), { present: [{ address: '172.16.16.37', port: 80, weight: 10, forward: 'dr' }, { address: '172.16.16.99', port: 80, weight: 5, forward: 'dr' }] });
  t.deepEqual(s.sink.log.map((l) => [l.op, l.destination]), [['add', '172.16.16.38:80'], ['add', '172.16.16.39:80'], ['remove', '172.16.16.99:80']]);
  await t.throwsAsync(s.hc.add(site('bad', { quorum: -1 })), { message: 'virtualServer.quorum: must be an integer in 1..2147483647, not -1' });
  await t.throwsAsync(s.hc.add(site('web')), { message: 'virtual server web is already checked' });
  await s.hc.stop();
});

test('shutdown while a change is being applied: services without omega keep their pool', async (t) => {
  const memory = new MemorySink<string>((x) => x);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const slow: DestinationSink<string> = {
    addDestination: (svc, d) => memory.addDestination(svc, d),
    removeDestination: (svc, d) => memory.removeDestination(svc, d),
    setWeight: async (svc, d) => { await gate; memory.setWeight(svc, d); },
  };
  const s = setup(slow);
  await s.hc.add(site('web'));
  s.board.up.set('172.16.16.37', false);
  s.board.up.set('172.16.16.38', false);
  await s.clock.advance(1001); // both DOWN: the first cut waits at the gate, the second is pending
  const done = s.hc.stop();
  release();
  await done;
  t.deepEqual(memory.weights('web'), { '172.16.16.37:80': 0, '172.16.16.38:80': 0, '172.16.16.39:80': 10 });
});

test('startDown: an adopted real server found DOWN stays out (weight 0, no sink op) until its first success', async (t) => {
  const s = setup();
  const present = ['172.16.16.37', '172.16.16.38', '172.16.16.39'].map((a) => ({ address: a, port: 80, forward: 'dr' as const, weight: a.endsWith('38') ? 0 : 10 }));
  s.board.up.set('172.16.16.38', false);
  await s.hc.add(site('web'), { present, startDown: new Set(['172.16.16.38:80']) });
  t.deepEqual(s.sink.log, [], 'the kernel already holds what health says: nothing to do');
  t.false(s.hc.status().virtualServers[0]!.realServers[1]!.up);
  s.board.up.set('172.16.16.38', true);
  await s.clock.advance(7000);
  await s.hc.settled();
  t.deepEqual(s.sink.log.map((l) => [l.op, l.destination, l.weight]), [['set-weight', '172.16.16.38:80', 10]]);
});

test('stop({ omega: false }): a daemon stopping for a restart leaves even an omega service as it is', async (t) => {
  const s = setup();
  await s.hc.add(site('web', { omega: true }));
  const before = s.sink.log.length;
  await s.hc.stop({ omega: false });
  t.is(s.sink.log.length, before);
  t.is(Object.keys(s.sink.weights('web')).length, 3);
  t.false(s.events.some((e) => e.type === 'real-server' || e.type === 'quorum'), 'no DOWN, no quorum lost');
});

test('close() and [Symbol.asyncDispose] stop every check once: no probe after, one close event, idempotent', async (t) => {
  const s = setup();
  let closes = 0;
  s.hc.on('close', () => closes++);
  await s.hc.add(site('web'));
  await s.clock.advance(6010);
  const probed = [...s.board.calls.values()].reduce((a, b) => a + b, 0);
  t.true(probed >= 3, `probes before close: ${probed}`);
  await s.hc[Symbol.asyncDispose]();
  await s.hc.close();
  await s.clock.advance(60_000);
  t.is([...s.board.calls.values()].reduce((a, b) => a + b, 0), probed, 'no probe after close');
  t.is(closes, 1);
});
