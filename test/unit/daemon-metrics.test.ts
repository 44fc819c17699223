// layer: tests (unit)
// job: --metrics-listen's address; BalancerMetrics over a stand-in balancer (its status at each scrape, its events counted); the HTTP listener's paths on loopback.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { parseListenAddress } from '../../src/daemon/listen-address.js';
import { BalancerMetrics } from '../../src/daemon/metrics.js';
import { StatusHttpServer } from '../../src/daemon/status-http.js';
import type { BalancerEmitterEvents } from '../../src/daemon/balancer.js';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { sample } from '../helpers/prom-sample.js';

test('--metrics-listen: IPv4, bracketed IPv6, :PORT for every address; anything else refused', (t) => {
  t.deepEqual(parseListenAddress('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  t.deepEqual(parseListenAddress('[::1]:9650'), { host: '::1', port: 9650 });
  t.deepEqual(parseListenAddress(':9650'), { host: '::', port: 9650 });
  t.throws(() => parseListenAddress('9650'), { message: /not ADDR:PORT/ });
  t.throws(() => parseListenAddress('::1:9650'), { message: /not ADDR:PORT/ });
  t.throws(() => parseListenAddress('127.0.0.1:70000'), { message: /out of range/ });
});

class FakeBalancer extends EventEmitter<BalancerEmitterEvents> {
  current: BalancerStatus = {
    pid: 1, config: 'k.conf', startedAtMs: 1_000_000, reloads: 0, reloadFailures: 0, services: [],
    instances: [{ name: 'VI_1', state: 'BACKUP', priority: 100, vrid: 51, interface: 'eth0', masterAdverIntervalCs: 100, vips: ['10.0.0.1/32'],
      stats: { advertsSent: 0, advertsReceived: 7, priorityZeroSent: 0, priorityZeroReceived: 0, becameMaster: 0, releasedMaster: 0, drops: {} as never } }],
  };
  status(): Promise<BalancerStatus> { return Promise.resolve(structuredClone(this.current)); }
}

const line = (text: string, start: string): string | undefined => text.split('\n').find((l) => l.startsWith(start));

test('the state gauge is the status at scrape time; transitions, drops, reloads and check results come from events', async (t) => {
  const b = new FakeBalancer();
  const m = new BalancerMetrics(b, { processMetrics: false });
  let text = await m.metrics();
  t.is(line(text, 'lvskit_vrrp_instance_state{instance="VI_1",state="BACKUP"}'), 'lvskit_vrrp_instance_state{instance="VI_1",state="BACKUP"} 1');
  t.is(line(text, 'lvskit_vrrp_instance_state{instance="VI_1",state="MASTER"}'), 'lvskit_vrrp_instance_state{instance="VI_1",state="MASTER"} 0');
  t.is(line(text, 'process_'), undefined, 'no process metrics when asked for none');
  b.current.instances[0]!.state = 'MASTER';
  b.current.services = [{ name: 'TCP 10.0.0.1:80', present: true, realServers: [{ address: '10.0.1.1', port: 80, up: false, kernelWeight: 0, activeConns: 3, inactiveConns: 1 }] }];
  b.emit('event', { source: 'vrrp', type: 'transition', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master-down', priority: 100, atMs: 0 });
  b.emit('event', { source: 'vrrp', type: 'drop', interface: 'eth0', reason: 'auth', message: 'x' });
  b.emit('event', { source: 'daemon', type: 'reload-failed', error: new Error('bad') });
  b.emit('attempt', { key: 'k', report: { id: 'k', result: { ok: false, reason: 'refused', message: 'refused' }, dueAt: 0, startedAt: 10, endedAt: 13, attempt: 1, retrying: false, state: {} as never } });
  text = await m.metrics();
  t.is(line(text, 'lvskit_vrrp_instance_state{instance="VI_1",state="MASTER"}'), 'lvskit_vrrp_instance_state{instance="VI_1",state="MASTER"} 1');
  t.is(line(text, 'lvskit_vrrp_transitions_total{'), 'lvskit_vrrp_transitions_total{instance="VI_1",to="MASTER"} 1');
  t.is(line(text, 'lvskit_vrrp_dropped_total{'), 'lvskit_vrrp_dropped_total{interface="eth0",reason="auth"} 1');
  t.is(line(text, 'lvskit_reloads_total{outcome="failure"}'), 'lvskit_reloads_total{outcome="failure"} 1');
  t.is(line(text, 'lvskit_check_results_total{'), 'lvskit_check_results_total{result="refused"} 1');
  t.is(line(text, 'lvskit_check_duration_seconds_sum'), 'lvskit_check_duration_seconds_sum 0.003');
  t.is(line(text, 'lvskit_real_server_up{'), 'lvskit_real_server_up{service="TCP 10.0.0.1:80",real_server="10.0.1.1:80"} 0');
  t.is(line(text, 'lvskit_real_server_active_connections{'), 'lvskit_real_server_active_connections{service="TCP 10.0.0.1:80",real_server="10.0.1.1:80"} 3');
  t.is(line(text, 'lvskit_autoban_banned'), undefined, 'no autoban, no series');
  b.status = () => Promise.reject(new Error('netlink down'));
  text = await m.metrics();
  t.is(line(text, 'lvskit_vrrp_instance_state{'), undefined, 'gauges left out when status fails');
  t.is(line(text, 'lvskit_status_errors_total'), 'lvskit_status_errors_total 1');
});

const traffic = (n: number) => ({
  connections: n, packetsIn: 10 * n, packetsOut: 0, bytesIn: 1000 * n, bytesOut: 0,
  connectionsPerSec: 0, packetsInPerSec: 0, packetsOutPerSec: 0, bytesInPerSec: 0, bytesOutPerSec: 0,
});
const netlink = (sent: number, refused: number, overruns: number) => ({ sent, notifications: 0, stray: 0, malformed: 0, dumpRetries: 2, overruns, refused, timeouts: 1 });

test('IPVS counters per service and real server are the kernel\'s at scrape time; failures by service and reason; VRRP counters summed across a replacement; autoban rounds; netlink by client', async (t) => {
  const b = new FakeBalancer() as FakeBalancer & { netlinkStats(): Record<string, ReturnType<typeof netlink>> };
  let nl = { ipvs: netlink(40, 3, 1), ipset: netlink(5, 0, 0) };
  b.netlinkStats = () => nl;
  const m = new BalancerMetrics(b, { processMetrics: false });
  const rs = { address: '10.0.1.1', port: 80, up: false, kernelWeight: 0, activeConns: 0, inactiveConns: 0, traffic: traffic(7) };
  b.current.services = [{ name: 'TCP 10.0.0.1:80', present: true, traffic: traffic(9), realServers: [rs, { address: 'fd00::2', port: 80, kernelWeight: 10, traffic: traffic(2) }] }];
  b.current.autoban = { set: 'ban', source: 'sync', threshold: 100, bans: [], counters: {} as never, trackedConnections: 42 };
  b.current.instances[0]!.stats.advertsSent = 30;
  const svc = { service: 'TCP 10.0.0.1:80' };
  const failed = (reason: string) => ({ vs: 'TCP 10.0.0.1:80', rs: '10.0.1.1:80', key: 'k', failure: { ok: false as const, reason: reason as never, message: reason }, retrying: false });
  b.emit('attempt-failed', failed('refused'));
  b.emit('attempt-failed', failed('refused'));
  b.emit('attempt-failed', failed('connect-timeout'));
  b.emit('event', { source: 'autoban', type: 'round', atMs: 1000, complete: true, observations: 3, banned: ['192.0.2.1'], durationMs: 4, scanMs: 250, reportedAtMs: 999, from: 'procfs' });
  b.emit('event', { source: 'autoban', type: 'round', atMs: 2000, complete: false, observations: 1, banned: ['192.0.2.2'], durationMs: 1, reportedAtMs: 1997, from: 'sync' });
  b.emit('event', { source: 'autoban', type: 'whitelisted', address: '192.0.2.9', count: 120, range: '192.0.2.0/28' });
  let text = await m.metrics();
  t.is(sample(text, 'lvskit_ipvs_service_connections_total', svc), 9);
  t.is(sample(text, 'lvskit_ipvs_service_incoming_packets_total', svc), 90);
  t.is(sample(text, 'lvskit_ipvs_service_incoming_bytes_total', svc), 9000);
  t.is(sample(text, 'lvskit_ipvs_real_server_connections_total', { ...svc, real_server: '10.0.1.1:80' }), 7);
  t.is(sample(text, 'lvskit_ipvs_real_server_incoming_bytes_total', { ...svc, real_server: '[fd00::2]:80' }), 2000);
  t.is(sample(text, 'lvskit_ipvs_real_server_outgoing_packets_total', { ...svc, real_server: '10.0.1.1:80' }), 0);
  t.is(sample(text, 'lvskit_check_failures_total', { ...svc, real_server: '10.0.1.1:80', reason: 'refused' }), 2);
  t.is(sample(text, 'lvskit_check_failures_total', { ...svc, real_server: '10.0.1.1:80', reason: 'connect-timeout' }), 1);
  t.is(sample(text, 'lvskit_vrrp_adverts_sent_total', { instance: 'VI_1' }), 30);
  t.is(sample(text, 'lvskit_vrrp_adverts_received_total', { instance: 'VI_1' }), 7);
  t.is(sample(text, 'lvskit_autoban_candidates', { set: 'ban' }), 3, 'the last full round\'s clients over the threshold');
  t.is(sample(text, 'lvskit_autoban_tracked_connections', { set: 'ban' }), 42);
  t.is(sample(text, 'lvskit_autoban_rounds_total', { kind: 'full' }), 1);
  t.is(sample(text, 'lvskit_autoban_rounds_total', { kind: 'crossing' }), 1);
  t.is(sample(text, 'lvskit_autoban_scan_duration_seconds_sum', { source: 'procfs' }), 0.25);
  t.is(sample(text, 'lvskit_autoban_ban_latency_seconds_sum', { trigger: 'scan' }), 0.005);
  t.is(sample(text, 'lvskit_autoban_ban_latency_seconds_sum', { trigger: 'crossing' }), 0.004);
  t.is(sample(text, 'lvskit_autoban_decisions_total', { decision: 'whitelisted' }), 1);
  t.is(sample(text, 'lvskit_netlink_requests_total', { client: 'ipvs' }), 40);
  t.is(sample(text, 'lvskit_netlink_errors_total', { client: 'ipvs', kind: 'refused' }), 3);
  t.is(sample(text, 'lvskit_netlink_errors_total', { client: 'ipvs', kind: 'timeout' }), 1);
  t.is(sample(text, 'lvskit_netlink_enobufs_total', { client: 'ipvs' }), 1);
  t.is(sample(text, 'lvskit_netlink_dump_retries_total', { client: 'ipset' }), 2);

  // The kernel's counters go on; a reload replaces VI_1 (its counters restart from 0), and it sends 5 more.
  rs.traffic = traffic(8);
  b.current.instances[0]!.stats.advertsSent = 50;
  await m.metrics();
  b.emit('event', { source: 'vrrp', type: 'reconfigure', atMs: 0, added: [], removed: [], replaced: [{ name: 'VI_1', fields: ['vrid'] }], changed: [], unchanged: [] });
  b.current.instances[0]!.stats.advertsSent = 60; // the new instance: more than the old one had, yet all of it new
  nl = { ipvs: netlink(41, 3, 1), ipset: netlink(5, 0, 0) };
  text = await m.metrics();
  t.is(sample(text, 'lvskit_ipvs_real_server_connections_total', { ...svc, real_server: '10.0.1.1:80' }), 8);
  t.is(sample(text, 'lvskit_vrrp_adverts_sent_total', { instance: 'VI_1' }), 110, '50 by the old instance, then 60 by the new one');
  t.is(sample(text, 'lvskit_netlink_requests_total', { client: 'ipvs' }), 41);
  b.current.instances[0]!.stats.advertsSent = 2; // lower than seen: another new instance, counted from 0 even without an event
  text = await m.metrics();
  t.is(sample(text, 'lvskit_vrrp_adverts_sent_total', { instance: 'VI_1' }), 112);
  b.current.services = [];
  text = await m.metrics();
  t.is(sample(text, 'lvskit_ipvs_real_server_connections_total', { ...svc, real_server: '10.0.1.1:80' }), undefined, 'a service gone from the kernel leaves the scrape');
});

test('the listener: 503 before attach, then the page, /status.json with recent events, /metrics, 404 and 405', async (t) => {
  const http = await StatusHttpServer.open({ host: '127.0.0.1', port: 0 });
  t.teardown(() => http.close());
  const base = `http://127.0.0.1:${http.address.port}`;
  t.is((await fetch(`${base}/metrics`)).status, 503);
  const b = new FakeBalancer();
  http.attach(b, new BalancerMetrics(b, { processMetrics: false }));
  b.emit('event', { source: 'vrrp', type: 'transition', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master-down', priority: 100, atMs: 0 });
  const page = await fetch(`${base}/`);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(await page.text(), /new EventSource\("events"\)/);
  const doc = await (await fetch(`${base}/status.json`)).json() as { status: BalancerStatus; events: { message: string }[] };
  t.is(doc.status.instances[0]!.state, 'BACKUP');
  t.deepEqual(doc.events.map((e) => e.message), ['VI_1: BACKUP → MASTER (master-down, priority 100)']);
  const metrics = await fetch(`${base}/metrics`);
  t.regex(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  t.regex(await metrics.text(), /^lvskit_vrrp_instance_state\{instance="VI_1",state="BACKUP"\} 1$/m);
  t.is((await fetch(`${base}/other`)).status, 404);
  t.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
});

/** The `status` messages of an open /events stream, as they arrive. */
async function eventStream(url: string, signal: AbortSignal): Promise<{ next(): Promise<{ event: string; id: number; data: { nowMs: number; status: BalancerStatus } }> }> {
  const res = await fetch(url, { signal });
  if (res.headers.get('content-type') !== 'text/event-stream; charset=utf-8') throw new Error(`content-type ${res.headers.get('content-type')}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async next() {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (fields.event === undefined) continue; // the retry: line
          return { event: fields.event, id: Number(fields.id), data: JSON.parse(fields.data ?? 'null') };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffered += value;
      }
    },
  };
}

test('/events: the status at once, again on each balancer event (well before the next second), and every second without events; a failed read is status-error', async (t) => {
  const http = await StatusHttpServer.open({ host: '127.0.0.1', port: 0 });
  t.teardown(() => http.close());
  const b = new FakeBalancer();
  http.attach(b, new BalancerMetrics(b, { processMetrics: false }));
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const stream = await eventStream(`http://127.0.0.1:${http.address.port}/events`, abort.signal);
  const first = await stream.next();
  t.is(first.event, 'status');
  t.is(first.data.status.instances[0]!.state, 'BACKUP');
  b.current.instances[0]!.state = 'MASTER';
  const before = performance.now();
  b.emit('event', { source: 'vrrp', type: 'transition', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master-down', priority: 100, atMs: 0 });
  let pushed = await stream.next();
  while (pushed.data.status.instances[0]!.state !== 'MASTER') pushed = await stream.next();
  const lagMs = performance.now() - before;
  t.true(lagMs < 300, `pushed ${Math.round(lagMs)} ms after the event`);
  t.true(pushed.id > first.id);
  const tick = performance.now();
  const quiet = await stream.next();
  const tickMs = performance.now() - tick;
  t.is(quiet.event, 'status');
  t.true(tickMs > 200 && tickMs < 1500, `without events, the next push came ${Math.round(tickMs)} ms later`);
  b.status = () => Promise.reject(new Error('netlink down'));
  b.emit('event', { source: 'daemon', type: 'error', message: 'x' });
  let failed = await stream.next();
  while (failed.event === 'status') failed = await stream.next();
  t.is(failed.event, 'status-error');
  t.deepEqual(failed.data as unknown, { message: 'netlink down' });
});
