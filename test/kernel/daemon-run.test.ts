// layer: tests (kernel tier, root)
// job: `lvskit run` with a VRRP-only keepalived.conf on two balancers: refused configs touch nothing; status; SIGHUP and `lvskit reload` apply a change in place (no transition, no VIP flap); a broken reload changes nothing; SIGTERM sends priority 0; a restart-stop resumes as MASTER.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { daemonFiles, logged, startDaemon, type Daemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { until } from '../helpers/until.js';
import { addressesOn, createVrrpLab, type VrrpLab } from '../helpers/vrrp-lab.js';
import type { Netns } from '../helpers/netns.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (daemon-run): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

function conf(o: { priority: number; vips: string[]; advertSec?: number; extra?: string }): string {
  return `global_defs {\n  router_id lb\n}\n
vrrp_instance VI_1 {
  state ${o.priority > 100 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${o.priority}
  advert_int ${o.advertSec ?? 1}
  authentication {
    auth_type PASS
    auth_pass lvskit
  }
  track_interface {
    eth1
  }
  virtual_ipaddress {
${o.vips.map((v, i) => `    ${v}/32 dev eth0 label eth0:${i + 1}`).join('\n')}
  }
${o.extra ?? ''}}
`;
}

/**
 * `ip monitor address` in `ns` for the rest of the test: the lines it printed. Resolves once it is
 * listening (it has seen a marker address come and go on lo), so no event after that is missed.
 */
async function monitorAddresses(t: { teardown(fn: () => void): void }, ns: Netns): Promise<string[]> {
  const lines: string[] = [];
  const child = spawn('ip', ['-n', ns.name, 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter((l) => l !== '')));
  t.teardown(() => { child.kill('SIGKILL'); });
  for (let tries = 0; !lines.some((l) => l.includes('127.255.0.9')); tries++) {
    if (tries === 50) throw new Error('ip monitor address did not start');
    await ns.ip('addr', 'add', '127.255.0.9/32', 'dev', 'lo');
    await ns.ip('addr', 'del', '127.255.0.9/32', 'dev', 'lo');
    await new Promise((r) => setTimeout(r, 50));
  }
  lines.length = 0;
  return lines;
}

/** Two adverts of VRID 51 from balancer `i` after `sinceMs` (two advert intervals of the site, seen on the wire). */
async function twoAdvertsFrom(lab: VrrpLab, i: number, sinceMs: number): Promise<void> {
  const src = lab.balancers[i]!.ipv4;
  const first = await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 51 && x.src === src, 5000, sinceMs);
  await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 51 && x.src === src && x.atMs > first.atMs, 5000, first.atMs);
}

async function site(t: ExecutionContext): Promise<{ lab: VrrpLab; vip: string; lb1: Daemon; lb2: Daemon }> {
  const lab = await createVrrpLab(t, 2);
  const vip = `${lab.net4}.100`;
  const f1 = daemonFiles(t, { 'keepalived.conf': conf({ priority: 150, vips: [vip] }) });
  const f2 = daemonFiles(t, { 'keepalived.conf': conf({ priority: 100, vips: [vip] }) });
  // lb1 first: it is MASTER before lb2 starts, so lb2's only transition is its start as BACKUP.
  const lb1 = startDaemon(t, lab.balancers[0]!.ns, f1);
  await lb1.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  const lb2 = startDaemon(t, lab.balancers[1]!.ns, f2);
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.to === 'BACKUP'), 10_000);
  await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 51 && x.src === lab.balancers[0]!.ipv4, 3000, performance.now());
  await until('lb2 has heard lb1 (its status names the master)', async () => (await lb2.status()).instances[0]?.master, 5000);
  return { lab, vip, lb1, lb2 };
}

ktest('a configuration with errors is refused: every problem at file:line:col, exit 1, nothing in the kernel touched', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const lb = lab.balancers[0]!;
  const files = daemonFiles(t, { 'keepalived.conf': conf({ priority: 150, vips: [`${lab.net4}.100`], extra: '  track_script {\n    chk_nginx\n  }\n  no_such_keyword 1\n' }) });
  const d = startDaemon(t, lb.ns, files);
  await d.exited;
  const text = d.lines.map((l) => l.text).join('\n');
  t.is(d.child.exitCode, 1, text);
  t.regex(text, /keepalived\.conf:22:5: error: .*chk_nginx/);
  t.regex(text, /not started, nothing changed/);
  t.false((await addressesOn(lb.ns)).includes(`${lab.net4}.100`));
  t.false(existsSync(files.control), 'no control socket');
});

ktest('status, then a reload of both balancers by SIGHUP that lowers the master\'s priority and adds a VIP: no transition, no VIP flap, the new VIP announced', async (t) => {
  const { lab, vip, lb1, lb2 } = await site(t);
  t.is(statSync(lb1.files.control).mode & 0o777, 0o600, 'the control socket is root-only');
  const s = await lb1.status();
  t.like(s.instances[0], { name: 'VI_1', state: 'MASTER', priority: 150, vips: [`${vip}/32`] });
  t.like((await lb2.status()).instances[0], { state: 'BACKUP', master: { priority: 150 } });
  const events = await monitorAddresses(t, lab.balancers[0]!.ns);
  const vip2 = `${lab.net4}.101`;
  const since = performance.now();
  // Both balancers, as the runbook says: a backup drops adverts whose VIP list is not its own (RFC 3768 §7.1).
  lb1.files.write('keepalived.conf', conf({ priority: 140, vips: [vip, vip2] }));
  lb2.files.write('keepalived.conf', conf({ priority: 100, vips: [vip, vip2] }));
  lb1.child.kill('SIGHUP');
  lb2.child.kill('SIGHUP');
  const [reloaded] = await Promise.all([lb1.waitFor(logged('daemon', 'reloaded'), 10_000, true), lb2.waitFor(logged('daemon', 'reloaded'), 10_000, true)]);
  t.deepEqual((reloaded.json!.result as { vrrp: { changed: unknown } }).vrrp.changed, [{ name: 'VI_1', fields: ['priority', 'vips'] }]);
  await lab.waitFor((x) => x.kind === 'garp' && x.address === vip2, 5000, since);
  await until('adverts at the new priority reach the backup', async () => (await lb2.status()).instances[0]?.master?.priority === 140, 5000);
  t.like((await lb1.status()).instances[0], { state: 'MASTER', priority: 140 });
  t.like((await lb2.status()).instances[0], { state: 'BACKUP', master: { priority: 140 } });
  t.deepEqual(lab.adverts(51, since).filter((a) => a.src !== lab.balancers[0]!.ipv4), [], 'only lb1 advertised');
  t.deepEqual([...lb1.lines, ...lb2.lines].filter((l) => l.atMs >= since && logged('vrrp', 'transition')(l)).map((l) => l.text), [], 'no transition on either balancer');
  t.false(events.some((l) => l.startsWith('Deleted') && l.includes(vip)), `the VIP never left lb1: ${events.join(' | ')}`);
  t.true(events.some((l) => !l.startsWith('Deleted') && l.includes(vip2)));
});

ktest('`lvskit reload`: --dry-run prints the plan and changes nothing; a broken file is refused at its line and changes nothing', async (t) => {
  const { vip, lb1 } = await site(t);
  lb1.files.write('keepalived.conf', conf({ priority: 120, vips: [vip] }));
  const dry = await lb1.cli('reload', '--dry-run');
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /would do: VRRP 0 added, 0 removed, 1 changed in place/);
  t.regex(dry.stdout, /vrrp_instance VI_1: priority changed in place/);
  t.like((await lb1.status()).instances[0], { priority: 150 }, 'a dry run changes nothing');
  lb1.files.write('keepalived.conf', conf({ priority: 120, vips: [vip] }).replace('virtual_router_id 51', 'virtual_router_id 300'));
  const broken = await lb1.cli('reload');
  t.is(broken.code, 1);
  t.regex(broken.stderr, /keepalived\.conf:\d+:\d+: error: /);
  t.like((await lb1.status()).instances[0], { state: 'MASTER', priority: 150 });
  t.like(await lb1.status(), { reloads: 0, reloadFailures: 1 });
  t.truthy(lb1.lines.find(logged('daemon', 'reload-failed')), 'the daemon logs the refusal too');
});

ktest('SIGTERM: priority 0 on the wire, the VIP released, the backup takes over at once', async (t) => {
  const { lab, vip, lb1, lb2 } = await site(t);
  const since = performance.now();
  lb1.kill('SIGTERM');
  await lab.waitFor((x) => x.kind === 'vrrp' && x.vrid === 51 && x.priority === 0 && x.src === lab.balancers[0]!.ipv4, 5000, since);
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER' && j.reason === 'priority-zero'), 5000);
  await lb1.exited;
  t.is(lb1.child.exitCode, 0);
  t.false((await addressesOn(lab.balancers[0]!.ns)).includes(vip));
  t.true((await addressesOn(lab.balancers[1]!.ns)).includes(vip));
});

ktest('`lvskit stop --restart`, then `lvskit run` again: resumed as MASTER, the backup never moves, the VIP never leaves', async (t) => {
  const { lab, vip, lb1, lb2 } = await site(t);
  const events = await monitorAddresses(t, lab.balancers[0]!.ns);
  const since = performance.now();
  const stop = await lb1.cli('stop', '--restart');
  t.is(stop.code, 0, stop.stderr);
  await lb1.exited;
  t.true((await addressesOn(lab.balancers[0]!.ns)).includes(vip), 'the VIP stays through the restart');
  const again = startDaemon(t, lab.balancers[0]!.ns, lb1.files);
  const started = await again.waitFor(logged('daemon', 'started'), 10_000);
  t.deepEqual(started.json!.resumed, ['VI_1']);
  await twoAdvertsFrom(lab, 0, performance.now()); // the resumed master advertises; a backup that moved would have shown by now
  t.is(lab.seen.filter((x) => x.kind === 'vrrp' && x.atMs >= since && x.priority === 0).length, 0, 'no priority 0');
  t.deepEqual(lab.adverts(51, since).filter((a) => a.src !== lab.balancers[0]!.ipv4), [], 'the backup never advertised');
  t.deepEqual(lb2.lines.filter((l) => l.atMs >= since && logged('vrrp', 'transition')(l)).map((l) => l.text), [], 'the backup made no transition');
  t.false(events.some((l) => l.startsWith('Deleted') && l.includes(vip)));
  t.like((await again.status()).instances[0], { state: 'MASTER' });
});

ktest('`lvskit run --replace` takes over from the running daemon once it is ready: resumed as MASTER, no priority 0, no gap a backup would act on', async (t) => {
  const { lab, vip, lb1, lb2 } = await site(t);
  const events = await monitorAddresses(t, lab.balancers[0]!.ns);
  const since = performance.now();
  const next = startDaemon(t, lab.balancers[0]!.ns, lb1.files, ['--replace'], 'lvskit-run-next');
  const started = await next.waitFor(logged('daemon', 'started'), 10_000);
  await lb1.exited;
  t.is(lb1.child.exitCode, 0);
  t.deepEqual(started.json!.resumed, ['VI_1']);
  t.truthy(lb1.lines.find(logged('daemon', 'stopped', (j) => j.mode === 'restart')));
  await twoAdvertsFrom(lab, 0, performance.now()); // the new daemon's adverts: the gap, if any, is behind them
  const mine = lab.adverts(51, since - 1000).filter((a) => a.src === lab.balancers[0]!.ipv4).map((a) => a.atMs);
  const gap = Math.max(...mine.slice(1).map((x, i) => x - mine[i]!));
  t.true(gap < 2000, `the longest pause between lb1's adverts is ${Math.round(gap)} ms (advert interval 1 s, a backup acts after 3.6 s)`);
  t.is(lab.seen.filter((x) => x.kind === 'vrrp' && x.atMs >= since && x.priority === 0).length, 0, 'no priority 0');
  t.deepEqual([...lb2.lines, ...next.lines].filter((l) => l.atMs >= since && logged('vrrp', 'transition')(l) && (l.json!.reason !== 'resume')).map((l) => l.text), []);
  t.false(events.some((l) => l.startsWith('Deleted') && l.includes(vip)));
  t.like((await next.status()).instances[0], { state: 'MASTER' });
});
