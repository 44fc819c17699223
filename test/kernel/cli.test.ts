// layer: tests (kernel tier)
// job: the `lvskit` command as a user runs it, against a fresh namespace, with `ip` as the oracle; its conventions where they need a namespace.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createNetns, createVethPair } from '../helpers/netns.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const lvskit = async (...args: string[]) => promisify(execFile)(process.execPath, [cli, ...args]);

test('`lvskit links` lists what `ip link` lists, as a table and as JSON', async (t) => {
  const a = await createNetns(t);
  const b = await createNetns(t);
  await createVethPair(a, b, { deviceA: 'eth1', deviceB: 'eth0' });
  const oracle = JSON.parse(await a.ip('-j', 'link', 'show')) as { ifindex: number; ifname: string; address: string }[];
  const json = JSON.parse((await lvskit('links', '--netns', a.name, '--json')).stdout) as { index: number; name: string; mac: string }[];
  t.deepEqual(json.map((l) => [l.index, l.name, l.mac]), oracle.map((l) => [l.ifindex, l.ifname, l.address]));
  const { stdout } = await lvskit('links', '-n', a.name);
  const lines = stdout.trim().split('\n');
  t.regex(lines[0] ?? '', /^INDEX\s+NAME\s+STATE\s+MAC\s+MTU\s+KIND$/);
  t.regex(stdout, new RegExp(`^${oracle.find((l) => l.ifname === 'eth1')?.ifindex}\\s+eth1\\s+UP\\s+${oracle.find((l) => l.ifname === 'eth1')?.address}\\s+1500\\s+veth$`, 'm'));
});

test('`lvskit addrs` shows a labelled VIP added with ip; --family 4 and -4 (as ip) keep IPv4, -6 IPv6', async (t) => {
  const a = await createNetns(t);
  const b = await createNetns(t);
  await createVethPair(a, b, { deviceA: 'eth1', deviceB: 'eth0' });
  await a.ip('addr', 'add', '123.30.175.40/32', 'dev', 'eth1', 'label', 'eth1:2');
  await a.ip('addr', 'add', '2001:db8::40/128', 'dev', 'eth1', 'nodad');
  const { stdout } = await lvskit('addrs', '-n', a.name, '--family', '4');
  t.regex(stdout, /^eth1\s+123\.30\.175\.40\/32\s+eth1:2\s+global$/m);
  t.notRegex(stdout, /2001:db8::40/);
  t.is((await lvskit('addrs', '-n', a.name, '-4')).stdout, stdout);
  const v6 = (await lvskit('addrs', '-n', a.name, '-6')).stdout;
  t.regex(v6, /^eth1\s+2001:db8::40\/128\s+-\s+global$/m);
  t.notRegex(v6, /123\.30\.175\.40/);
});

test('a missing namespace is a one-line error naming the option and the namespace, before anything is opened', async (t) => {
  const err = await t.throwsAsync(lvskit('links', '-n', 'lvskit-no-such-ns')) as Error & { code?: number; stderr?: string };
  t.is(err.code, 1);
  t.is(err.stderr?.split('\n')[0], 'lvskit: option \'-n, --netns <name>\' argument \'lvskit-no-such-ns\' is invalid. there is no network namespace lvskit-no-such-ns (`ip netns list` shows them)');
});

test('`ipvs apply --dry-run` checks a keepalived.conf and prints its plan, with or without IPVS in the kernel', async (t) => {
  const a = await createNetns(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-dry-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, 'virtual_server 123.30.175.40 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 172.16.16.37 80 {\n    weight 10\n  }\n}\n');
  const { stdout, stderr } = await lvskit('ipvs', 'apply', '--dry-run', file, '-n', a.name);
  t.is(stdout, '+ service TCP 123.30.175.40:80 rr\n+ real server TCP 123.30.175.40:80 -> 172.16.16.37:80 dr weight 10\n');
  // This namespace's table is empty either way; without IPVS the plan says where it comes from.
  t.true(stderr === '' || stderr === '# no IPVS in this kernel (is the ip_vs module loaded?): the plan is from an empty table\n', stderr);
});

test('`vrrp run` with a missing interface: the line that names it, the instance, the interface; nothing runs', async (t) => {
  const a = await createNetns(t);
  const file = missingInterfaceConfig(t);
  const vrrp = await t.throwsAsync(lvskit('vrrp', 'run', '-f', file, '-n', a.name)) as Error & { code?: number; stderr?: string };
  t.is(vrrp.code, 1);
  t.is(vrrp.stderr, `${file}:3:3: error: VI_WEB: interface v0 does not exist in network namespace ${a.name}\nlvskit: ${file}: 1 error; nothing was done\n`);
});

/** A keepalived.conf whose instance names an interface that does not exist (v0, line 3). */
function missingInterfaceConfig(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-vi-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, 'vrrp_instance VI_WEB {\n  state BACKUP\n  interface v0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.5/32\n  }\n}\n');
  return file;
}

test('`lvskit run` with a missing interface: the line, the instance, the interface; exit status 1 (its VRRP thread ends cleanly), nothing runs', async (t) => {
  const a = await createNetns(t);
  const file = missingInterfaceConfig(t);
  for (const thread of [[], ['--no-vrrp-thread']]) {
    const run = await t.throwsAsync(lvskit('run', '-f', file, '-n', a.name, '--control', path.join(path.dirname(file), 'lvskit.sock'), ...thread)) as Error & { code?: number; stderr?: string };
    t.is(run.code, 1, run.stderr);
    // Preflight finds it before anything starts, at the value that names it.
    t.is(run.stderr, `${file}:3:13: error: interface v0 does not exist (vrrp_instance VI_WEB interface): lvskit cannot run this without it\nlvskit run: ${file}: 1 error; not started, nothing changed\n`);
  }
});
