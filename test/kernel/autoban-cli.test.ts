// layer: tests (kernel tier)
// job: `lvskit autoban --once` and `lvskit conns top` end to end: a table in the kernel's format, bans into a real ipset (ipset is the oracle), static_blacklist.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connsFor, procRow, PROC_HEADER } from '../helpers/conns-fixtures.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { lvskit } from '../helpers/cli.js';

/** Members of a set as `ipset list` prints them: address → timeout (or -1 without one). */
async function members(ns: Netns, set: string): Promise<Map<string, number>> {
  const text = await ns.exec(['ipset', 'list', set]);
  const out = new Map<string, number>();
  for (const line of text.split('\n').slice(text.split('\n').indexOf('Members:') + 1)) {
    const m = /^(\S+)(?: timeout (\d+))?/.exec(line);
    if (m) out.set(m[1] as string, m[2] === undefined ? -1 : Number(m[2]));
  }
  return out;
}

async function setUp(t: ExecutionContext): Promise<{ ns: Netns; table: string; blacklist: string }> {
  const ns = await createNetns(t);
  await ns.exec(['ipset', 'create', 'autoban', 'hash:ip', 'timeout', '0']);
  await ns.exec(['ipset', 'create', 'autoban6', 'hash:ip', 'family', 'inet6', 'timeout', '0']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-autoban-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conns = connsFor([
    { address: '198.18.0.1', states: { ESTABLISHED: 150, TIME_WAIT: 3 } },
    { address: '198.18.0.2', states: { ESTABLISHED: 100, SYN_RECV: 40 } },
    { address: '10.1.2.3', states: { ESTABLISHED: 300 } },
    { address: '2001:db8::66', states: { ESTABLISHED: 101 } },
    { address: '198.18.0.3', states: { ESTABLISHED: 5 } },
  ]);
  const table = path.join(dir, 'ip_vs_conn');
  fs.writeFileSync(table, PROC_HEADER + conns.map((c) => procRow(c, 899)).join(''));
  const blacklist = path.join(dir, 'static_blacklist');
  fs.writeFileSync(blacklist, '# by hand\n203.0.113.66\n');
  return { ns, table, blacklist };
}

test('autoban --once: the client over 100 is banned with its timeout, the one at 100 and the whitelisted one are not; IPv6 into its own set', async (t) => {
  const { ns, table, blacklist } = await setUp(t);
  const run = await lvskit('autoban', '--once', '-n', ns.name, '--table-file', table, '--set', 'autoban', '--set6', 'autoban6', '--threshold', '100',
    '--whitelist', '10.0.0.0/8', '--ban-timeout', '600', '--static-blacklist', blacklist, '--json');
  t.is(run.code, 0, run.stderr);
  const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; address: string; count: number });
  t.deepEqual(events.map((e) => [e.type, e.address, e.count]), [['whitelisted', '10.1.2.3', 300], ['ban', '198.18.0.1', 150], ['ban', '2001:db8::66', 101]]);
  const v4 = await members(ns, 'autoban');
  t.deepEqual([...v4.keys()], ['198.18.0.1']);
  t.true((v4.get('198.18.0.1') ?? 0) > 590 && (v4.get('198.18.0.1') ?? 0) <= 600, `timeout ${v4.get('198.18.0.1')}`);
  t.deepEqual([...(await members(ns, 'autoban6')).keys()], ['2001:db8::66']);
  const text = fs.readFileSync(blacklist, 'utf8').split('\n');
  t.deepEqual(text.slice(0, 2), ['# by hand', '203.0.113.66']);
  t.regex(text[2] ?? '', /^198\.18\.0\.1 # lvskit-autoban until=\d{4}-\d\d-\d\dT[\d:.]+Z count=150$/);
  t.regex(text[3] ?? '', /^2001:db8::66 # lvskit-autoban until=.* count=101$/);
});

test('autoban --dry-run changes neither the set nor the file; without --set6 an IPv6 ban is an error, the IPv4 one still happens', async (t) => {
  const { ns, table, blacklist } = await setUp(t);
  const before = fs.readFileSync(blacklist, 'utf8');
  const dry = await lvskit('autoban', '--once', '--dry-run', '-n', ns.name, '--table-file', table, '--set', 'autoban', '--static-blacklist', blacklist);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /would ban 198\.18\.0\.1 \(150 ESTABLISHED\)/);
  t.regex(dry.stdout, /would ban 10\.1\.2\.3 \(300 ESTABLISHED\)/);
  t.is((await members(ns, 'autoban')).size, 0);
  t.is(fs.readFileSync(blacklist, 'utf8'), before);
  const real = await lvskit('autoban', '--once', '-n', ns.name, '--table-file', table, '--set', 'autoban');
  t.regex(real.stderr, /no IPv6 set to ban 2001:db8::66/);
  t.deepEqual([...(await members(ns, 'autoban')).keys()].sort(), ['10.1.2.3', '198.18.0.1']);
  t.is((await members(ns, 'autoban')).get('198.18.0.1'), 0, 'no ban timeout: a permanent entry');
});

test('autoban refuses a set that cannot hold timed bans, and a missing set, before banning anything', async (t) => {
  const { ns, table } = await setUp(t);
  await ns.exec(['ipset', 'create', 'plain', 'hash:ip']);
  const plain = await lvskit('autoban', '--once', '-n', ns.name, '--table-file', table, '--set', 'plain', '--ban-timeout', '60');
  t.is(plain.code, 1);
  t.regex(plain.stderr, /set plain has no timeout support/);
  const missing = await lvskit('autoban', '--once', '-n', ns.name, '--table-file', table, '--set', 'nosuchset');
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nosuchset/);
  t.is((await members(ns, 'plain')).size, 0);
});

test('conns top prints the clients over the threshold and the table summary', async (t) => {
  const { table } = await setUp(t);
  const run = await lvskit('conns', 'top', '--table-file', table, '--limit', '2', '--threshold', '100');
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 4).map((l) => l.split(/\s+/)), [
    ['CLIENT', 'ESTABLISHED', 'TOTAL'], ['10.1.2.3', '300', '300'], ['198.18.0.1', '150', '153'], ['2001:db8::66', '101', '101'],
  ]);
  t.regex(lines.at(-1) ?? '', /: 699 rows, 5 clients, ESTABLISHED 656, TIME_WAIT 3, SYN_RECV 40; /);
  const json = JSON.parse((await lvskit('conns', 'top', '--table-file', table, '--threshold', '100', '--json')).stdout) as { overThreshold: { address: string }[] };
  t.deepEqual(json.overThreshold.map((c) => c.address), ['10.1.2.3', '198.18.0.1', '2001:db8::66']);
});
