// layer: tests (IPVS tier: the end-to-end site)
// job: the control-plane fault matrix on the running site (docs/reliability.md, "Control-plane faults"): each fault injected into `lvskit run` on lb1, the MASTER, with
//      real mechanisms — a burst of link changes, a full disk under static_blacklist, 100 SIGHUPs in 10 s, `ipvsadm -D`, SIGKILL in a 10,000-operation apply — and
//      what must hold: traffic flows (or fails over within its bound), nothing is lost, and lb1's log and /metrics say what happened.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { faultSite, METRICS, waitForLogged, type FaultSite } from '../helpers/fault-site.js';
import { lvskitAutobanConfig, siteConfigFiles } from '../helpers/site-config.js';
import { masterDownIntervalMs, siteAfterReload, SLACK_MS, type SiteSpec } from '../helpers/site-model.js';
import { banned, ipvsTable, tableShape } from '../helpers/site-oracles.js';
import { monoMs, poll, sleep } from '../helpers/site-procs.js';
import { HeldConnections } from '../helpers/site-traffic.js';

/** `lvskit run`'s drift check period (its default, --drift-check 5). */
const DRIFT_CHECK_MS = 5000;

/** Requests sent in [fromMs, toMs), once all have their result: counts, failures, the longest outage. */
async function trafficIn(site: FaultSite, fromMs: number, toMs: number) {
  await site.traffic.settled(toMs);
  return site.traffic.stats(fromMs, toMs);
}

/** lb1's VRRP and VIP events in its log from line `since` on: a transition or a VIP removed is a flap. */
function flaps(site: FaultSite, since: number): string[] {
  return site.log().slice(since).filter((j) => j.source === 'vrrp' && (j.type === 'transition' || (j.type === 'vip' && j.op === 'del')))
    .map((j) => String(j.msg ?? JSON.stringify(j)));
}

test.serial('ipvsadm -D of the live service: the drift check puts it back with its real servers, logged and counted; traffic resumes', async (t) => {
  t.timeout(115_000);
  const site = await faultSite(t);
  const before = await site.table();
  const svc = `${site.lab.site.vip}:80`;
  const since = site.log().length;
  const deletedAt = monoMs();
  await site.lab.exec('lb1', ['ipvsadm', '-D', '-t', svc]);
  const repaired = await waitForLogged(site, 'daemon', 'drift-repaired', DRIFT_CHECK_MS + 15_000);
  const back = await poll(async () => ((await site.table()) === before ? monoMs() : undefined), 15_000, 100);
  t.truthy(back, `lb1's table is as before: ${await site.table()}`);
  await sleep(2000);
  const end = monoMs();
  const stats = await trafficIn(site, deletedAt, end);
  t.log(`service back in the table ${Math.round((back ?? end) - deletedAt)} ms after ipvsadm -D; traffic: ${stats.failures} of ${stats.requests} requests failed, longest outage ${Math.round(stats.outageMs)} ms (${JSON.stringify(stats.errors)})`);
  t.deepEqual(repaired.recreated, [`TCP ${svc}`]);
  t.regex(String(repaired.msg), /IPVS drift repaired: TCP .+:80 created again \(deleted behind lvskit's back\); 3 real-server operation/);
  t.true(stats.outageMs <= DRIFT_CHECK_MS + 2 * SLACK_MS, `outage ${stats.outageMs} ms within the drift check period + slack`);
  const after = await trafficIn(site, (back ?? end) + 500, end);
  t.is(after.failures, 0, 'no failure once the service is back');
  t.is(await site.metric('lvskit_ipvs_drift_repairs_total', { kind: 'recreated' }), 1);
  t.deepEqual(flaps(site, since), [], 'no VRRP transition, no VIP removed');
});

/** The files of lb1's configuration for `s`, written as an editor saves them (a temporary file renamed over each); a service file `s` lacks is removed. */
function saveConfig(configDir: string, s: SiteSpec): void {
  const files = siteConfigFiles(s, 'lb1');
  files['keepalived.conf'] += lvskitAutobanConfig(s);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(configDir, name);
    fs.writeFileSync(`${file}.new`, text);
    fs.renameSync(`${file}.new`, file);
  }
  for (const name of fs.readdirSync(path.join(configDir, 'services'))) {
    if (!(`services/${name}` in files)) fs.rmSync(path.join(configDir, 'services', name));
  }
}

test.serial('100 SIGHUPs in 10 s alternating two configurations: the table ends as the last one, reloads coalesced and counted, no VIP flap, no request lost', async (t) => {
  t.timeout(115_000);
  const site = await faultSite(t);
  const { lab } = site;
  const configs = [lab.site, siteAfterReload(lab.site)]; // the second adds VIP:8080 and gives rs3 weight 20
  const pid = site.pid();
  const since = site.log().length;
  const began = monoMs();
  for (let i = 0; i < 100; i++) {
    saveConfig(site.lb1.configDir, configs[i % 2]!);
    process.kill(pid, 'SIGHUP');
    await sleep(Math.max(0, began + (i + 1) * 100 - monoMs()));
  }
  const sentMs = monoMs() - began;
  // The last configuration written is the second: both services, rs3 at 20, once the new service's checks have run.
  const expected = tableShape(configs[1]!.services.map((s) => ({
    protocol: 'TCP', address: s.vip, port: s.port, scheduler: 'rr',
    destinations: s.realServers.map((r) => ({ address: r.address, port: s.port, forward: 'Route', weight: r.weight, active: 0, inactive: 0 })),
  })));
  const settled = await poll(async () => {
    const reloads = (await site.metric('lvskit_reloads_total', { outcome: 'success' }) ?? 0) + (await site.metric('lvskit_reloads_total', { outcome: 'failure' }) ?? 0);
    const coalesced = await site.metric('lvskit_reloads_coalesced_total') ?? 0;
    return reloads + coalesced === 100 && await site.table() === expected ? { reloads, coalesced } : undefined;
  }, 60_000, 500);
  const end = monoMs();
  const stats = await trafficIn(site, began, end);
  const failed = await site.metric('lvskit_reloads_total', { outcome: 'failure' });
  t.log(`100 SIGHUPs sent in ${Math.round(sentMs)} ms; ${settled ? `${settled.reloads} reloads ran, ${settled.coalesced} requests joined a waiting one` : 'not settled'}; `
    + `settled ${Math.round(end - began)} ms after the first; traffic ${stats.failures} of ${stats.requests} failed`);
  t.truthy(settled, `every SIGHUP answered (reloads + coalesced = 100) and the table is the last configuration's:\n${await site.table()}\nexpected:\n${expected}`);
  t.is(failed, 0, 'no reload refused');
  t.true((settled?.coalesced ?? 0) > 0, 'some reloads were coalesced');
  t.is(stats.failures, 0, `no failed request (${JSON.stringify(stats.errors)})`);
  t.deepEqual(flaps(site, since), [], 'no VRRP transition, no VIP removed');
  t.true(site.logged('daemon', 'reloaded').some((j) => Number(j.coalesced) > 0 && /answered \d+ more reload request/.test(String(j.msg))), 'the log says which reload answered the others');
});

/** 1,000 virtual services (10.251.x.y:8000, rr, DR) × 9 real servers without checks: 10,000 IPVS operations from nothing. */
function bulkServices(): string {
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    out.push(`virtual_server 10.251.${i >> 8}.${i & 255} 8000 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n`);
    for (let r = 1; r <= 9; r++) out.push(`  real_server 10.252.0.${r} 8000 {\n    weight 1\n  }\n`);
    out.push('}\n');
  }
  return out.join('');
}

const BULK_SHAPE = tableShape(Array.from({ length: 1000 }, (_, i) => ({
  protocol: 'TCP', address: `10.251.${i >> 8}.${i & 255}`, port: 8000, scheduler: 'rr',
  destinations: Array.from({ length: 9 }, (_x, r) => ({ address: `10.252.0.${r + 1}`, port: 8000, forward: 'Route', weight: 1, active: 0, inactive: 0 })),
})));

test.serial('SIGKILL in the middle of a 10,000-operation apply: lb2 takes over within its bound; the next start converges to the file, nothing duplicated or left', async (t) => {
  t.timeout(115_000);
  const site = await faultSite(t);
  const { lab } = site;
  const www = await site.table();
  fs.writeFileSync(path.join(site.lb1.configDir, 'services', 'bulk.conf'), bulkServices());
  // A watcher in lb1's namespace reads the kernel's table as the apply runs and SIGKILLs the daemon once 100 of the 1,000 services are in.
  const pid = site.pid();
  const killer = spawn('ip', ['netns', 'exec', lab.ns.lb1, process.execPath, '-e', `
    const fs = require('fs');
    console.log('watching');
    for (;;) {
      const text = fs.readFileSync('/proc/net/ip_vs', 'utf8');
      const services = (text.match(/^TCP  0AFB/gm) || []).length;
      if (services >= 100) { process.kill(${pid}, 'SIGKILL'); console.log('killed ' + services); break; }
    }`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { killer.kill('SIGKILL'); });
  let said = '';
  killer.stdout.setEncoding('utf8').on('data', (d: string) => { said += d; });
  await poll(async () => (said.includes('watching') ? true : undefined), 30_000, 50);
  process.kill(pid, 'SIGHUP');
  await poll(async () => (said.includes('killed') ? true : undefined), 60_000, 20);
  const killedAt = monoMs();
  await poll(async () => (site.driver.running(site.lb1) ? undefined : true), 10_000, 50);
  const partial = await ipvsTable(lab, 'lb1');
  const bulkIn = partial.filter((s) => s.port === 8000);
  const opsDone = bulkIn.length + bulkIn.reduce((n, s) => n + s.destinations.length, 0);
  t.log(`SIGKILLed with ${bulkIn.length} of 1,000 services and ${opsDone} of 10,000 operations in the kernel (${said.trim()})`);
  t.true(opsDone > 0 && opsDone < 10_000, 'killed in the middle');
  // lb2 takes the VIP: the traffic fails over.
  const resumed = await site.traffic.firstSuccess(killedAt + 100, 30_000);
  const failover = resumed ? resumed.sentMs - killedAt : Infinity;
  const bound = masterDownIntervalMs(lab.site, 100) + SLACK_MS;
  t.log(`traffic through lb2 ${Math.round(failover)} ms after the kill (Master_Down_Interval + slack: ${Math.round(bound)} ms)`);
  t.true(failover <= bound, 'failover within its bound');
  // The next start: adopts what is there, adds the rest, removes nothing it owns twice.
  const restartAt = monoMs();
  const restartLine = site.log().length;
  await site.driver.start(site.lb1, ['--metrics-listen', METRICS]);
  const converged = await poll(async () => {
    const now = await ipvsTable(lab, 'lb1');
    return tableShape(now.filter((s) => s.port === 8000)) === BULK_SHAPE && tableShape(now.filter((s) => s.port !== 8000)) === www ? now : undefined;
  }, 40_000, 500);
  const startedLine = site.logged('daemon', 'started').at(-1);
  t.log(`restarted: converged ${Math.round(monoMs() - restartAt)} ms after the start; its start applied ${String(startedLine?.ipvsOps)} operation(s)`);
  t.truthy(converged, 'lb1\'s table is exactly the file\'s: 1,000 bulk services × 9 and the site\'s service');
  t.is(converged?.length, 1001, 'no service twice, none left over');
  // lb1 is MASTER again (priority 150 preempts) and traffic flows through it.
  const master = await poll(async () => (site.transitionsSince(restartLine).some((j) => j.to === 'MASTER') ? true : undefined), 30_000, 100);
  t.truthy(master, 'lb1 MASTER again after its start');
  await sleep(2000);
  const end = monoMs();
  const after = await trafficIn(site, end - 1500, end);
  t.true(after.requests > 0 && after.failures === 0, `traffic flows after the restart (${after.failures} of ${after.requests} failed)`);
});

test.serial('a burst of link changes on lb1 (ENOBUFS on the VRRP side\'s link watcher): the links are read again, lb1 stays MASTER, no request lost, logged and counted', async (t) => {
  t.timeout(115_000);
  const site = await faultSite(t);
  const { lab } = site;
  await lab.ip('lb1', 'link', 'add', 'fc0', 'type', 'veth', 'peer', 'name', 'fc1');
  await lab.ip('lb1', 'link', 'set', 'fc0', 'up');
  const since = site.log().length;
  const began = monoMs();
  // 20,000 RTM_NEWLINK notifications as fast as `ip -batch` makes them: each carries a 200-byte alias.
  const pad = 'x'.repeat(190);
  const batch = Array.from({ length: 20_000 }, (_, i) => `link set dev fc0 alias ${pad}${String(i).padStart(6, '0')}`).join('\n');
  execFileSync('ip', ['-n', lab.ns.lb1, '-batch', '-'], { input: batch });
  const burstMs = monoMs() - began;
  const resync = await waitForLogged(site, 'vrrp', 'links-resynced', 30_000);
  await sleep(3000);
  const end = monoMs();
  const stats = await trafficIn(site, began, end);
  const lines = site.logged('vrrp', 'links-resynced');
  const overruns = lines.reduce((n, j) => n + Number(j.overruns), 0);
  const counted = await site.metric('lvskit_netlink_enobufs_total', { client: 'rtnl-links' });
  t.log(`20,000 link changes in ${Math.round(burstMs)} ms; ${lines.length} resync(s) for ${overruns} overrun(s), the first: ${String(resync.msg)}; traffic ${stats.failures} of ${stats.requests} failed`);
  t.true(overruns >= 1);
  t.is(counted, overruns, '/metrics counts the overruns the log reports');
  t.is(stats.failures, 0, `no failed request (${JSON.stringify(stats.errors)})`);
  t.deepEqual(flaps(site, since), [], 'no VRRP transition, no VIP removed');
  t.true(await site.table() !== '', 'the table is still there');
});

test.serial('the disk is full when a ban is written to static_blacklist: the ban holds, the file stays whole, the ENOSPC is logged with the path and counted; written once there is room', async (t) => {
  t.timeout(115_000);
  const dir = fs.mkdtempSync('/var/tmp/lvskit-fault-ctl-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
  t.teardown(() => {
    try { execFileSync('umount', [dir]); } catch { /* not mounted */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'static_blacklist');
  const operator = '# the operator\'s own bans\n203.0.113.66\n';
  fs.writeFileSync(file, operator);
  const site = await faultSite(t, {
    edit: (configDir) => {
      const main = path.join(configDir, 'keepalived.conf');
      fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('lvskit_autoban {\n', `lvskit_autoban {\n  static_blacklist ${file}\n`));
    },
  });
  const { lab } = site;
  // Fill the file system: dd stops at ENOSPC.
  try { execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'fill')}`, 'bs=4k'], { stdio: 'ignore' }); } catch { /* no space left: the point */ }
  const heavy = await HeldConnections.open(lab, 'client', lab.site.clients.heavy, lab.site.autoban.threshold + 10);
  t.teardown(() => heavy.close());
  const error = await waitForLogged(site, 'autoban', 'error', 30_000, (j) => /ENOSPC/.test(String(j.msg)));
  t.true((await banned(lab, 'lb1')).includes(lab.site.clients.heavy), 'the ban is in force in the set');
  t.is(fs.readFileSync(file, 'utf8'), operator, 'static_blacklist is whole: as it was before');
  t.deepEqual(fs.readdirSync(dir).sort(), ['fill', 'static_blacklist'], 'no temporary file left behind');
  t.regex(String(error.msg), new RegExp(`static_blacklist ${file.replace(/[/.]/g, '\\$&')} not written \\(ENOSPC`));
  t.like(error.error, { code: 'ENOSPC' });
  t.true((await site.metric('lvskit_autoban_errors_total') ?? 0) >= 1);
  const errorsBefore = site.logged('autoban', 'error').length;
  // Room again: the next round writes it.
  fs.rmSync(path.join(dir, 'fill'));
  const recovered = await waitForLogged(site, 'autoban', 'blacklist-recovered', lab.site.autoban.intervalS * 1000 + 15_000);
  const text = fs.readFileSync(file, 'utf8');
  t.log(`${errorsBefore} failed write(s) logged before room was made; then: ${String(recovered.msg)}`);
  t.true(text.startsWith(operator), 'the operator\'s lines kept');
  t.regex(text, new RegExp(`^${lab.site.clients.heavy.replace(/\./g, '\\.')} # lvskit-autoban until=`, 'm'));
  t.true((await banned(lab, 'lb1')).includes(lab.site.clients.heavy));
  const stats = await trafficIn(site, site.readyMs, monoMs());
  t.is(stats.failures, 0, `no failed request from the ordinary client (${JSON.stringify(stats.errors)})`);
});
