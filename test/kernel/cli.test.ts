// layer: tests (kernel tier)
// job: the `lvskit` command as a user runs it, against a fresh namespace, with `ip` as the oracle.
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

test('`lvskit addrs` shows a labelled VIP added with ip', async (t) => {
  const a = await createNetns(t);
  const b = await createNetns(t);
  await createVethPair(a, b, { deviceA: 'eth1', deviceB: 'eth0' });
  await a.ip('addr', 'add', '123.30.175.40/32', 'dev', 'eth1', 'label', 'eth1:2');
  const { stdout } = await lvskit('addrs', '-n', a.name, '-f', '4');
  t.regex(stdout, /^eth1\s+123\.30\.175\.40\/32\s+eth1:2\s+global$/m);
});

test('a missing namespace is a one-line error naming it, with exit status 1', async (t) => {
  const err = await t.throwsAsync(lvskit('links', '-n', 'lvskit-no-such-ns')) as Error & { code?: number; stderr?: string };
  t.is(err.code, 1);
  t.is(err.stderr?.trim(), 'lvskit: open failed: ENOENT (No such file or directory) (network namespace /var/run/netns/lvskit-no-such-ns) [ENOENT, open]');
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
    t.is(run.stderr, `${file}:3:3: error: VI_WEB: interface v0 does not exist\nlvskit run: ${file}: 1 error; not started, nothing changed\n`);
  }
});
