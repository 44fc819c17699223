// layer: tests (IPVS tier)
// job: notify_fifo's checker lines with keepalived 2.2.7 as the oracle: the same virtual server and real servers (one
//      listening, one not; the first then closed and reopened) under keepalived --check and under lvskit's Balancer, each in
//      its own namespace; the FIFO readers get the same `VS …` / `RS …` lines.
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigText } from '../../src/config/index.js';
import { Balancer } from '../../src/daemon/balancer.js';
import { ipvsNetns } from '../helpers/ipvs.js';
import { createNetns, run, type Netns } from '../helpers/netns.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function conf(fifo: string): string {
  const rs = (port: number): string => `  real_server 127.0.0.1 ${port} {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n`;
  return `global_defs {\n  router_id lvsfifo\n  notify_fifo ${fifo}\n}\n
virtual_server 10.9.9.9 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${rs(8080)}${rs(8081)}}\n`;
}

/** A FIFO and a `cat` reading it: the lines it got. */
async function fifoReader(t: ExecutionContext, dir: string): Promise<{ fifo: string; lines: string[] }> {
  const fifo = path.join(dir, 'notify.fifo');
  await run(['mkfifo', '-m', '600', fifo]);
  const lines: string[] = [];
  const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let rest = '';
  cat.stdout.setEncoding('utf8').on('data', (d: string) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  t.teardown(() => { cat.kill('SIGKILL'); });
  return { fifo, lines };
}

/** A TCP listener on 127.0.0.1:PORT in `ns` (or this namespace), as a process of its own so it can be closed from outside. */
function listener(t: ExecutionContext, port: number, ns?: Netns): ChildProcess {
  const js = `require('net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1')`;
  const child = ns ? spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', js], { stdio: 'ignore' })
    : spawn(process.execPath, ['-e', js], { stdio: 'ignore' });
  t.teardown(() => { child.kill('SIGKILL'); });
  return child;
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

/** Lines by the virtual server they are about, in order. */
function byVs(lines: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of lines) (out[l.split(' ').at(-2) ?? l] ??= []).push(l);
  return out;
}

test.serial('notify_fifo checker lines: lvskit writes what keepalived 2.2.7 writes for the same real-server changes', async (t) => {
  t.timeout(180_000);
  const dir = mkdtempSync('/var/tmp/lvskit-lvsfifo-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kaDir = path.join(dir, 'ka');
  const lvDir = path.join(dir, 'lv');
  for (const d of [kaDir, lvDir]) await run(['mkdir', '-p', d]);
  const ka = await fifoReader(t, kaDir);
  const lv = await fifoReader(t, lvDir);

  // keepalived's checker in a namespace of its own (its IPVS table and its 127.0.0.1 are that namespace's).
  const kaNs = await createNetns(t);
  writeFileSync(path.join(kaDir, 'keepalived.conf'), conf(ka.fifo));
  let kaUp = listener(t, 8080, kaNs);
  const keepalived = spawn('ip', ['netns', 'exec', kaNs.name, 'keepalived', '--check', '--dont-fork', '--no-syslog', '-f', path.join(kaDir, 'keepalived.conf'),
    '-p', path.join(kaDir, 'k.pid'), '-c', path.join(kaDir, 'c.pid')], { stdio: 'ignore' });
  t.teardown(() => { if (keepalived.exitCode === null) keepalived.kill('SIGKILL'); });

  // lvskit's Balancer: IPVS in its namespace, the checks from this one (as lvskit run does).
  const x = await ipvsNetns(t);
  let lvUp = listener(t, 8080);
  const b = await Balancer.open({ config: parseConfigText(conf(lv.fifo), { file: 'keepalived.conf' }).config, file: 'keepalived.conf', netns: x.ns.name });
  t.teardown(() => b.stop('graceful'));
  await b.start();

  const has = (s: { lines: string[] }, line: string, n = 1): boolean => s.lines.filter((l) => l === line).length >= n;
  const down8081 = 'RS [127.0.0.1]:tcp:8081 [10.9.9.9]:tcp:80 DOWN';
  await until('8081 DOWN in both', () => has(ka, down8081) && has(lv, down8081), 30_000);
  kaUp.kill('SIGKILL');
  lvUp.kill('SIGKILL');
  await until('VS DOWN in both', () => has(ka, 'VS [10.9.9.9]:tcp:80 DOWN') && has(lv, 'VS [10.9.9.9]:tcp:80 DOWN'), 30_000);
  kaUp = listener(t, 8080, kaNs);
  lvUp = listener(t, 8080);
  await until('VS UP again in both', () => has(ka, 'VS [10.9.9.9]:tcp:80 UP', 2) && has(lv, 'VS [10.9.9.9]:tcp:80 UP', 2), 30_000);
  keepalived.kill('SIGTERM');
  await b.stop('graceful');
  await sleep(1000);
  t.log('keepalived:', ka.lines);
  t.log('lvskit:', lv.lines);
  t.deepEqual(byVs(lv.lines), byVs(ka.lines));
  t.deepEqual(lv.lines, [
    'VS [10.9.9.9]:tcp:80 UP',
    down8081,
    'RS [127.0.0.1]:tcp:8080 [10.9.9.9]:tcp:80 DOWN',
    'VS [10.9.9.9]:tcp:80 DOWN',
    'RS [127.0.0.1]:tcp:8080 [10.9.9.9]:tcp:80 UP',
    'VS [10.9.9.9]:tcp:80 UP',
  ]);
});
