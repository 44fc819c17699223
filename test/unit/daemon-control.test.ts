// layer: tests (unit)
// job: the control socket: mode 0600 in a 0700 directory, one request one answer, refusals with diagnostics carried, a live daemon never displaced, a stale socket replaced, anything else refused.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ControlError, ControlServer, controlRequest } from '../../src/daemon/control.js';
import { ConfigError } from '../../src/config/diagnostics.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-control-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'run', 'lvskit.sock');
}

test('status and a refused reload: answers and diagnostics cross; the socket is 0600 in a 0700 directory', async (t) => {
  const file = tmp(t);
  const server = await ControlServer.open(file, async (r) => {
    if (r.command === 'status') return { pid: 42, big: 2n ** 70n };
    throw new ConfigError([{ severity: 'error', code: 'invalid-value', message: 'priority 300 is out of range', location: { file: 'k.conf', line: 3, column: 5 } }]);
  });
  t.teardown(() => server.close());
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.is(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  t.deepEqual(await controlRequest(file, { command: 'status' }), { pid: 42, big: (2n ** 70n).toString() });
  const error = await t.throwsAsync(controlRequest(file, { command: 'reload' }), { instanceOf: ControlError });
  t.regex(error!.message, /k\.conf:3:5: priority 300/);
  t.is(error!.diagnostics?.[0]?.location.line, 3);
});

test('a second daemon on a live socket is refused; a stale socket is replaced; a file that is not a socket is never removed', async (t) => {
  const file = tmp(t);
  const first = await ControlServer.open(file, async () => 'first');
  await t.throwsAsync(ControlServer.open(file, async () => 'second'), { message: /another lvskit daemon answers/ });
  t.is(await controlRequest(file, { command: 'status' }), 'first');
  // Stale: the socket of a daemon that was SIGKILLed (nobody listens on it any more).
  const stale = path.join(path.dirname(file), 'stale.sock');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
  await new Promise((r) => child.stdout.once('data', r));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.true(fs.lstatSync(stale).isSocket());
  const second = await ControlServer.open(stale, async () => 'second');
  t.is(await controlRequest(stale, { command: 'status' }), 'second');
  await second.close();
  const plain = path.join(path.dirname(file), 'plain');
  fs.writeFileSync(plain, 'keep me');
  await t.throwsAsync(ControlServer.open(plain, async () => 'x'), { message: /not a socket/ });
  t.is(fs.readFileSync(plain, 'utf8'), 'keep me');
  await first.close();
  t.false(fs.existsSync(file), 'closing removes the socket');
});

test('no daemon: a clear error naming the socket', async (t) => {
  const file = tmp(t);
  await t.throwsAsync(controlRequest(file, { command: 'status' }), { instanceOf: ControlError, message: /lvskit\.sock: no lvskit daemon is running there/ });
});

test('garbage on the socket gets an error answer, not a crash', async (t) => {
  const file = tmp(t);
  const server = await ControlServer.open(file, async () => 'ok');
  t.teardown(() => server.close());
  const answer = await new Promise<string>((resolve) => {
    const c = net.connect(file, () => c.write('not json\n'));
    let text = '';
    c.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve(text));
  });
  t.like(JSON.parse(answer), { ok: false, error: { message: 'the request is not JSON' } });
  t.is(await controlRequest(file, { command: 'status' }), 'ok');
});
