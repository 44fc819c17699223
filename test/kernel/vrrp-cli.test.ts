// layer: tests (kernel tier, root)
// job: `lvskit vrrp run` with the operator's keepalived block (VIP on eth1 with label eth1:2, PASS, sync daemon interface), graceful SIGTERM; invalid settings refused before anything is sent.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { addressesOn, createVrrpLab } from '../helpers/vrrp-lab.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-cli): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const operatorBlock = `# takataka.vn
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  lvs_sync_daemon_interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass pass-for-instance
  }
  track_interface {
    eth0
    eth1
    eth1:2
  }
  virtual_ipaddress {
    123.30.175.40 dev eth1 label eth1:2
  }
  debug
}
`;

function tempFile(t: { teardown(fn: () => void): void }, name: string, text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-vrrp-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

ktest('`lvskit vrrp run -f keepalived.conf`: the operator\'s instance becomes MASTER, VIP on eth1 as eth1:2; SIGTERM releases it', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const lb = lab.balancers[0]!;
  const file = tempFile(t, 'keepalived.conf', operatorBlock);
  const child = spawn(process.execPath, [cli, 'vrrp', 'run', '-f', file, '-n', lb.ns.name], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  // Node's start-up (slow under a sanitizer) is not what is bounded: up to 30 s to print
  // `started`, then Master_Down_Interval (3.6 s here) and a margin to become MASTER.
  for (let i = 0; i < 600 && !/started VI_2/.test(out); i++) await sleep(50);
  for (let i = 0; i < 120 && !out.includes('BACKUP → MASTER'); i++) await sleep(50);
  // The lines that follow the transition: the VIP, its gratuitous ARPs, the sync daemon.
  for (let i = 0; i < 100 && !(out.includes('gratuitous ARP') && out.includes('sync daemon master')); i++) await sleep(50);
  t.regex(out, /VI_2: INIT → BACKUP \(startup, priority 100\)/);
  t.regex(out, /VI_2: BACKUP → MASTER \(master-down, priority 100\)/);
  t.regex(out, /VI_2: add 123\.30\.175\.40\/32 dev eth1 label eth1:2/);
  t.regex(out, /VI_2: 5 × gratuitous ARP for 123\.30\.175\.40 on eth1/);
  t.regex(out, /VI_2: sync daemon master on eth0 \(syncid 52\) — no IPVS client wired here; not done/);
  t.regex(await lb.ns.ip('-4', '-o', 'addr', 'show', 'dev', 'eth1'), /inet 123\.30\.175\.40\/32 scope global eth1:2/);
  const advert = await lab.waitFor((s) => s.kind === 'vrrp' && s.vrid === 52, 2000, 0);
  t.like(advert, { src: lb.ipv4, priority: 100, authData: 'pass-for', ttl: 255 });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.is(await exited, 0);
  t.regex(out, /VI_2: MASTER → STOP \(shutdown, priority 100\)/);
  t.false((await addressesOn(lb.ns, 'eth1')).includes('123.30.175.40'));
  // One priority 0: the signal handler sends it (releaseOnSignal), the stop path does not repeat it.
  t.is(lab.seen.filter((s) => s.kind === 'vrrp' && s.vrid === 52 && s.priority === 0).length, 1);
});

ktest('invalid settings: exit 1 naming the field, nothing on the wire', async (t) => {
  const lab = await createVrrpLab(t, 1);
  const lb = lab.balancers[0]!;
  const json = tempFile(t, 'vrrp.json', JSON.stringify({ instances: [{ name: 'VI_X', interface: 'eth0', vrid: 256, virtualAddresses: [`${lab.net4}.50`] }] }));
  const error = await t.throwsAsync(promisify(execFile)(process.execPath, [cli, 'vrrp', 'run', '-f', json, '-n', lb.ns.name])) as Error & { code?: number; stderr?: string };
  t.is(error.code, 1);
  t.is(error.stderr?.trim(), `lvskit: ${json}: instances[0].vrid: 256 is not an integer in 1..255`);
  const mixed = tempFile(t, 'k.conf', 'vrrp_instance VI_M {\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress {\n    10.1.1.1\n    fd00::1\n  }\n}\n');
  const error2 = await t.throwsAsync(promisify(execFile)(process.execPath, [cli, 'vrrp', 'run', '-f', mixed, '-n', lb.ns.name])) as Error & { code?: number; stderr?: string };
  t.is(error2.code, 1);
  t.is(error2.stderr?.trim(), [
    `${mixed}:6:5: error: vrrp_instance VI_M: virtual_ipaddress mixes IPv4 and IPv6 (put the other family in virtual_ipaddress_excluded)`,
    `lvskit: ${mixed}: 1 error; nothing was done`].join('\n'));
  const missing = tempFile(t, 'm.json', JSON.stringify({ instances: [{ name: 'VI_N', interface: 'eth9', vrid: 9, virtualAddresses: [`${lab.net4}.51`] }] }));
  const error3 = await t.throwsAsync(promisify(execFile)(process.execPath, [cli, 'vrrp', 'run', '-f', missing, '-n', lb.ns.name])) as Error & { code?: number; stderr?: string };
  t.is(error3.stderr?.trim(), `lvskit: ${missing}: instances[0].interface: eth9 does not exist in network namespace ${lb.ns.name}`);
  await sleep(300);
  t.is(lab.seen.length, 0, 'nothing was sent');
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'vrrp', 'check', '-f', tempFile(t, 'ok.conf', operatorBlock)]);
  t.like(JSON.parse(stdout), { instances: [{ name: 'VI_2', vrid: 52, advertIntervalCs: 100, authData: '(8 bytes)' }] });
});
