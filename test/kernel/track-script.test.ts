// layer: tests (kernel tier, root)
// job: track_script under `lvskit run` against a real keepalived 2.2.7: a failing script lowers lvskit's effective priority below keepalived's (itself raised by its own script), keepalived takes the VIP, the adverts carry what both agree on; bad scripts are located events and the daemon runs on.
import test from 'ava';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable, run } from '../helpers/netns.js';
import { advert, trackPair } from '../helpers/track-pair.js';
import { createVrrpLab, type Balancer } from '../helpers/vrrp-lab.js';

process.env.LVSKIT_NETNS_PREFIX ??= 'tra';
const unavailable = kernelTierUnavailable() ?? (await run(['keepalived', '--version']).then(() => undefined, () => 'keepalived is not installed'));
if (unavailable) console.warn(`SKIPPING kernel tier (track-script): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

ktest('track_script moves the VIP between lvskit and keepalived: a failing script lowers lvskit 150 → 90 below keepalived\'s 110 + 20; it recovers and preempts back', async (t) => {
  let flag = '';
  const pair = await trackPair(t, {
    vrid: 61, track: 'track_script', name: 'chk_service', define: (dir) => {
      flag = path.join(dir, 'healthy');
      writeFileSync(flag, '');
      return `vrrp_script chk_service {\n  script "/usr/bin/test -e ${flag}"\n  interval 1\n  weight -60\n}\n`;
    },
  });
  const { lab, lb2, lvskit } = pair;
  const s1 = await lvskit.status();
  t.like(s1.instances[0], { name: 'VI_1', state: 'MASTER', priority: 150, basePriority: 150, tracking: { fault: false, weight: 0 } });
  t.like(s1.trackers?.[0], { kind: 'script', name: 'chk_service', state: 'ok' });

  // The service fails: lvskit's adverts carry 150 − 60 = 90, keepalived (110 + 20) preempts.
  const failed = performance.now();
  rmSync(flag);
  await pair.handedOver(t, failed);
  const s2 = await lvskit.status();
  t.like(s2.instances[0], { state: 'BACKUP', priority: 90, basePriority: 150, tracking: { fault: false, weight: -60 }, master: { address: lb2.ipv4, priority: 130 } });
  t.like(s2.trackers?.[0], { state: 'failed', reason: 'exited with 1' });
  const shown = await lvskit.cli('status');
  t.regex(shown.stdout, /VI_1\s+BACKUP\s+90 \(150 -60\)/);
  t.regex(shown.stdout, /vrrp_script chk_service\s+FAILED\s+-\s+exited with 1/);

  // A reload of the same file: the script keeps its state (a restarted one would report its first result again).
  const reloading = performance.now();
  lvskit.child.kill('SIGHUP');
  await lvskit.waitFor(logged('daemon', 'reloaded'), 10_000, false);
  await sleep(2500);
  t.false(lvskit.lines.some((l) => l.atMs > reloading && l.json?.source === 'track'), 'no tracker event: the unchanged script kept its state');
  t.like((await lvskit.status()).instances[0], { state: 'BACKUP', priority: 90 });
  await lab.waitFor(advert(61, lb2.ipv4, 130), 3000, performance.now());

  // It recovers: 150 again, lvskit preempts and keepalived yields.
  const healed = performance.now();
  writeFileSync(flag, '');
  await pair.takenBack(t, healed);
});

ktest('bad scripts under enable_script_security — missing, not executable, writable by others, hanging — are located events; the daemon runs on', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const [lb] = lab.balancers as [Balancer];
  const files = daemonFiles(t, {});
  const bin = path.join(files.dir, 'bin');
  mkdirSync(bin);
  chmodSync(files.dir, 0o755);
  const script = (name: string, mode: number): string => {
    const p = path.join(bin, name);
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, mode);
    return p;
  };
  const noexec = script('noexec.sh', 0o644);
  const open = script('open.sh', 0o757);
  files.write('keepalived.conf', `global_defs {
  enable_script_security
}
vrrp_script missing {
  script "${path.join(bin, 'missing.sh')}"
}
vrrp_script noexec {
  script "${noexec}"
}
vrrp_script open {
  script "${open}"
}
vrrp_script hang {
  script "/bin/sleep 31.25"
  interval 2
  timeout 1
  weight -25
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 62
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${lab.net4}.101/32 dev eth0
  }
  track_script {
    missing
    noexec
    open
    hang
  }
}
`);
  const lvskit = startDaemon(t, lb.ns, files);
  await lvskit.waitFor(logged('daemon', 'started'), 15_000);
  const disabled = (line: number, why: RegExp) => lvskit.lines.find((l) => l.json?.source === 'track' && l.json.type === 'tracker-error' &&
    (l.json.location as { line?: number } | undefined)?.line === line && why.test(String(l.json.message)));
  t.truthy(disabled(4, /vrrp_script missing disabled: .*missing\.sh cannot be accessed \(ENOENT\)/), 'missing: at its vrrp_script line');
  t.truthy(disabled(7, /vrrp_script noexec disabled: .*noexec\.sh is not executable/), 'not executable');
  t.truthy(disabled(10, /vrrp_script open disabled: .*open\.sh could be changed by a non-root user \(.*open\.sh \(uid 0, gid 0, mode 0757\) is writable by others\)/), 'writable by others');
  t.truthy(lvskit.lines.find((l) => /keepalived\.conf:4:1: vrrp_script missing disabled/.test(l.text)), 'the log line names file:line:col');
  const hung = await lvskit.waitFor(logged('track', 'tracker', (j) => j.name === 'hang' && j.state === 'failed'), 5000, true);
  t.regex(String(hung.json!.reason), /still running after 1000 ms: process group killed/);
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000, true);
  await lab.waitFor(advert(62, lb.ipv4, 75), 3000);
  const s = await lvskit.status();
  t.like(s.instances[0], { state: 'MASTER', priority: 75, tracking: { fault: false, weight: -25 } }, 'the disabled scripts are not tracked (keepalived drops them); the hung one weighs -25');
  t.deepEqual(s.trackers?.map((x) => `${x.name} ${x.state}`), ['missing disabled', 'noexec disabled', 'open disabled', 'hang failed']);
  // The hung script's processes, read from /proc (not pgrep: under the sanitizer pass LD_PRELOAD puts ASan in every tool started, and pgrep hangs with it).
  const hanging = async (): Promise<string[]> => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (() => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim() === '/bin/sleep 31.25'; } catch { return false; }
  })());
  let most = 0;
  for (let i = 0; i < 12; i++) {
    most = Math.max(most, (await hanging()).length);
    await sleep(250);
  }
  t.is(most, 1, 'a hung run is seen, and each is killed at its timeout before the next starts');
  t.is(lvskit.child.exitCode, null, 'the daemon runs on');
  lvskit.kill('SIGTERM');
  await lvskit.exited;
  t.deepEqual(await hanging(), [], 'a run in flight is killed when the daemon stops');
});
