// layer: tests (unit)
// job: the files and sockets lvskit makes as root, as keepalived's CVEs taught: no symlink followed (pid file, restart note, static_blacklist), atomic writes with their modes, a root-only control socket, a metrics listener only where configured.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlServer } from '../../src/daemon/control.js';
import { writeRestartNote } from '../../src/daemon/restart-state.js';
import { StatusHttpServer } from '../../src/daemon/status-http.js';
import { AutobanRunner } from '../../src/autoban/runner.js';
import { writeBlacklistFile } from '../../src/ipset/blacklist-file.js';
import { SafeWriteError, writeFileAtomic, writeFileAtomicSync } from '../../src/safe-file.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** A private directory with a victim file (what an attacker's symlink points at) and a link to it. */
function lab(t: { teardown(fn: () => void): void }): { dir: string; victim: string; link: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-sec-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'root:x:0:0:victim\n', { mode: 0o600 });
  const link = path.join(dir, 'link');
  fs.symlinkSync(victim, link);
  return { dir, victim, link };
}

function untouched(t: { is(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, l: { dir: string; victim: string; link: string }): void {
  t.is(fs.readFileSync(l.victim, 'utf8'), 'root:x:0:0:victim\n', 'the victim is untouched');
  t.is(fs.statSync(l.victim).mode & 0o777, 0o600, 'its mode too');
  t.true(fs.lstatSync(l.link).isSymbolicLink(), 'the link is left as it was');
  t.is(fs.readdirSync(l.dir).filter((n) => n.endsWith('.tmp')).length, 0, 'no temporary file left');
}

test('an atomic write through a symlink is refused with ELOOP naming the path; the victim is untouched', (t) => {
  const l = lab(t);
  const error = t.throws(() => writeFileAtomicSync(l.link, 'attacker\n', 0o644), { instanceOf: SafeWriteError });
  t.like(error, { code: 'ELOOP', errno: 40, syscall: 'open', path: l.link });
  t.true(error!.message.includes(`${l.link}: is a symbolic link`), error!.message);
  untouched(t, l);
});

test('an atomic write replaces the file whole with its mode whatever the umask, and never reuses a planted temporary name', (t) => {
  const { dir } = lab(t);
  const file = path.join(dir, 'state');
  const umask = process.umask(0o000);
  try {
    writeFileAtomicSync(file, 'one\n', 0o600);
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    const before = fs.statSync(file).ino;
    writeFileAtomicSync(file, 'two\n', 0o644);
    t.is(fs.readFileSync(file, 'utf8'), 'two\n');
    t.is(fs.statSync(file).mode & 0o777, 0o644);
    t.not(fs.statSync(file).ino, before, 'a new inode renamed into place, not the old one truncated');
  } finally {
    process.umask(umask);
  }
  t.deepEqual(fs.readdirSync(dir).sort(), ['link', 'state', 'victim']);
});

test('the restart note is not written through a symlink', (t) => {
  const l = lab(t);
  t.throws(() => writeRestartNote(l.link, [{ name: 'VI_1', vrid: 1, interface: 'eth0', windowMs: 1000 }]), { code: 'ELOOP', message: new RegExp(`${l.link}: is a symbolic link`) });
  untouched(t, l);
  const note = path.join(l.dir, 'lvskit.restart');
  writeRestartNote(note, []);
  t.is(fs.statSync(note).mode & 0o777, 0o600);
});

test('static_blacklist is not written through a symlink: neither by `lvskit ipset` (writeBlacklistFile) nor by the autoban', async (t) => {
  const l = lab(t);
  const refused = { instanceOf: SafeWriteError, code: 'ELOOP', message: new RegExp(`${l.link}: is a symbolic link`) };
  await t.throwsAsync(writeFileAtomic(l.link, '198.51.100.7\n', 0o644), refused);
  await t.throwsAsync(writeBlacklistFile(l.link, [{ address: '198.51.100.7' }]), refused);
  // The autoban with its own file writer: the ban is made, the file is not written, the error names the link.
  const bans: string[] = [];
  const runner = new AutobanRunner({
    policy: { threshold: 100 }, staticBlacklist: l.link,
    source: { kind: 'procfs', overThreshold: async () => [{ address: '198.51.100.7', count: 150 }] },
    sink: { ban: async (address) => { bans.push(address); }, close: () => undefined },
  });
  const errors: Error[] = [];
  runner.on('error', (e) => errors.push(e));
  await runner.runOnce();
  t.deepEqual(bans, ['198.51.100.7']);
  t.like(errors[0], { code: 'ELOOP', path: l.link });
  t.is(runner.counters.blacklistWrites, 0);
  untouched(t, l);
});

test.serial('the non-blocking atomic write: mode whatever the umask, a new inode, no temporary file left when the rename fails', async (t) => {
  const { dir } = lab(t);
  const file = path.join(dir, 'static_blacklist');
  const umask = process.umask(0o077);
  try {
    await writeFileAtomic(file, 'one\n', 0o644);
    t.is(fs.statSync(file).mode & 0o777, 0o644);
    const before = fs.statSync(file).ino;
    await writeFileAtomic(file, 'two\n', 0o600);
    t.is(fs.readFileSync(file, 'utf8'), 'two\n');
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    t.not(fs.statSync(file).ino, before);
  } finally {
    process.umask(umask);
  }
  fs.mkdirSync(path.join(dir, 'sub'));
  await t.throwsAsync(writeFileAtomic(path.join(dir, 'sub'), 'x\n', 0o644), { instanceOf: SafeWriteError, code: 'EISDIR', message: new RegExp(`${dir}/sub: not written: EISDIR`) });
  t.deepEqual(fs.readdirSync(dir).sort(), ['link', 'static_blacklist', 'sub', 'victim']);
});

test('lvskit run with its pid file a symlink refuses to start, names the path, and leaves the victim untouched', async (t) => {
  const l = lab(t);
  const conf = path.join(l.dir, 'keepalived.conf');
  fs.writeFileSync(conf, 'global_defs {\n  router_id lb1\n}\n');
  const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'run', '-f', conf, '--control', path.join(l.dir, 'run', 'lvskit.sock'), '--pid-file', l.link], { timeout: 30_000 },
      (error, _stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code) : 0, stderr }));
  });
  t.not(result.code, 0);
  t.regex(result.stderr, new RegExp(`${l.link}: is a symbolic link; refusing`));
  untouched(t, l);
  t.false(fs.existsSync(path.join(l.dir, 'run', 'lvskit.sock')), 'refused before the control socket was made');
});

test('the control socket is 0600 and refuses a directory others can write, naming it; an existing directory is not changed', async (t) => {
  const { dir } = lab(t);
  const open = path.join(dir, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  await t.throwsAsync(ControlServer.open(path.join(open, 'lvskit.sock'), async () => 'x'), { message: new RegExp(`${open}: the control socket's directory is writable by group or others \\(mode 0777\\)`) });
  t.is(fs.statSync(open).mode & 0o777, 0o777);
  t.false(fs.existsSync(path.join(open, 'lvskit.sock')));
  fs.chmodSync(open, 0o770);
  await t.throwsAsync(ControlServer.open(path.join(open, 'lvskit.sock'), async () => 'x'), { message: /writable by group or others \(mode 0770\)/ });
  fs.chmodSync(open, 0o755);
  const server = await ControlServer.open(path.join(open, 'lvskit.sock'), async () => 'x');
  t.teardown(() => server.close());
  t.is(fs.statSync(path.join(open, 'lvskit.sock')).mode & 0o777, 0o600);
});

test('the metrics listener binds only the address it is given: on 127.0.0.1 it cannot be reached at another address of the host', async (t) => {
  const http = await StatusHttpServer.open({ host: '127.0.0.1', port: 0 });
  t.teardown(() => http.close());
  t.is(http.address.host, '127.0.0.1');
  const connect = (host: string): Promise<string> => new Promise((resolve) => {
    const s = net.connect(http.address.port, host);
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  t.is(await connect('127.0.0.1'), 'connected');
  t.is(await connect('127.0.0.2'), 'ECONNREFUSED', 'another loopback address of this host is refused');
});
