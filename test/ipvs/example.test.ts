// layer: tests (IPVS tier)
// job: examples/balancer.ts, a program that embeds Balancer through `import ... from 'lvskit'`, run as a user runs it: it becomes MASTER with its service, reloads on SIGHUP, releases everything on SIGTERM.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipvsNetns } from '../helpers/ipvs.js';
import { createNetns, createVethPair } from '../helpers/netns.js';
import { watch } from '../helpers/vrrp-procs.js';

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'balancer.js');

test('the embedding example: MASTER with its VIP, its service and sync daemon; SIGHUP adds a real server; SIGTERM releases everything', async (t) => {
  const x = await ipvsNetns(t);
  t.timeout(120_000);
  await createVethPair(x.ns, await createNetns(t), { deviceA: 'eth0', addressesA: ['192.168.80.1/24'], addressesB: ['192.168.80.2/24'] });
  for (const host of ['127.0.0.21', '127.0.0.22', '127.0.0.23']) {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(18081, host, resolve));
    t.teardown(() => { server.close(); });
  }
  const dir = fs.mkdtempSync('/var/tmp/lvskit-example-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const settings = path.join(dir, 'settings.json');
  const write = (realServers: string[]): void => fs.writeFileSync(settings, JSON.stringify({
    interface: 'eth0', vip: '192.168.80.100', priority: 150, port: 18081, realServers, netns: x.ns.name,
  }));
  write(['127.0.0.21', '127.0.0.22']);
  const child = spawn(process.execPath, [example, settings], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = watch('example', child, () => child.pid);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const message = (re: RegExp) => (l: { json?: Record<string, unknown> }): boolean => re.test(String(l.json?.message ?? ''));
  await proc.waitFor(message(/^running$/), 60_000);
  await proc.waitFor(message(/^web: BACKUP → MASTER/), 10_000, true);
  const table = async (): Promise<string> => (await x.ipvsadm('-Ln')).replace(/ +/g, ' ').replace(/ \n/g, '\n');
  t.regex(await table(), /TCP 192\.168\.80\.100:18081 rr\n -> 127\.0\.0\.21:18081 Route 10 0 0\n -> 127\.0\.0\.22:18081 Route 10 0 0/);
  t.regex(await x.ns.ip('-4', 'addr', 'show', 'dev', 'eth0'), /192\.168\.80\.100\/32 scope global eth0:1/);
  t.regex(await x.ipvsadm('-L', '--daemon'), /master sync daemon \(mcast=eth0, syncid=51/);
  write(['127.0.0.21', '127.0.0.22', '127.0.0.23']);
  child.kill('SIGHUP');
  await proc.waitFor(message(/^reloaded: .*IPVS 1 operation/), 20_000);
  t.regex(await table(), /-> 127\.0\.0\.23:18081 Route 10 0 0/);
  child.kill('SIGTERM');
  await proc.exited;
  t.is(child.exitCode, 0, proc.lines.map((l) => l.text).join('\n'));
  t.notRegex(await x.ns.ip('-4', 'addr', 'show', 'dev', 'eth0'), /192\.168\.80\.100/);
  t.notRegex(await table(), /192\.168\.80\.100/);
});
