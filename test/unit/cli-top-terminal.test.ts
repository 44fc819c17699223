// layer: tests (unit)
// job: `lvskit top` on a terminal (util-linux `script` gives it one) against a stand-in daemon on a control socket: the alternate screen, frames redrawn in place with rates once there are 2 s of counters, and q or Ctrl-C quitting at once with the terminal put back.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlServer } from '../../src/daemon/control.js';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { CLI } from '../helpers/cli.js';

const noScript = spawnSync('script', ['--version']).error !== undefined;
const ttest = noScript ? test.skip : test;
if (noScript) console.warn('SKIPPING lvskit top terminal tests: no `script` (util-linux) here');

/** A stand-in daemon whose real server takes 5 connections at each status request. */
async function standIn(t: ExecutionContext): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-top-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let conns = 0;
  const status = (): BalancerStatus => {
    conns += 5;
    const traffic = { connections: conns, packetsIn: conns * 6, packetsOut: conns * 4, bytesIn: conns * 1000, bytesOut: conns * 2000,
      connectionsPerSec: 0, packetsInPerSec: 0, packetsOutPerSec: 0, bytesInPerSec: 0, bytesOutPerSec: 0 };
    return {
      pid: 77, config: 'keepalived.conf', startedAtMs: Date.now() - 5000, reloads: 0, reloadFailures: 0,
      instances: [{ name: 'VI_1', state: 'MASTER', priority: 150, vrid: 51, interface: 'eth0', masterAdverIntervalCs: 100, stats: {} as never, vips: ['10.0.0.1'] }],
      services: [{ name: 'TCP 10.0.0.1:80', scheduler: 'rr', present: true, traffic, realServers: [{ address: '10.0.1.1', port: 80, kernelWeight: 3, activeConns: 1, inactiveConns: 2, traffic }] }],
    };
  };
  const file = path.join(dir, 'lvskit.sock');
  const server = await ControlServer.open(file, async (r) => (r.command === 'status' ? status() : []));
  t.teardown(() => server.close());
  return file;
}

/** `lvskit top` on a 160×20 terminal; `key` typed once a frame with rates is on it. Its output, exit code, and the time from the key to the exit. */
function onTerminal(control: string, key: string): Promise<{ out: string; code: number | null; quitMs: number }> {
  const command = `stty rows 20 cols 160; exec ${process.execPath} ${CLI} top --control ${control} --interval 500ms`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let typedAt = 0;
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d.replaceAll('\r\n', '\n');
    if (!typedAt && /rates over 2\.\ds/.test(out)) {
      typedAt = performance.now();
      child.stdin.write(key);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(killer);
    resolve({ out, code, quitMs: typedAt ? performance.now() - typedAt : Infinity });
  }));
}

for (const [name, key] of [['q', 'q'], ['Ctrl-C', '\x03']] as const) {
  ttest(`on a terminal: frames in place on the alternate screen, rates after 2 s; ${name} quits at once and puts the terminal back`, async (t) => {
    const { out, code, quitMs } = await onTerminal(await standIn(t), key);
    t.is(code, 0, out);
    t.true(out.startsWith('\x1b[?1049h\x1b[?25l'), 'the alternate screen, the cursor hidden');
    t.true(out.endsWith('\x1b[?25h\x1b[?1049l'), `the cursor and the screen put back: ${JSON.stringify(out.slice(-40))}`);
    const frames = out.split('\x1b[H').slice(1);
    t.true(frames.length >= 5, `redrawn at each refresh: ${frames.length}`);
    t.regex(frames[0]!, /rates: after 2s {2}every 0\.5s, q quits/);
    const last = frames.at(-1)!.replaceAll('\x1b[K', '');
    // 5 connections per reading, 4 readings in 2 s: about 10 a second (the span is 2 s give or take the answers' time).
    t.regex(last, /^ {2}-> 10\.0\.1\.1:80 +- +3 +1 +2 +(9\.\d|1[01]) +\d+ +\d+ +(9\.\d|1[01])K +\d+K$/m);
    t.regex(last, /^ {2}VI_1 +MASTER +150 +51 +eth0 +\(this\) +10\.0\.0\.1$/m);
    t.true(quitMs < 1000, `quit ${Math.round(quitMs)} ms after the key`);
  });
}
