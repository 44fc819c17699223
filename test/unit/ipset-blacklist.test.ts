// layer: tests (unit)
// job: the static_blacklist file: parsing with file:line:column errors, fitting to a set, atomic writes (mode, no symlinks).
import test from 'ava';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  BlacklistFileError, fitBlacklist, formatBlacklist, formatProblem, parseBlacklist, readBlacklistFile, writeBlacklistFile,
} from '../../src/ipset/blacklist-file.js';

const sample = [
  '# static_blacklist, written by ipvs_overlimit.sh',
  '203.0.113.7',
  '  198.51.100.0/24   # a whole network',
  '',
  '10.1.2.3/8',
  '192.0.2.1/32',
  '2001:DB8:0:0::1',
  '2001:db8::/32',
  '\t# indented comment',
  '192.0.2.300',
  '10.0.0.0/0',
  '10.0.0.0/33',
  '1.2.3.4 5.6.7.8',
  'fe80::1%eth0',
  'example.com',
  '198.51.100.9\r',
].join('\n');

test('entries are normalized: network address, /32 as an address, RFC 5952 IPv6, CRLF and comments ignored', (t) => {
  const { entries } = parseBlacklist(sample, 'static_blacklist');
  t.deepEqual(entries, [
    { address: '203.0.113.7', line: 2 },
    { address: '198.51.100.0', cidr: 24, line: 3 },
    { address: '10.0.0.0', cidr: 8, line: 5 },
    { address: '192.0.2.1', line: 6 },
    { address: '2001:db8::1', line: 7 },
    { address: '2001:db8::', cidr: 32, line: 8 },
    { address: '198.51.100.9', line: 16 },
  ]);
});

test('bad lines are reported with file:line:column and the offending text', (t) => {
  const { problems } = parseBlacklist(sample, '/etc/itim/firewall/static_blacklist');
  t.deepEqual(problems.map(formatProblem), [
    '/etc/itim/firewall/static_blacklist:10:1: not an IPv4 or IPv6 address or CIDR: "192.0.2.300"',
    '/etc/itim/firewall/static_blacklist:11:1: prefix length 0 would match every address: "10.0.0.0/0"',
    '/etc/itim/firewall/static_blacklist:12:1: prefix length must be 1…32: "10.0.0.0/33"',
    '/etc/itim/firewall/static_blacklist:13:9: one address or CIDR per line; unexpected text after it: "5.6.7.8"',
    '/etc/itim/firewall/static_blacklist:14:1: not an IPv4 or IPv6 address or CIDR: "fe80::1%eth0"',
    '/etc/itim/firewall/static_blacklist:15:1: not an IPv4 or IPv6 address or CIDR: "example.com"',
  ]);
  t.is(problems[0]?.line, 10);
});

test('entries that do not fit the set become problems: other family, networks in hash:ip', (t) => {
  const parsed = parseBlacklist(sample, 'bl');
  const fitted = fitBlacklist(parsed, { type: 'hash:ip', family: 'inet' });
  t.deepEqual(fitted.entries.map((e) => e.line), [2, 6, 16]);
  const extra = fitted.problems.filter((p) => !parsed.problems.includes(p)).map(formatProblem);
  t.deepEqual(extra, [
    'bl:3:1: hash:ip holds single addresses; a network needs a hash:net set: "198.51.100.0/24"',
    'bl:5:1: hash:ip holds single addresses; a network needs a hash:net set: "10.0.0.0/8"',
    'bl:7:1: a hash:ip set of family inet holds IPv4 addresses only: "2001:db8::1"',
    'bl:8:1: a hash:ip set of family inet holds IPv4 addresses only: "2001:db8::/32"',
  ]);
  t.deepEqual(fitted.problems.map((p) => p.line), [...fitted.problems.map((p) => p.line)].sort((a, b) => a - b));
  const v6 = fitBlacklist(parsed, { type: 'hash:net', family: 'inet6' });
  t.deepEqual(v6.entries.map((e) => e.line), [7, 8]);
});

test('BlacklistFileError lists every problem (up to 10, then a count) and says nothing changed', (t) => {
  const many = Array.from({ length: 12 }, (_, i) => `bad${i}`).join('\n');
  const { problems } = parseBlacklist(many, 'f');
  const err = new BlacklistFileError('f', problems);
  const lines = err.message.split('\n');
  t.is(lines[0], 'f: 12 invalid lines; nothing changed (use --skip-invalid to load the rest)');
  t.is(lines[1], 'f:1:1: not an IPv4 or IPv6 address or CIDR: "bad0"');
  t.is(lines.at(-1), '… and 2 more');
  t.is(err.problems.length, 12);
});

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lvskit-bl-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test.serial('writeBlacklistFile writes atomically with mode 0644 whatever the umask, and reads back the same', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'static_blacklist');
  await fs.writeFile(file, 'old\n', { mode: 0o600 });
  const old = process.umask(0o077);
  try {
    await writeBlacklistFile(file, [{ address: '203.0.113.7' }, { address: '10.0.0.0', cidr: 8 }, { address: '2001:db8::', cidr: 32 }], ['saved by a test']);
  } finally {
    process.umask(old);
  }
  t.is(await fs.readFile(file, 'utf8'), '# saved by a test\n203.0.113.7\n10.0.0.0/8\n2001:db8::/32\n');
  t.is((await fs.stat(file)).mode & 0o777, 0o644);
  t.deepEqual(await fs.readdir(dir), ['static_blacklist'], 'no temporary file left behind');
  const back = await readBlacklistFile(file);
  t.deepEqual(back.entries.map((e) => formatBlacklist([e]).trim()), ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32']);
  t.deepEqual(back.problems, []);
});

test('a symbolic link at the target is refused, and its target is not written', async (t) => {
  const dir = await tempDir(t);
  const victim = path.join(dir, 'victim');
  await fs.writeFile(victim, 'precious\n');
  const link = path.join(dir, 'static_blacklist');
  await fs.symlink(victim, link);
  const err = await t.throwsAsync(writeBlacklistFile(link, [{ address: '1.2.3.4' }]));
  t.like(err, { code: 'ELOOP', syscall: 'open', path: link });
  t.is(await fs.readFile(victim, 'utf8'), 'precious\n');
  t.true((await fs.lstat(link)).isSymbolicLink());
  t.deepEqual((await fs.readdir(dir)).sort(), ['static_blacklist', 'victim']);
});

test('a failed write leaves the old file and no temporary file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'static_blacklist');
  await fs.writeFile(file, 'old\n');
  await fs.mkdir(path.join(dir, 'sub'));
  // Renaming a file over a directory fails (EISDIR): the temporary file must be removed.
  const err = await t.throwsAsync(writeBlacklistFile(path.join(dir, 'sub'), [{ address: '1.2.3.4' }]));
  t.like(err, { code: 'EISDIR', path: path.join(dir, 'sub') });
  t.deepEqual((await fs.readdir(dir)).sort(), ['static_blacklist', 'sub']);
  t.is(await fs.readFile(file, 'utf8'), 'old\n');
});
