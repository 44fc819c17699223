// layer: tests (unit)
// job: --metrics-listen's address; BalancerMetrics over a stand-in balancer (its status at each scrape, its events counted); the HTTP listener's paths on loopback.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { parseListenAddress } from '../../src/daemon/listen-address.js';
import { BalancerMetrics } from '../../src/daemon/metrics.js';
import { StatusHttpServer } from '../../src/daemon/status-http.js';
import type { BalancerEmitterEvents } from '../../src/daemon/balancer.js';
import type { BalancerStatus } from '../../src/daemon/events.js';

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

test('the listener: 503 before attach, then the page, /status.json with recent events, /metrics, 404 and 405', async (t) => {
  const http = await StatusHttpServer.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => http.close());
  const base = `http://127.0.0.1:${http.address.port}`;
  t.is((await fetch(`${base}/metrics`)).status, 503);
  const b = new FakeBalancer();
  http.attach(b, new BalancerMetrics(b, { processMetrics: false }));
  b.emit('event', { source: 'vrrp', type: 'transition', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master-down', priority: 100, atMs: 0 });
  const page = await fetch(`${base}/`);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(await page.text(), /fetch\("status\.json"/);
  const doc = await (await fetch(`${base}/status.json`)).json() as { status: BalancerStatus; events: { message: string }[] };
  t.is(doc.status.instances[0]!.state, 'BACKUP');
  t.deepEqual(doc.events.map((e) => e.message), ['VI_1: BACKUP → MASTER (master-down, priority 100)']);
  const metrics = await fetch(`${base}/metrics`);
  t.regex(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  t.regex(await metrics.text(), /^lvskit_vrrp_instance_state\{instance="VI_1",state="BACKUP"\} 1$/m);
  t.is((await fetch(`${base}/other`)).status, 404);
  t.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
});
