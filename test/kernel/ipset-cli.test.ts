// layer: tests (kernel tier)
// job: `lvskit ipset list|load|save` as an operator runs them, in a fresh namespace, with `ipset` as the oracle; the firewall check with real iptables.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkFirewall } from '../../src/ipset/firewall-check.js';
import { createNetns } from '../helpers/netns.js';
import { oracleMembers, oracleNames } from '../helpers/ipset.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const lvskit = async (...args: string[]) => promisify(execFile)(process.execPath, [cli, ...args]);

async function blacklist(t: ExecutionContext, text: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lvskit-cli-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'static_blacklist');
  await fs.writeFile(file, text);
  return file;
}

const goodAndBad = '# bans\n203.0.113.7\n198.51.100.0/24\n192.0.2.300\n10.0.0.1 10.0.0.2\n2001:db8::1\n';

test('`lvskit ipset load` changes nothing when the file has invalid lines, naming each file:line:column', async (t) => {
  const ns = await createNetns(t);
  await ns.exec(['ipset', 'create', 'static_blacklist', 'hash:net']);
  await ns.exec(['ipset', 'add', 'static_blacklist', '192.0.2.1']);
  const file = await blacklist(t, goodAndBad);
  const err = await t.throwsAsync(lvskit('ipset', 'load', 'static_blacklist', file, '-n', ns.name)) as Error & { code?: number; stderr?: string };
  t.is(err.code, 1);
  t.deepEqual(err.stderr?.trim().split('\n'), [
    `lvskit: ${file}: 3 invalid lines; nothing changed (use --skip-invalid to load the rest)`,
    `${file}:4:1: not an IPv4 or IPv6 address or CIDR: "192.0.2.300"`,
    `${file}:5:10: one address or CIDR per line; unexpected text after it: "10.0.0.2"`,
    `${file}:6:1: a hash:net set of family inet holds IPv4 addresses only: "2001:db8::1"`,
  ]);
  t.deepEqual(await oracleMembers(ns, 'static_blacklist'), ['192.0.2.1']);
});

test('`lvskit ipset load --skip-invalid` loads the rest as the set\'s whole content and reports what it skipped', async (t) => {
  const ns = await createNetns(t);
  await ns.exec(['ipset', 'create', 'static_blacklist', 'hash:net']);
  await ns.exec(['ipset', 'add', 'static_blacklist', '192.0.2.1']);
  const file = await blacklist(t, goodAndBad);
  const { stdout, stderr } = await lvskit('ipset', 'load', 'static_blacklist', file, '--skip-invalid', '-n', ns.name);
  t.regex(stdout, /^loaded 2 entries into static_blacklist \(hash:net inet\) in \d+ ms; 3 invalid lines skipped\n$/);
  t.is(stderr.split('\n').filter((l) => l.startsWith('skipped ')).length, 3);
  t.deepEqual(await oracleMembers(ns, 'static_blacklist'), ['198.51.100.0/24', '203.0.113.7']);
});

test('`lvskit ipset load --create` makes a missing set; without it the error names the set', async (t) => {
  const ns = await createNetns(t);
  const file = await blacklist(t, '2001:db8::/32\n2001:db8:1::7\n');
  const missing = await t.throwsAsync(lvskit('ipset', 'load', 'bans6', file, '-n', ns.name)) as Error & { stderr?: string };
  t.is(missing.stderr?.trim(), 'lvskit: IPSET_CMD_HEADER bans6 failed: ENOENT (The set with the given name does not exist) [ENOENT, IPSET_CMD_HEADER bans6]');
  const { stdout } = await lvskit('ipset', 'load', 'bans6', file, '--create', 'hash:net', '--family', 'inet6', '--maxelem', '5000', '-n', ns.name);
  t.regex(stdout, /^created and loaded 2 entries into bans6 \(hash:net inet6\)/);
  t.deepEqual(await oracleMembers(ns, 'bans6'), ['2001:db8:1::7', '2001:db8::/32']);
  t.regex(await ns.exec(['ipset', 'list', '-t', 'bans6']), /Header: family inet6 hashsize \d+ maxelem 5000 /);
});

test('`lvskit ipset list` prints what `ipset list` prints; --json has the members', async (t) => {
  const ns = await createNetns(t);
  await ns.exec(['ipset', 'create', 'a', 'hash:ip', 'comment']);
  await ns.exec(['ipset', 'add', 'a', '10.0.0.1', 'comment', 'manual ban']);
  await ns.exec(['ipset', 'create', 'b', 'hash:net', 'family', 'inet6']);
  t.is((await lvskit('ipset', 'list', '-n', ns.name)).stdout, await ns.exec(['ipset', 'list']));
  t.is((await lvskit('ipset', 'list', 'a', '-n', ns.name)).stdout, await ns.exec(['ipset', 'list', 'a']));
  t.is((await lvskit('ipset', 'list', 'a', '-t', '-n', ns.name)).stdout, await ns.exec(['ipset', 'list', '-t', 'a']));
  t.is((await lvskit('ipset', 'list', '--names', '-n', ns.name)).stdout, await ns.exec(['ipset', 'list', '-n']));
  const json = JSON.parse((await lvskit('ipset', 'list', 'a', '--json', '-n', ns.name)).stdout) as { type: string; members: unknown[] };
  t.is(json.type, 'hash:ip');
  t.deepEqual(json.members, [{ address: '10.0.0.1', comment: 'manual ban' }]);
  const err = await t.throwsAsync(lvskit('ipset', 'list', 'nope', '-n', ns.name)) as Error & { stderr?: string };
  t.is(err.stderr?.trim(), 'lvskit: IPSET_CMD_LIST nope failed: ENOENT (The set with the given name does not exist) [ENOENT, IPSET_CMD_LIST nope]');
});

test('`lvskit ipset save` writes the set as a blacklist file (0644) that loads back into another set', async (t) => {
  const ns = await createNetns(t);
  await ns.exec(['ipset', 'create', 'a', 'hash:net']);
  for (const e of ['10.0.0.0/8', '192.0.2.1']) await ns.exec(['ipset', 'add', 'a', e]);
  const file = await blacklist(t, '');
  t.is((await lvskit('ipset', 'save', 'a', file, '-n', ns.name)).stdout, `saved 2 entries of a to ${file}\n`);
  t.is((await fs.stat(file)).mode & 0o777, 0o644);
  const text = await fs.readFile(file, 'utf8');
  t.deepEqual(text.split('\n').filter((l) => l && !l.startsWith('#')).sort(), ['10.0.0.0/8', '192.0.2.1']);
  await lvskit('ipset', 'load', 'b', file, '--create', 'hash:net', '-n', ns.name);
  t.deepEqual(await oracleMembers(ns, 'b'), await oracleMembers(ns, 'a'));
  t.deepEqual(await oracleNames(ns), ['a', 'b']);
});

test('the firewall check finds the iptables / ip6tables rule that drops the set\'s sources, and misses it when absent', async (t) => {
  const ns = await createNetns(t);
  await ns.exec(['ipset', 'create', 'bans', 'hash:net']);
  await ns.exec(['ipset', 'create', 'bans6', 'hash:net', 'family', 'inet6']);
  const before = await checkFirewall('bans', { netns: ns.name });
  t.false(before.ok);
  await ns.exec(['iptables', '-I', 'INPUT', '-m', 'set', '--match-set', 'bans', 'src', '-j', 'DROP']);
  await ns.exec(['ip6tables', '-I', 'INPUT', '-m', 'set', '--match-set', 'bans6', 'src', '-j', 'DROP']);
  const after = await checkFirewall('bans', { netns: ns.name });
  t.true(after.ok);
  t.deepEqual(after.rules, [{ tool: 'iptables', table: 'filter', chain: 'INPUT', verdict: 'DROP', rule: '-A INPUT -m set --match-set bans src -j DROP' }]);
  t.true((await checkFirewall('bans6', { netns: ns.name, family: 'inet6' })).ok);
  t.false((await checkFirewall('bans6', { netns: ns.name })).ok, 'an IPv6 set is matched by ip6tables, not iptables');
  const { stdout } = await lvskit('ipset', 'load', 'bans', await blacklist(t, '10.0.0.1\n'), '--check-firewall', '-n', ns.name);
  t.regex(stdout, /^firewall: iptables -t filter -A INPUT -m set --match-set bans src -j DROP$/m);
});

test('`lvskit ipset load` of 20,000 entries: a progress bar on a terminal (cleared before the result), none through a pipe', async (t) => {
  const ns = await createNetns(t);
  const file = await blacklist(t, Array.from({ length: 20_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`).join('\n'));
  const piped = await lvskit('ipset', 'load', 'bans', file, '--create', 'hash:ip', '-n', ns.name);
  t.is(piped.stderr, '');
  t.regex(piped.stdout, /^created and loaded 20000 entries into bans \(hash:ip inet\) in \d+ ms\n$/);
  // Under a pseudo-terminal (util-linux `script`), as an operator sees it.
  const { stdout } = await promisify(execFile)('script', ['-qec', `${process.execPath} ${cli} ipset load bans ${file} -n ${ns.name}`, '/dev/null']);
  t.regex(stdout, /\d+%.*\/20000 entries/, 'the bar was drawn');
  t.regex(stdout, /loaded 20000 entries into bans \(hash:ip inet\) in \d+ ms\r?\n$/);
  t.deepEqual((await oracleMembers(ns, 'bans')).length, 20_000);
});
