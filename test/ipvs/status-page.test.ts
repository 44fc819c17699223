// layer: tests (IPVS tier)
// job: `lvskit run --metrics-listen` with a NAT service whose real servers listen in another namespace: the status page in Debian's chromium (playwright-core) shows a killed real server DOWN within a second of the daemon's event, without a reload; /metrics then agrees with `lvskit status --json` (health, weight 0 by inhibit_on_failure, the kernel's counters) and carries every family. Takes docs/status-page.png.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { createNetns, createVethPair, type Netns } from '../helpers/netns.js';
import { sample } from '../helpers/prom-sample.js';

const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
if (!CHROMIUM) console.warn('SKIPPING the status page test (ipvs tier): no chromium (apt-get install chromium)');
const btest = !CHROMIUM && process.env.CI !== 'true' ? test.serial.skip : test.serial;

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LISTEN = '127.0.0.1:9651';
const VIP = '10.88.0.100';
const RS = ['10.88.0.11', '10.88.0.12'];
const SERVICE = `TCP ${VIP}:18080`;

const CONF = `vrrp_instance VI_1 {
  state MASTER
  interface veth0
  virtual_router_id 61
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${VIP}/32 dev veth0 label veth0:1
  }
}
virtual_server ${VIP} 18080 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${RS.map((a) => `  real_server ${a} 18080 {\n    weight 10\n    inhibit_on_failure\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }\n`).join('')}}
`;

/** A TCP server on ADDRESS:18080 in `ns` (its own process: killing it is the real server's failure) that answers `hello` and closes. */
async function realServer(t: ExecutionContext, ns: Netns, address: string): Promise<{ kill(): void }> {
  // A check connects and resets: the socket's error is expected, not the server's end.
  const script = `require('net').createServer((s) => { s.on('error', () => {}); s.end('hello\\n'); }).listen(18080, ${JSON.stringify(address)}, () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`real server ${address} exited (${code})`)));
  });
  return { kill: () => child.kill('SIGKILL') };
}

/** Run `script` with node inside `ns` and parse what it prints as JSON. */
async function nodeIn<T>(ns: Netns, script: string): Promise<T> {
  return JSON.parse(await ns.exec([process.execPath, '-e', script])) as T;
}

/** `n` connections to the VIP from the balancer's namespace (IPVS NATs locally sent requests): what each read. */
const throughVip = (ns: Netns, n: number): Promise<string[]> => nodeIn(ns, `
  const net = require('net');
  const one = () => new Promise((resolve) => { let got = ''; const s = net.connect(18080, ${JSON.stringify(VIP)});
    s.setTimeout(3000, () => s.destroy()); s.on('data', (d) => { got += d; }); s.on('close', () => resolve(got.trim())); s.on('error', () => {}); });
  (async () => { const out = []; for (let i = 0; i < ${n}; i++) out.push(await one()); process.stdout.write(JSON.stringify(out)); })();`);

const scrape = (ns: Netns): Promise<string> => nodeIn<{ body: string }>(ns,
  `fetch('http://${LISTEN}/metrics').then(async (r) => process.stdout.write(JSON.stringify({ body: await r.text() })))`).then((r) => r.body);


/** Every family lvskit publishes (prom-client's process metrics aside). */
const FAMILIES = [
  'lvskit_start_time_seconds', 'lvskit_vrrp_instance_state', 'lvskit_vrrp_instance_priority', 'lvskit_vrrp_instance_vips',
  'lvskit_vrrp_adverts_sent_total', 'lvskit_vrrp_adverts_received_total', 'lvskit_vrrp_priority_zero_sent_total', 'lvskit_vrrp_priority_zero_received_total',
  'lvskit_vrrp_became_master_total', 'lvskit_vrrp_released_master_total', 'lvskit_vrrp_transitions_total', 'lvskit_vrrp_dropped_total',
  'lvskit_service_present', 'lvskit_service_quorum_up', 'lvskit_real_server_up', 'lvskit_real_server_weight',
  'lvskit_real_server_active_connections', 'lvskit_real_server_inactive_connections',
  'lvskit_ipvs_service_connections_total', 'lvskit_ipvs_service_incoming_packets_total', 'lvskit_ipvs_service_outgoing_packets_total',
  'lvskit_ipvs_service_incoming_bytes_total', 'lvskit_ipvs_service_outgoing_bytes_total',
  'lvskit_ipvs_real_server_connections_total', 'lvskit_ipvs_real_server_incoming_packets_total', 'lvskit_ipvs_real_server_outgoing_packets_total',
  'lvskit_ipvs_real_server_incoming_bytes_total', 'lvskit_ipvs_real_server_outgoing_bytes_total',
  'lvskit_check_results_total', 'lvskit_check_failures_total', 'lvskit_check_duration_seconds', 'lvskit_checks_overdue_total',
  'lvskit_reloads_total', 'lvskit_reloads_coalesced_total', 'lvskit_ipvs_drift_repairs_total', 'lvskit_reload_last_duration_seconds',
  'lvskit_autoban_bans_total', 'lvskit_autoban_decisions_total', 'lvskit_autoban_rounds_total', 'lvskit_autoban_errors_total',
  'lvskit_autoban_scan_duration_seconds', 'lvskit_autoban_ban_latency_seconds', 'lvskit_autoban_banned', 'lvskit_autoban_tracked_connections',
  'lvskit_autoban_candidates', 'lvskit_netlink_requests_total', 'lvskit_netlink_errors_total', 'lvskit_netlink_enobufs_total',
  'lvskit_netlink_dump_retries_total', 'lvskit_status_errors_total',
];

/** chromium inside `ns` (playwright drives it over a pipe), without the sanitizer run's preloaded ASan runtime. */
function chromiumIn(t: ExecutionContext, ns: Netns): string {
  const dir = mkdtempSync('/var/tmp/lvskit-chromium-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nunset LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS\nexec ip netns exec ${ns.name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

const rsRow = (address: string): string => `[data-service="${SERVICE}"] [data-real-server="${address}:18080"]`;
const rsShows = (address: string, field: string, text: string): string =>
  `document.querySelector(${JSON.stringify(`${rsRow(address)} [data-field="${field}"]`)})?.textContent === ${JSON.stringify(text)}`;

btest('the status page in chromium shows a killed real server DOWN within a second of the daemon\'s event; /metrics then agrees with lvskit status', async (t) => {
  t.timeout(300_000);
  const lb = await createNetns(t);
  const rsNs = await createNetns(t);
  await createVethPair(lb, rsNs, { addressesA: ['10.88.0.1/24'], addressesB: RS.map((a) => `${a}/24`) });
  const servers = await Promise.all(RS.map((a) => realServer(t, rsNs, a)));
  const daemon = startDaemon(t, lb, daemonFiles(t, { 'keepalived.conf': CONF }), ['--metrics-listen', LISTEN]);
  await daemon.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 60_000);
  for (let deadline = Date.now() + 60_000; ;) {
    const svc = (await daemon.status()).services.find((s) => s.name === SERVICE);
    if (svc?.realServers.every((r) => r.up === true && r.kernelWeight === 10 && r.checkers?.some((c) => c.attempts > 0))) break;
    if (Date.now() > deadline) return t.fail(`the real servers were not checked UP: ${JSON.stringify(svc)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // Traffic through the VIP: rr sends two of four connections to each real server (IPVS counts them).
  t.deepEqual(await throughVip(lb, 4), ['hello', 'hello', 'hello', 'hello']);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumIn(t, lb), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 120_000 });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  let navigations = 0;
  page.on('framenavigated', () => { navigations++; });
  await page.goto(`http://${LISTEN}/`, { timeout: 60_000 });
  await page.waitForFunction(`${rsShows(RS[0]!, 'health', 'UP')} && ${rsShows(RS[1]!, 'health', 'UP')} && ${rsShows(RS[0]!, 'connections', '2')}`,
    undefined, { timeout: 30_000, polling: 20 });
  t.is(await page.locator('[data-instance="VI_1"] [data-field="state"]').textContent(), 'MASTER');

  // The failure: the second real server's listener dies; its next check is refused.
  servers[1]!.kill();
  const down = await daemon.waitFor(logged('checks', 'real-server', (j) => j.rs === `${RS[1]}:18080` && (j.event as { type: string }).type === 'down'), 30_000);
  await page.waitForFunction(rsShows(RS[1]!, 'health', 'DOWN'), undefined, { timeout: 10_000, polling: 20 });
  const seenInTestMs = performance.now();
  const eventAtMs = Date.parse(String(down.json?.time));
  const changedAtMs = Number(await page.locator(rsRow(RS[1]!)).getAttribute('data-changed-at'));
  const lagMs = changedAtMs - eventAtMs;
  t.log(`page showed DOWN ${lagMs} ms after the daemon's event (its log time); the test saw it ${Math.round(seenInTestMs - down.atMs)} ms after reading the log line`);
  t.true(lagMs >= 0 && lagMs < 1000, `the page showed DOWN ${lagMs} ms after the daemon's event`);
  await page.waitForFunction(rsShows(RS[1]!, 'weight', '0'), undefined, { timeout: 10_000, polling: 20 });
  t.regex(await page.locator(`${rsRow(RS[1]!)} [data-field="why"]`).textContent() ?? '', /refused/i);
  t.is(await page.locator(`${rsRow(RS[0]!)} [data-field="health"]`).textContent(), 'UP');
  t.is(navigations, 1, 'one navigation (the first): updated in place after that');
  t.regex(await page.locator('#conn').textContent() ?? '', /^live · updated /);
  await page.screenshot({ path: path.join(REPO, 'docs', 'status-page.png'), fullPage: true });

  // /metrics agrees with `lvskit status --json`, read after it (nothing moves: no traffic, the verdicts are in).
  const text = await scrape(lb);
  const cli = await daemon.cli('status', '--json');
  t.is(cli.code, 0, cli.stderr);
  const status = JSON.parse(cli.stdout) as BalancerStatus;
  for (const family of FAMILIES) t.regex(text, new RegExp(`^# TYPE ${family} `, 'm'), `family ${family}`);
  const svc = status.services.find((s) => s.name === SERVICE);
  if (!svc?.traffic) return t.fail(`no ${SERVICE} with traffic in lvskit status --json`);
  t.is(sample(text, 'lvskit_service_present', { service: SERVICE }), 1);
  t.is(sample(text, 'lvskit_ipvs_service_connections_total', { service: SERVICE }), svc.traffic.connections);
  t.true(svc.traffic.connections >= 4, `the kernel counted ${svc.traffic.connections} connections`);
  for (const [name, field] of [['incoming_packets', 'packetsIn'], ['outgoing_packets', 'packetsOut'], ['incoming_bytes', 'bytesIn'], ['outgoing_bytes', 'bytesOut']] as const) {
    t.is(sample(text, `lvskit_ipvs_service_${name}_total`, { service: SERVICE }), svc.traffic[field], name);
  }
  t.true(svc.traffic.bytesOut >= 4 * 'hello\n'.length, 'NAT: the replies came back through the balancer');
  for (const r of svc.realServers) {
    const labels = { service: SERVICE, real_server: `${r.address}:${r.port}` };
    t.is(sample(text, 'lvskit_real_server_up', labels), r.up ? 1 : 0);
    t.is(sample(text, 'lvskit_real_server_weight', labels), r.kernelWeight);
    t.is(sample(text, 'lvskit_ipvs_real_server_connections_total', labels), r.traffic?.connections);
    t.is(sample(text, 'lvskit_ipvs_real_server_incoming_bytes_total', labels), r.traffic?.bytesIn);
    t.is(r.traffic?.connections, 2, `${labels.real_server}: two of the four connections (rr)`);
  }
  const dead = { service: SERVICE, real_server: `${RS[1]}:18080` };
  t.is(sample(text, 'lvskit_real_server_up', dead), 0);
  t.is(sample(text, 'lvskit_real_server_weight', dead), 0, 'inhibit_on_failure: weight 0, kept in the table');
  t.true((sample(text, 'lvskit_check_failures_total', { ...dead, reason: 'refused' }) ?? 0) >= 1, 'the refused check counted for its real server');
  t.is(sample(text, 'lvskit_check_failures_total', { service: SERVICE, real_server: `${RS[0]}:18080`, reason: 'refused' }), undefined, 'none for the live one');
  const vi = status.instances.find((i) => i.name === 'VI_1');
  t.is(sample(text, 'lvskit_vrrp_instance_state', { instance: 'VI_1', state: 'MASTER' }), vi?.state === 'MASTER' ? 1 : 0);
  t.is(sample(text, 'lvskit_vrrp_instance_priority', { instance: 'VI_1' }), vi?.priority);
  const sent = sample(text, 'lvskit_vrrp_adverts_sent_total', { instance: 'VI_1' }) ?? 0;
  t.true(sent >= 1 && sent <= (vi?.stats.advertsSent ?? 0), `adverts sent ${sent}, the instance's count read after ${vi?.stats.advertsSent}`);
  t.true((sample(text, 'lvskit_netlink_requests_total', { client: 'ipvs' }) ?? 0) > 0, 'the IPVS client\'s requests counted');
  t.is(sample(text, 'lvskit_netlink_enobufs_total', { client: 'ipvs' }), 0);
});
