// layer: tests (kernel tier, root)
// job: vrrp_track_process under `lvskit run --netns` against a real keepalived 2.2.7: a tracked process (a copy of sleep under a unique name) exits and returns, the kernel's process events move lvskit's adverts' priority and the VIP as keepalived's own tracking does; terminate_delay rides over a restart; the connector unavailable is a located event and the daemon runs on.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, daemonFiles, logged } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable, run } from '../helpers/netns.js';
import { advert, trackPair } from '../helpers/track-pair.js';
import { createVrrpLab, type Balancer } from '../helpers/vrrp-lab.js';
import { keepalivedEntered, startKeepalived, watch } from '../helpers/vrrp-procs.js';

process.env.LVSKIT_NETNS_PREFIX ??= 'trp';
const unavailable = kernelTierUnavailable() ?? (await run(['keepalived', '--version']).then(() => undefined, () => 'keepalived is not installed'));
if (unavailable) console.warn(`SKIPPING kernel tier (track-process): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A program under a unique name (its comm): a copy of sleep; each start runs it for a long while, killed in teardown. */
function trackedProgram(t: { teardown(fn: () => void): void }, name: string): { start(): ChildProcess; path: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-trackproc-'));
  const program = path.join(dir, name);
  copyFileSync('/bin/sleep', program);
  const started: ChildProcess[] = [];
  t.teardown(() => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    path: program,
    start: () => {
      const c = spawn(program, ['300'], { stdio: 'ignore' });
      started.push(c);
      return c;
    },
  };
}

const exited = (c: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (c.exitCode !== null || c.signalCode !== null) resolve();
  else c.once('exit', () => resolve());
});

/** `lvskit run` started with `ip netns exec` (not `--netns`): the whole process is in the namespace, where the kernel has no process events. */
function startDaemonInside(t: { teardown(fn: () => Promise<void> | void): void }, ns: string, files: { conf: string; control: string }): ReturnType<typeof watch> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'run', '-f', files.conf, '--control', files.control, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const speaker = watch(`lvskit-inside@${ns}`, child, () => child.pid, logged('daemon', 'started'));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await speaker.exited;
    }
  });
  return speaker;
}

ktest('track_process moves the VIP between lvskit and keepalived: the tracked process exits, lvskit 150 → 90 below keepalived\'s 110 + 20; it returns, lvskit preempts back; a restart within terminate_delay changes nothing', async (t) => {
  const name = `tpa${process.pid % 100000}`;
  const program = trackedProgram(t, name);
  let proc = program.start();
  const pair = await trackPair(t, {
    vrid: 71, track: 'track_process', name: 'service',
    define: () => `vrrp_track_process service {\n  process ${name}\n  weight -60\n  terminate_delay 1.5\n}\n`,
  });
  const { lab, lb1, lb2, lvskit } = pair;
  const s1 = await lvskit.status();
  t.like(s1.instances[0], { name: 'VI_1', state: 'MASTER', priority: 150, basePriority: 150, tracking: { fault: false, weight: 0 } });
  t.like(s1.trackers?.[0], { kind: 'process', name: 'service', state: 'ok', value: 1 });

  // A restart within terminate_delay: the exit is not acted on, the new process restores the quorum.
  const restarting = performance.now();
  proc.kill('SIGTERM');
  await exited(proc);
  proc = program.start();
  await sleep(3000);
  t.false(lvskit.lines.some((l) => l.atMs > restarting && l.json?.source === 'track'), 'no tracker event: the quorum never counted as lost');
  t.false(lab.adverts(71).some((x) => x.atMs > restarting && x.priority !== 150 && x.src === lb1.ipv4), 'every advert still carried 150');
  t.like((await lvskit.status()).trackers?.[0], { state: 'ok', value: 1 });

  // The process exits for good: after terminate_delay lvskit's adverts carry 150 − 60 = 90, keepalived (110 + 20) preempts.
  const killed = performance.now();
  proc.kill('SIGKILL');
  await exited(proc);
  const lost = await lvskit.waitFor(logged('track', 'tracker', (j) => j.name === 'service' && j.state === 'failed'), 5000, true);
  t.true(lost.atMs - killed >= 1400, `the loss counted after terminate_delay (${(lost.atMs - killed).toFixed(0)} ms)`);
  await pair.handedOver(t, killed);
  const s2 = await lvskit.status();
  t.like(s2.instances[0], { state: 'BACKUP', priority: 90, tracking: { fault: false, weight: -60 }, master: { address: lb2.ipv4, priority: 130 } });
  t.like(s2.trackers?.[0], { state: 'failed', value: 0, reason: '0 matching processes, quorum at least 1' });
  const shown = await lvskit.cli('status');
  t.regex(shown.stdout, /VI_1\s+BACKUP\s+90 \(150 -60\)/);
  t.regex(shown.stdout, /vrrp_track_process service\s+FAILED\s+0\s+0 matching processes, quorum at least 1/);

  // It returns (an exec, counted at once): 150 again, lvskit preempts and keepalived yields.
  const back = performance.now();
  proc = program.start();
  await pair.takenBack(t, back);
});

ktest('without the kernel\'s process events (run inside a namespace by ip netns exec) lvskit counts no process, as keepalived 2.2.7 does there: a located event, both lower their priority by the weight, the daemon runs on', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vip = `${lab.net4}.101`;
  const name = `tpb${process.pid % 100000}`;
  const program = trackedProgram(t, name);
  program.start(); // it runs, but neither daemon can see it
  const conf = (priority: number): string => `vrrp_track_process service {
  process ${name}
  weight -60
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 72
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${vip}/32 dev eth0
  }
  track_process {
    service
  }
}
`;
  const files = daemonFiles(t, {});
  files.write('keepalived.conf', conf(150));
  const lvskit = startDaemonInside(t, lb1.ns.name, files);
  const keepalived = startKeepalived(t, lb2.ns, conf(120));
  const refused = await lvskit.waitFor((l) => l.json?.source === 'track' && l.json.type === 'tracker-error', 10_000, true);
  t.like(refused.json!.location, { line: 1, column: 1 });
  t.regex(String(refused.json!.message), /vrrp_track_process service disabled: cannot listen to the kernel's process events: .*ECONNREFUSED.*initial network namespace.*counts no process/);
  t.truthy(lvskit.lines.find((l) => /keepalived\.conf:1:1: vrrp_track_process service disabled/.test(l.text)), 'the log line names file:line:col');
  await keepalived.waitFor((l) => /Failed to set\/clear process event listen - errno 111/.test(l.text), 6000, true);
  await keepalived.waitFor((l) => /\(VI_1\) Changing effective priority from 120 to 60/.test(l.text), 6000, true);
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000, true);
  await lab.waitFor(advert(72, lb1.ipv4, 90), 4000);
  t.is(lvskit.child.exitCode, null, 'the daemon runs on');
  t.deepEqual([...new Set(lab.adverts(72).map((x) => `${x.src === lb1.ipv4 ? 'lvskit' : 'keepalived'} ${x.priority}`))].filter((x) => x.startsWith('lvskit')), ['lvskit 90'],
    'lvskit advertised 150 − 60 from the start, as keepalived moved its own 120 to 60');
});
