// layer: tests (kernel tier)
// job: HealthChecks in real time against real servers: retry timing, inhibit_on_failure weights, quorum → sorry server and back with scripts, shared probes counted at the server, overdue checks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { MemorySink } from '../../src/check/sink.js';
import type { VirtualServerSpec } from '../../src/check/spec.js';
import { recordedHealthChecks } from '../helpers/check-runner.js';
import { backends, CHECK_FIXTURES, httpServer, sleep, tcpServer } from '../helpers/check-servers.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { until } from '../helpers/until.js';

const skip = kernelTierUnavailable();
const serial = skip ? test.skip : test.serial;

/** Timer lateness a loaded 2-core machine may add to one wait, ms. */
const SLACK_MS = 350;

serial('retry and delay_before_retry: the server sees the retries delay_before_retry apart, then delay_loop; DOWN after the last', async (t) => {
  let healthy = true;
  const server = await httpServer(t, (_req, res) => { res.statusCode = healthy ? 200 : 500; res.end(); });
  const sink = new MemorySink<string>((s) => s);
  const r = recordedHealthChecks(t, { sink, jitterRatio: 0 });
  await r.hc.add({
    id: 'web', service: 'web', port: server.port, realServers: [{
      address: '127.0.0.1', weight: 10, inhibitOnFailure: true,
      checkers: [{ kind: 'HTTP_GET', urls: [{ path: '/health' }], delayLoopMs: 1500, retry: 2, delayBeforeRetryMs: 400, connectTimeoutMs: 1000 }],
    }],
  });
  await r.waitFor((e) => e.type === 'attempt', 5000, 'first attempt');
  healthy = false;
  const down = await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'down', 10_000, 'DOWN');
  await r.waitFor((e) => e.type === 'attempt' && e.at > down.at, 5000, 'an attempt after DOWN');
  const times = server.requests.map((q) => q.at);
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  t.log(`gaps between requests (ms): ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  t.is(times.length, 5, 'one success, three failures, one attempt after DOWN');
  t.true(gaps[0]! >= 1500 && gaps[0]! < 1500 + SLACK_MS, `delay_loop gap ${gaps[0]}`);
  for (const g of [gaps[1]!, gaps[2]!]) t.true(g >= 400 && g < 400 + SLACK_MS, `delay_before_retry gap ${g}`);
  t.true(gaps[3]! >= 1500 && gaps[3]! < 1500 + SLACK_MS, `delay_loop after DOWN ${gaps[3]}`);
  t.true(down.at >= times[3]!, 'DOWN only after the last retry');
  await r.hc.settled();
  t.deepEqual(sink.weights('web'), { [`127.0.0.1:${server.port}`]: 0 });
  const reason = r.hc.status().virtualServers[0]!.realServers[0]!.downReason;
  t.like(reason?.failure, { reason: 'status', status: 500 });
});

serial('inhibit_on_failure: a stopped server goes to weight 0 (kept in the pool) and back to 10 when it listens again', async (t) => {
  const servers = await backends(t, 2);
  const ports = servers.map((b) => b.port);
  const sink = new MemorySink<string>((s) => s);
  const r = recordedHealthChecks(t, { sink });
  await r.hc.add({
    id: 'web', service: 'web', realServers: ports.map((port) => ({
      address: '127.0.0.1', port, weight: 10, inhibitOnFailure: true,
      checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 500, delayLoopMs: 300, retry: 1, delayBeforeRetryMs: 100 }],
    })),
  });
  const key = `127.0.0.1:${ports[0]}`;
  t.deepEqual(sink.weights('web'), { [key]: 10, [`127.0.0.1:${ports[1]}`]: 10 });
  await servers[0]!.stop();
  const down = await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'down', 5000, 'DOWN');
  t.like(down, { rs: key, event: { type: 'down', failure: { reason: 'refused', code: 'ECONNREFUSED' } } });
  await r.hc.settled();
  t.deepEqual(sink.weights('web'), { [key]: 0, [`127.0.0.1:${ports[1]}`]: 10 });
  await servers[0]!.start();
  await r.waitFor((e) => e.type === 'real-server' && e.event.type === 'up', 5000, 'UP');
  await r.hc.settled();
  t.deepEqual(sink.weights('web'), { [key]: 10, [`127.0.0.1:${ports[1]}`]: 10 });
  t.deepEqual(sink.log.filter((l) => l.destination === key).map((l) => [l.op, l.weight]), [['add', 10], ['set-weight', 0], ['set-weight', 10]],
    'never removed: established connections keep their server');
});

serial('quorum loss switches to the sorry server and back; quorum_down / quorum_up scripts run', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-quorum-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const servers = await backends(t, 3);
  const ports = servers.map((b) => b.port);
  const sink = new MemorySink<string>((s) => s);
  const r = recordedHealthChecks(t, { sink });
  const exit = path.join(CHECK_FIXTURES, 'misc', 'exit.sh');
  const spec: VirtualServerSpec<string> = {
    id: 'web', service: 'web', quorum: 20, hysteresis: 0, sorryServer: { address: '127.0.0.9', port: 80 },
    quorumUp: [exit, '0'], quorumDown: [exit, '3'],
    realServers: ports.map((port) => ({
      address: '127.0.0.1', port, weight: 10, inhibitOnFailure: true,
      checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 500, delayLoopMs: 300, retry: 0 }],
    })),
  };
  await r.hc.add(spec);
  await servers[0]!.stop();
  await servers[1]!.stop();
  const lost = await r.waitFor((e) => e.type === 'quorum' && !e.up, 5000, 'quorum lost');
  t.like(lost, { vs: 'web', up: false, weight: 10, threshold: 20 });
  await r.hc.settled();
  t.deepEqual(sink.weights('web'), { [`127.0.0.1:${ports[0]}`]: 0, [`127.0.0.1:${ports[1]}`]: 0, [`127.0.0.1:${ports[2]}`]: 0, '127.0.0.9:80': 1 });
  const downScript = await r.waitFor((e) => e.type === 'script' && e.kind === 'quorum_down', 5000, 'quorum_down script');
  t.like(downScript, { argv: [exit, '3'], outcome: { exitCode: 3, output: 'exiting with 3\n' } });
  for (const i of [0, 1]) await servers[i]!.start();
  await r.waitFor((e) => e.type === 'quorum' && e.up, 5000, 'quorum regained');
  for (const i of [0, 1]) await r.waitFor((e) => e.type === 'real-server' && e.rs === `127.0.0.1:${ports[i]}` && e.event.type === 'up', 5000, `UP ${i}`);
  await r.hc.settled();
  t.deepEqual(sink.weights('web'), { [`127.0.0.1:${ports[0]}`]: 10, [`127.0.0.1:${ports[1]}`]: 10, [`127.0.0.1:${ports[2]}`]: 10 });
  const ops = sink.log.map((l) => `${l.op} ${l.destination}`);
  t.true(ops.indexOf('add 127.0.0.9:80') < ops.indexOf(`set-weight 127.0.0.1:${ports[2]}`), 'sorry server in before the last real server is displaced');
  t.true(ops.lastIndexOf(`set-weight 127.0.0.1:${ports[2]}`) < ops.lastIndexOf('remove 127.0.0.9:80'), 'sorry server out after the real servers it displaced are back');
  t.is(ops.filter((o) => o === 'remove 127.0.0.9:80').length, 1);
  await r.waitFor((e) => e.type === 'script' && e.kind === 'quorum_up', 5000, 'quorum_up script');
});

serial('shared probes: three virtual servers on the same real server make one connection per period, counted at the server', async (t) => {
  const server = await tcpServer(t);
  const sink = new MemorySink<string>((s) => s);
  const r = recordedHealthChecks(t, { sink });
  const vs = (id: string, connectTimeoutMs = 500): VirtualServerSpec<string> => ({
    id, service: id, realServers: [{ address: '127.0.0.1', port: server.port, weight: 10, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs, delayLoopMs: 250 }] }],
  });
  for (const id of ['a', 'b', 'c']) await r.hc.add(vs(id));
  t.is(r.hc.checks, 1);
  await sleep(1200); // a measuring window: about five delay loops of 250 ms
  const attempts = r.hc.scheduler.stats().attempts;
  await until('the server has seen every attempt\'s connection', () => server.accepted.length >= attempts, 2000);
  t.true(attempts >= 3 && attempts <= 6, `attempts ${attempts}`);
  t.is(server.accepted.length, r.hc.scheduler.stats().attempts, 'the server saw one connection per attempt, not three');
  await r.hc.add(vs('d', 400));
  t.is(r.hc.checks, 2, 'a differing parameter is its own probe');
});

serial('liveness: a check starved behind a slow one (in-flight bound 1) is reported overdue and shown in status', async (t) => {
  const server = await tcpServer(t);
  const sink = new MemorySink<string>((s) => s);
  const r = recordedHealthChecks(t, { sink, maxInFlight: 1, overdueGraceMs: 200, jitterRatio: 0 });
  await r.hc.add({
    id: 'slow', service: 'slow', realServers: [{ address: '127.0.0.2', port: 80, checkers: [{ kind: 'MISC_CHECK', argv: ['sleep', '5'], timeoutMs: 1500, delayLoopMs: 200 }] }],
  });
  await r.hc.add({
    id: 'web', service: 'web', realServers: [{ address: '127.0.0.1', port: server.port, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 300, delayLoopMs: 200 }] }],
  });
  const overdue = await r.waitFor((e) => e.type === 'overdue', 5000, 'overdue');
  t.like(overdue, { phase: 'queued' });
  const web = r.hc.status().virtualServers.find((v) => v.id === 'web')!;
  t.true(web.realServers[0]!.checkers[0]!.overdue);
  t.true(r.hc.status().scheduler.overdueNow >= 1);
  await r.waitFor((e) => e.type === 'recovered', 5000, 'recovered');
});
