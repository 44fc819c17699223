// layer: tests (kernel tier, root)
// job: notify_fifo with keepalived 2.2.7 as the oracle: the same configuration and the same transitions (start, MASTER,
//      link down → FAULT, up → MASTER, stop) under keepalived and under lvskit run; the FIFO readers get the same lines;
//      startup_script and shutdown_script run once each.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { createNetns, kernelTierUnavailable, run, type Netns } from '../helpers/netns.js';
import { keepalivedEntered, startKeepalived, type Line, type Speaker } from '../helpers/vrrp-procs.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (notify-fifo): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

function conf(fifo: string, script: string): string {
  return `global_defs {
  router_id rou
  notify_fifo ${fifo}
  startup_script "${script} up"
  shutdown_script "${script} down"
  script_user root
}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 71
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.77.0.100
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 72
  priority 90
  advert_int 1
  virtual_ipaddress {
    10.77.0.101
  }
}
`;
}

interface Side {
  ns: Netns;
  dir: string;
  fifo: string;
  lines: string[];
  scriptLog: string;
}

/** A namespace with `eth0` (a veth inside it), a FIFO read by `cat`, and a start/stop script that logs its argument. */
async function side(t: ExecutionContext): Promise<Side> {
  const ns = await createNetns(t);
  await ns.ip('link', 'add', 'name', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
  await ns.ip('link', 'set', 'eth0p', 'up');
  await ns.ip('link', 'set', 'eth0', 'up');
  await ns.ip('addr', 'add', '10.77.0.1/24', 'dev', 'eth0');
  const dir = mkdtempSync('/var/tmp/lvskit-fifo-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'notify.fifo');
  await run(['mkfifo', '-m', '600', fifo]);
  const scriptLog = path.join(dir, 'script.log');
  writeFileSync(path.join(dir, 'script.sh'), `#!/bin/sh\necho "$1" >> ${scriptLog}\n`);
  chmodSync(path.join(dir, 'script.sh'), 0o755);
  const lines: string[] = [];
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let rest = '';
  reader.stdout.setEncoding('utf8').on('data', (d: string) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  t.teardown(() => { reader.kill('SIGKILL'); });
  return { ns, dir, fifo, lines, scriptLog };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The same steps for either speaker: MASTER, link down (FAULT), up (MASTER again), stop. */
async function drive(s: Side, speaker: Speaker, masters: () => Promise<unknown>): Promise<void> {
  await masters();
  await until(() => s.lines.filter((l) => l === 'GROUP "G1" MASTER 0').length === 1, 10_000, 'GROUP MASTER');
  await s.ns.ip('link', 'set', 'eth0', 'down');
  await until(() => s.lines.includes('GROUP "G1" FAULT 0'), 10_000, 'GROUP FAULT');
  await s.ns.ip('link', 'set', 'eth0', 'up');
  await until(() => s.lines.filter((l) => l === 'GROUP "G1" MASTER 0').length === 2, 15_000, 'GROUP MASTER again');
  speaker.kill('SIGTERM');
  await speaker.exited;
  await until(() => s.lines.includes('GROUP "G1" STOP 0'), 5000, 'GROUP STOP');
}

/** Each instance's lines and the group's, in order (how the two interleave is not compared). */
function byOwner(lines: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of lines) (out[/^(\w+ "[^"]+")/.exec(l)?.[1] ?? l] ??= []).push(l);
  return out;
}

ktest('notify_fifo lines and start/stop scripts: lvskit run writes what keepalived 2.2.7 writes for the same transitions', async (t) => {
  const [ka, lv] = [await side(t), await side(t)];
  writeFileSync(path.join(ka.dir, 'keepalived.conf'), conf(ka.fifo, path.join(ka.dir, 'script.sh')));
  const keepalived = startKeepalived(t, ka.ns, readFileSync(path.join(ka.dir, 'keepalived.conf'), 'utf8'));
  const files = daemonFiles(t, { 'keepalived.conf': conf(lv.fifo, path.join(lv.dir, 'script.sh')) });
  const lvskit = startDaemon(t, lv.ns, files);
  const lvMaster = (i: string) => logged('vrrp', 'transition', (j) => j.instance === i && j.to === 'MASTER');
  await Promise.all([
    drive(ka, keepalived, () => Promise.all([keepalived.waitFor(keepalivedEntered('VI_1', 'MASTER'), 15_000), keepalived.waitFor(keepalivedEntered('VI_2', 'MASTER'), 15_000)])),
    drive(lv, lvskit, () => Promise.all([lvskit.waitFor(lvMaster('VI_1') as (l: Line) => boolean, 15_000), lvskit.waitFor(lvMaster('VI_2') as (l: Line) => boolean, 15_000)])),
  ]);
  t.log('keepalived:', ka.lines);
  t.log('lvskit:', lv.lines);
  t.deepEqual(byOwner(lv.lines), byOwner(ka.lines));
  t.deepEqual([...lv.lines].sort(), [...ka.lines].sort());
  t.deepEqual(readFileSync(lv.scriptLog, 'utf8'), readFileSync(ka.scriptLog, 'utf8'));
  t.is(readFileSync(lv.scriptLog, 'utf8'), 'up\ndown\n');
});
