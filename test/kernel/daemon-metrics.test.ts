// layer: tests (kernel tier, root)
// job: `lvskit run --metrics-listen` scraped from inside the daemon's namespace: the VRRP state gauge follows the instance's real state through a fault and back, transitions, drops by reason and reloads are counted; the live status page in Debian's chromium (playwright-core) shows the state and follows it within a second (pushed over /events).
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { daemonFiles, logged, startDaemon, type Daemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable, type Netns } from '../helpers/netns.js';
import { createVrrpLab, type VrrpLab } from '../helpers/vrrp-lab.js';
import type { Line } from '../helpers/vrrp-procs.js';
import { metricSample } from '../helpers/metrics-text.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (daemon-metrics): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
if (!unavailable && !CHROMIUM) console.warn('SKIPPING the status page test (daemon-metrics): no chromium (apt-get install chromium)');
const btest = (unavailable || !CHROMIUM) && process.env.CI !== 'true' ? test.serial.skip : test.serial;

const LISTEN = '127.0.0.1:9650';

/** A log line at or after `sinceMs` that passes `accept` (a transition may be logged before the command that caused it returns). */
const since = (sinceMs: number, accept: (l: Line) => boolean) => (l: Line): boolean => l.atMs >= sinceMs && accept(l);

function conf(o: { priority: number; vip: string; pass?: string }): string {
  return `vrrp_instance VI_1 {
  state ${o.priority > 100 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${o.priority}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass ${o.pass ?? 'lvskit'}
  }
  track_interface {
    eth1
  }
  virtual_ipaddress {
    ${o.vip}/32 dev eth0 label eth0:1
  }
}
`;
}

/** GET http://LISTEN/path from inside `ns` (the daemon's listener is on that namespace's loopback): status and body. */
async function get(ns: Netns, urlPath: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(`http://${LISTEN}${urlPath}`)}).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))`;
  return JSON.parse(await ns.exec([process.execPath, '-e', script])) as { status: number; body: string };
}

const sample = metricSample;

async function scrape(ns: Netns): Promise<string> {
  const r = await get(ns, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
  return r.body;
}

function stateGauges(text: string): Record<string, number | undefined> {
  return Object.fromEntries(['INIT', 'BACKUP', 'MASTER', 'FAULT'].map((s) => [s, sample(text, 'lvskit_vrrp_instance_state', { instance: 'VI_1', state: s })]));
}

async function masterWithMetrics(t: ExecutionContext, lab: VrrpLab): Promise<{ lb: Daemon; vip: string }> {
  const vip = `${lab.net4}.100`;
  const files = daemonFiles(t, { 'keepalived.conf': conf({ priority: 150, vip }) });
  const lb = startDaemon(t, lab.balancers[0]!.ns, files, ['--metrics-listen', LISTEN]);
  await lb.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  return { lb, vip };
}

ktest('/metrics: the VRRP state gauge is the instance\'s real state, through a fault (track_interface down) and back; transitions, drops by reason and reloads are counted', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const ns = lab.balancers[0]!.ns;
  const { lb, vip } = await masterWithMetrics(t, lab);
  let text = await scrape(ns);
  t.is((await lb.status()).instances[0]!.state, 'MASTER');
  t.deepEqual(stateGauges(text), { INIT: 0, BACKUP: 0, MASTER: 1, FAULT: 0 });
  t.is(sample(text, 'lvskit_vrrp_instance_priority', { instance: 'VI_1' }), 150);
  t.is(sample(text, 'lvskit_vrrp_transitions_total', { instance: 'VI_1', to: 'MASTER' }), 1);
  t.truthy(sample(text, 'process_resident_memory_bytes'), 'the process metrics are there');

  // A peer with another password: lb1 drops its adverts (reason auth) and stays MASTER.
  const peer = startDaemon(t, lab.balancers[1]!.ns, daemonFiles(t, { 'keepalived.conf': conf({ priority: 100, vip, pass: 'other' }) }));
  await peer.waitFor(logged('daemon', 'started'), 10_000);
  await lb.waitFor(logged('vrrp', 'drop', (j) => j.reason === 'auth'), 10_000);
  text = await scrape(ns);
  const drops = sample(text, 'lvskit_vrrp_dropped_total', { interface: 'eth0', reason: 'auth' }) ?? 0;
  t.true(drops >= 1, `auth drops counted: ${drops}`);
  const afterDrops = (await lb.status()).instances[0]!.stats;
  t.true(drops <= afterDrops.drops.auth, 'no more than the instance counted');
  const sent = sample(text, 'lvskit_vrrp_adverts_sent_total', { instance: 'VI_1' }) ?? 0;
  t.true(sent >= 1 && sent <= afterDrops.advertsSent, `adverts sent: ${sent}, the instance's count read after it ${afterDrops.advertsSent}`);
  peer.kill('SIGKILL');

  let before = performance.now();
  await ns.ip('link', 'set', 'eth1', 'down');
  await lb.waitFor(since(before, logged('vrrp', 'transition', (j) => j.to === 'FAULT')), 10_000, true);
  text = await scrape(ns);
  t.is((await lb.status()).instances[0]!.state, 'FAULT');
  t.deepEqual(stateGauges(text), { INIT: 0, BACKUP: 0, MASTER: 0, FAULT: 1 });
  t.is(sample(text, 'lvskit_vrrp_transitions_total', { instance: 'VI_1', to: 'FAULT' }), 1);

  before = performance.now();
  await ns.ip('link', 'set', 'eth1', 'up');
  await lb.waitFor(since(before, logged('vrrp', 'transition', (j) => j.to === 'MASTER')), 10_000, true);
  text = await scrape(ns);
  t.deepEqual(stateGauges(text), { INIT: 0, BACKUP: 0, MASTER: 1, FAULT: 0 });
  t.is(sample(text, 'lvskit_vrrp_transitions_total', { instance: 'VI_1', to: 'MASTER' }), 2);

  lb.files.write('keepalived.conf', conf({ priority: 140, vip }));
  lb.child.kill('SIGHUP');
  await lb.waitFor(logged('daemon', 'reloaded'), 10_000);
  lb.files.write('keepalived.conf', conf({ priority: 140, vip }).replace('virtual_router_id 51', 'virtual_router_id 300'));
  lb.child.kill('SIGHUP');
  await lb.waitFor(logged('daemon', 'reload-failed'), 10_000);
  text = await scrape(ns);
  t.is(sample(text, 'lvskit_vrrp_instance_priority', { instance: 'VI_1' }), 140);
  t.is(sample(text, 'lvskit_reloads_total', { outcome: 'success' }), 1);
  t.is(sample(text, 'lvskit_reloads_total', { outcome: 'failure' }), 1);
  t.true((sample(text, 'lvskit_reload_last_duration_seconds') ?? 0) > 0, 'the reload\'s duration');

  t.is((await get(ns, '/nothing')).status, 404);
  const json = JSON.parse((await get(ns, '/status.json')).body) as { status: { instances: { state: string }[] }; events: { message: string }[] };
  t.is(json.status.instances[0]!.state, 'MASTER');
  t.true(json.events.some((e) => e.message.includes('MASTER → FAULT')), 'recent events list the fault');
});

ktest('--metrics-listen on a port already in use: refused before anything is touched, exit 1', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const { lb } = await masterWithMetrics(t, lab);
  const again = startDaemon(t, lab.balancers[0]!.ns, daemonFiles(t, { 'keepalived.conf': conf({ priority: 150, vip: `${lab.net4}.101` }) }), ['--metrics-listen', LISTEN], 'second');
  await again.exited;
  t.is(again.child.exitCode, 1);
  t.regex(again.lines.map((l) => l.text).join('\n'), /--metrics-listen 127\.0\.0\.1:9650: .*EADDRINUSE.*not started, nothing changed/);
  t.is((await lb.status()).instances[0]!.state, 'MASTER');
});

/**
 * A chromium that runs inside `ns` (playwright drives it over a pipe, so only its network is there);
 * without the sanitizer run's preloaded ASan runtime, which is for our addon, not for chromium.
 */
function chromiumIn(t: ExecutionContext, ns: Netns): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-chromium-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nunset LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS\nexec ip netns exec ${ns.name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** A page expression: VI_1's state cell reads `state` (the page is not this program's DOM: an expression, not a function). */
const shows = (state: string): string => `document.querySelector('[data-instance="VI_1"] [data-field="state"]')?.textContent === ${JSON.stringify(state)}`;

btest('the status page in chromium shows the instance\'s state, priority, master and VIP, and follows a fault and the return to MASTER without a reload', async (t) => {
  const { chromium } = await import('playwright-core');
  const lab = await createVrrpLab(t, 1);
  const ns = lab.balancers[0]!.ns;
  const { lb, vip } = await masterWithMetrics(t, lab);
  const browser = await chromium.launch({ executablePath: chromiumIn(t, ns), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`http://${LISTEN}/`);
  const state = page.locator('[data-instance="VI_1"] [data-field="state"]');
  await page.waitForFunction(shows('MASTER'), undefined, { timeout: 5000, polling: 20 });
  t.is(await page.locator('[data-instance="VI_1"] [data-field="priority"]').textContent(), '150');
  t.is(await page.locator('[data-instance="VI_1"] [data-field="master"]').textContent(), '(this balancer)');
  t.is(await page.locator('[data-instance="VI_1"] [data-field="vips"]').textContent(), `${vip}/32`);
  let navigations = 0;
  page.on('framenavigated', () => { navigations++; });

  let before = performance.now();
  await ns.ip('link', 'set', 'eth1', 'down');
  const fault = await lb.waitFor(since(before, logged('vrrp', 'transition', (j) => j.to === 'FAULT')), 10_000, true);
  await page.waitForFunction(shows('FAULT'), undefined, { timeout: 5000, polling: 20 });
  const lagMs = performance.now() - fault.atMs;
  t.true(lagMs < 1000, `the page showed FAULT ${Math.round(lagMs)} ms after the daemon logged it (pushed on the event)`);
  t.is(await state.getAttribute('class'), 'FAULT');
  t.regex(await page.locator('#events').textContent() ?? '', /VI_1: MASTER → FAULT/);

  before = performance.now();
  await ns.ip('link', 'set', 'eth1', 'up');
  await lb.waitFor(since(before, logged('vrrp', 'transition', (j) => j.to === 'MASTER')), 10_000, true);
  await page.waitForFunction(shows('MASTER'), undefined, { timeout: 3000, polling: 20 });
  t.is(navigations, 0, 'updated in place, never reloaded');
  t.regex(await page.locator('#conn').textContent() ?? '', /^live · updated /);
});
