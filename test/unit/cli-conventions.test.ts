// layer: tests (unit)
// job: one set of CLI conventions, as a user types them: the configuration as `-f FILE` / `[FILE]` and `-i ID`, long names for the rest, 0.1's spellings refused with the new one, every value checked before anything else runs (no privileges needed).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { secondsAsMs } from '../../src/cli/options.js';
import { CLI } from '../helpers/cli.js';
import { fixture } from '../helpers/config.js';
import { CAPTURE_DIR } from '../helpers/conns-kernel-capture.js';

function lvskit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The first line of stderr, and that the command failed with status 1. */
function refused(t: { is(a: unknown, b: unknown, m?: string): void }, r: ReturnType<typeof lvskit>): string {
  t.is(r.status, 1, r.stderr);
  return r.stderr.split('\n')[0] ?? '';
}

function scratch(t: { teardown(fn: () => void): void }, name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}

const TABLE = path.join(CAPTURE_DIR, 'ip_vs_conn.txt');

test('the configuration: `check FILE` is `check -f FILE`; two different files are refused; none is keepalived\'s default file', (t) => {
  const file = fixture('seed', 'multi-line', 'keepalived.conf');
  const positional = lvskit('check', file);
  const option = lvskit('check', '-f', file);
  t.is(positional.status, 0);
  t.is(positional.stderr, option.stderr);
  t.is(lvskit('check', file, '-f', file).status, 0, 'the same file twice is one file');
  t.is(refused(t, lvskit('check', file, '-f', 'other.conf')), `lvskit: two configuration files given (${file} and -f other.conf): give one`);
  t.regex(lvskit('check').stderr.trimEnd().split('\n').at(-1) ?? '', /^\/etc\/keepalived\/keepalived\.conf: \d+ errors?, /);
  t.is(lvskit('config', 'dump', file).stdout, lvskit('config', 'dump', '-f', file).stdout);
  t.is(lvskit('config', 'show', '--ipvs', file).stdout, lvskit('config', 'show', '--ipvs', '-f', file).stdout);
  t.deepEqual(JSON.parse(lvskit('vrrp', 'check', file).stdout), JSON.parse(lvskit('vrrp', 'check', '-f', file).stdout));
});

test('-i is the config id wherever a configuration is read (check, config, vrrp, ipvs apply, autoban)', (t) => {
  const file = fixture('layout', 'keepalived.conf');
  const routerId = (id: string): string => (JSON.parse(lvskit('check', '--json', '-i', id, file).stdout) as { globalDefs: { routerId: string } }).globalDefs.routerId;
  t.deepEqual([routerId('lb1'), routerId('lb2')], ['lb1', 'lb2']);
  const conf = scratch(t, 'keepalived.conf', 'vrrp_instance VI_1 {\n  @lb1 priority 150\n  @lb2 priority 100\n  interface eth0\n  virtual_router_id 51\n' +
    '  virtual_ipaddress {\n    10.0.0.5\n  }\n}\nvirtual_server 10.0.0.5 80 {\n  protocol TCP\n  @lb1 lb_algo rr\n  @lb2 lb_algo wlc\n  real_server 10.0.1.1 80 {\n  }\n}\n');
  const vrrp = (id: string): number[] => (JSON.parse(lvskit('vrrp', 'check', '-i', id, conf).stdout) as { instances: { priority: number }[] }).instances.map((i) => i.priority);
  t.deepEqual([vrrp('lb1'), vrrp('lb2')], [[150], [100]]);
  const plan = (id: string): string => lvskit('ipvs', 'apply', '--dry-run', '-i', id, conf).stdout.split('\n').find((l) => l.startsWith('+ service')) ?? '';
  t.deepEqual([plan('lb1'), plan('lb2')], ['+ service TCP 10.0.0.5:80 rr', '+ service TCP 10.0.0.5:80 wlc']);
  // autoban: -i without a configuration means nothing; 0.1 used it for the sync interface.
  t.is(refused(t, lvskit('autoban', '-i', 'eth0', '--set', 'bans', '--once')),
    'lvskit: -i/--config-id selects the @ID lines of the configuration given with -f FILE; without -f it means nothing (the sync interface is --interface)');
});

test('0.1\'s spellings are refused with the new one, never taken to mean something else', (t) => {
  const hint = (args: string[]): string => refused(t, lvskit(...args));
  t.is(hint(['conns', 'top', '--file', TABLE]), 'lvskit: --file: the connection table is --table-file FILE (-f/--file is a keepalived configuration everywhere) (renamed in 0.2.0, see CHANGELOG.md)');
  t.regex(hint(['conns', 'list', '--file', TABLE]), /^lvskit: --file: the connection table is --table-file FILE/);
  t.regex(hint(['conns', 'track', '-i', 'eth0']), /^lvskit: -i: the sync interface is --interface NAME .*\(renamed in 0\.2\.0, see CHANGELOG\.md\)$/);
  t.regex(hint(['addrs', '-f', '4']), /^lvskit: -f: the family is --family 4\|6 \(or -4, -6 as ip takes them\)/);
  t.regex(hint(['autoban', '--config', fixture('layout', 'keepalived.conf')]), /^lvskit: --config: the configuration is -f\/--file FILE, as everywhere/);
  // autoban's --file is the configuration now: a connection table given there is recognised.
  t.is(hint(['autoban', '--file', TABLE, '--set', 'bans', '--once']),
    `lvskit: -f/--file ${TABLE}: that is a connection table, not a keepalived configuration; give it with --table-file (renamed in 0.2.0, see CHANGELOG.md)`);
});

test('values are checked as the command line is read, each error naming its option: states, files, namespaces, addresses, durations', (t) => {
  t.regex(refused(t, lvskit('conns', 'top', '--state', 'ESTABLISHD', '--table-file', TABLE)),
    /^lvskit: option '--state <name>' argument 'ESTABLISHD' is invalid\. not a connection state; one of NONE, ESTABLISHED, SYN_SENT, .*ASSURED$/);
  t.regex(refused(t, lvskit('conns', 'top', '--state', 'established', '--table-file', TABLE)), /not a connection state \(did you mean ESTABLISHED\?\)/);
  t.is(refused(t, lvskit('conns', 'top', '--table-file', '/nonexistent/ip_vs_conn')),
    'lvskit: option \'--table-file <FILE>\' argument \'/nonexistent/ip_vs_conn\' is invalid. /nonexistent/ip_vs_conn does not exist');
  t.is(refused(t, lvskit('links', '-n', 'lvskit-no-such-ns')),
    'lvskit: option \'-n, --netns <name>\' argument \'lvskit-no-such-ns\' is invalid. there is no network namespace lvskit-no-such-ns (`ip netns list` shows them)');
  t.regex(refused(t, lvskit('links', '-n', '/nonexistent/ns')), /argument '\/nonexistent\/ns' is invalid\. \/nonexistent\/ns does not exist$/);
  t.regex(refused(t, lvskit('ipvs', 'list', '-t', '10.0.0.1:99999')), /^lvskit: option '-t, --tcp-service <ADDR:PORT>' argument '10\.0\.0\.1:99999' is invalid\. not ADDRESS:PORT/);
  t.regex(refused(t, lvskit('ipvs', 'list', '-f', '0')), /^lvskit: option '-f, --fwmark-service <MARK>' argument '0' is invalid\. not a firewall mark/);
  t.regex(refused(t, lvskit('ipvs', 'list', '--stats', '--rate')), /^lvskit: option '--stats' cannot be used with option '--rate'/);
  t.regex(refused(t, lvskit('ipvs', 'list', '-c', '-t', '10.0.0.1:80')), /^lvskit: option '-c, --connection' cannot be used with option '-t, --tcp-service/);
  t.regex(refused(t, lvskit('conns', 'track', '--interface', 'eth0', '--every', '0')), /^lvskit: option '--every <seconds>' argument '0' is invalid\. not a positive number of seconds/);
  t.regex(lvskit('conns', 'track', '--help').stdout, /--every <seconds> +print the table this often \(default: 5 s\)/);
  t.regex(refused(t, lvskit('conns', 'top', '--limit', 'ten')), /^lvskit: option '--limit <n>' argument 'ten' is invalid\. not a whole number/);
});

test('conns top and list read a saved table with --table-file; a missing one is "no such file", never "is the ip_vs module loaded?"', (t) => {
  const top = lvskit('conns', 'top', '--table-file', TABLE, '--limit', '1');
  t.is(top.status, 0, top.stderr);
  t.regex(top.stdout, /^CLIENT +ESTABLISHED +TOTAL\n\S+ +\d+ +\d+\n# \S+ip_vs_conn\.txt: 64 rows/);
  t.is(top.stderr, '', 'no progress bar or anything else when stdout is not a terminal');
  const list = lvskit('conns', 'list', '--table-file', TABLE);
  t.is(list.stdout.split('\n')[0], 'pro expire state       source             virtual            destination');
  t.is(list.stdout.trimEnd().split('\n').length, 65);
});

test('ipvs apply checks its file before any kernel access, and names the file and the field', (t) => {
  const bad = scratch(t, 'site.json', JSON.stringify({ services: [{ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'fastest' }] }));
  t.regex(refused(t, lvskit('ipvs', 'apply', '--dry-run', bad)), new RegExp(`^lvskit: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: services\\[0\\]\\.scheduler: unknown scheduler "fastest"`));
  t.is(refused(t, lvskit('ipvs', 'apply', '--dry-run', '/nonexistent/site.json')), 'lvskit: /nonexistent/site.json: no such file');
  t.is(refused(t, lvskit('ipvs', 'apply')), 'lvskit: no file given: name it, or use -f FILE');
  const conf = scratch(t, 'keepalived.conf', 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo fastest\n  real_server 10.0.1.1 80 {\n  }\n}\n');
  const r = lvskit('ipvs', 'apply', '--dry-run', '-f', conf);
  t.is(r.status, 1);
  t.regex(r.stderr, /keepalived\.conf:3:\d+: error: /);
  t.regex(r.stderr, /lvskit: \S+keepalived\.conf: 1 error; nothing was done\n$/);
});

test('vrrp check names the JSON file with the field it refuses', (t) => {
  const json = scratch(t, 'vrrp.json', JSON.stringify({ instances: [{ name: 'VI_X', interface: 'eth0', vrid: 256, virtualAddresses: ['10.0.0.50'] }] }));
  t.is(refused(t, lvskit('vrrp', 'check', json)), `lvskit: ${json}: instances[0].vrid: 256 is not an integer in 1..255`);
});

test('`lvskit --version` prints the package\'s version; an unknown command suggests the nearest; errors read `lvskit: ...`', (t) => {
  const { version } = JSON.parse(fs.readFileSync(path.resolve(path.dirname(CLI), '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  t.is(lvskit('--version').stdout, `${version}\n`);
  t.is(lvskit('-V').stdout, `${version}\n`);
  const typo = lvskit('chek');
  t.is(typo.status, 1);
  t.is(typo.stderr, 'lvskit: unknown command \'chek\'\n(Did you mean check?)\n(add --help for usage)\n');
  t.regex(lvskit('--help').stdout, /^Usage: lvskit \[options\] \[command\]/);
  t.regex(lvskit('--help').stdout, /\n {2}conns +the IPVS connection table/);
});

test('durations: seconds (decimals allowed), or with a unit (500ms, 1s, 2m); nothing else', (t) => {
  t.deepEqual(['1', '0.5', '1s', '1.5s', '500ms', '2m'].map(secondsAsMs), [1000, 500, 1000, 1500, 500, 120_000]);
  for (const bad of ['0', '0s', '0.0001', '-1', '1h', 's', '1 s', '']) t.throws(() => secondsAsMs(bad), { message: /not a positive number of seconds/ }, bad);
});
