// layer: tests (IPVS tier)
// job: `lvskit ipvs list` against `ipvsadm -Ln`, and `lvskit ipvs apply FILE.json [--dry-run]` printing and carrying out the plan.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipvsNetns } from '../helpers/ipvs.js';
import { lvskit } from '../helpers/cli.js';

function desiredFile(t: { teardown(fn: () => void): void }, services: unknown[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-ipvs-')), 'site.json');
  fs.writeFileSync(file, JSON.stringify({ services }, null, 2));
  t.teardown(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  return file;
}

const site = (weight: number): unknown[] => [{
  protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr', persistence: { timeoutSec: 50 },
  destinations: ['172.16.16.37', '172.16.16.38', '172.16.16.39'].map((address) => ({ address, port: 80, forward: 'dr', weight })),
}];

test('`lvskit ipvs apply` prints the plan (dry run changes nothing), applies only the difference, and `list` matches `ipvsadm -Ln`', async (t) => {
  const x = await ipvsNetns(t);
  const file = desiredFile(t, site(10));
  const dry = await lvskit('ipvs', 'apply', file, '--dry-run', '-n', x.ns.name);
  t.is(dry.code, 0, dry.stderr);
  t.is(dry.stdout, [
    '+ service TCP 123.30.175.40:80 rr persistent 50',
    '+ real server TCP 123.30.175.40:80 -> 172.16.16.37:80 dr weight 10',
    '+ real server TCP 123.30.175.40:80 -> 172.16.16.38:80 dr weight 10',
    '+ real server TCP 123.30.175.40:80 -> 172.16.16.39:80 dr weight 10', ''].join('\n'));
  t.notRegex(await x.ipvsadm('-Ln'), /123\.30\.175\.40/);

  const applied = await lvskit('ipvs', 'apply', file, '-n', x.ns.name);
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /^applied 4 operations$/m);
  const list = await lvskit('ipvs', 'list', '-n', x.ns.name);
  t.is(list.stdout, await x.ipvsadm('-Ln'));

  const again = await lvskit('ipvs', 'apply', desiredFile(t, site(20)), '-n', x.ns.name);
  t.is(again.stdout.split('\n').filter((l) => l.startsWith('~')).length, 3);
  t.regex(again.stdout, /^applied 3 operations$/m);
  t.is((await lvskit('ipvs', 'apply', desiredFile(t, site(20)), '-n', x.ns.name)).stdout, 'nothing to do: the table matches\n');

  const json = JSON.parse((await lvskit('ipvs', 'list', '--json', '-n', x.ns.name)).stdout) as { services: { destinations: { weight: number; stats: { conns: number } }[] }[] };
  t.deepEqual(json.services[0]?.destinations.map((d) => d.weight), [20, 20, 20]);
  t.is(json.services[0]?.destinations[0]?.stats.conns, 0);
});

test('`lvskit ipvs apply` refuses a bad file before touching the kernel, naming the field', async (t) => {
  const x = await ipvsNetns(t);
  const bad = await lvskit('ipvs', 'apply', desiredFile(t, [{ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'fastest' }]), '-n', x.ns.name);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^lvskit: \/tmp\/\S+\/site\.json: services\[0\]\.scheduler: unknown scheduler "fastest"/);
  t.is((await x.ipvsadm('-Ln')).split('\n').length, 4);
});

/** Three TCP connections through `10.0.0.1:80` to a local real server, each sending and receiving some bytes. */
const TRAFFIC = `
const net = require('node:net');
const server = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); }).listen(8080, '10.0.1.1', async () => {
  for (let i = 0; i < 3; i++) await new Promise((done) => {
    const c = net.connect(80, '10.0.0.1', () => c.end('x'.repeat(1000 * (i + 1))));
    c.on('data', () => {}).on('close', done);
  });
  server.close();
});`;

test('`lvskit ipvs list --stats|--rate|--exact`, one service (-t, -f), and -c print what ipvsadm prints', async (t) => {
  const x = await ipvsNetns(t);
  await x.ns.ip('addr', 'add', '10.0.0.1/32', 'dev', 'lo');
  await x.ns.ip('addr', 'add', '10.0.1.1/32', 'dev', 'lo');
  await x.ipvsadm('-A', '-t', '10.0.0.1:80', '-s', 'rr');
  await x.ipvsadm('-a', '-t', '10.0.0.1:80', '-r', '10.0.1.1:8080', '-m');
  await x.ipvsadm('-A', '-u', '[2001:db8::1]:53', '-s', 'wlc');
  await x.ipvsadm('-A', '-f', '7', '-s', 'sh');
  await x.ns.exec([process.execPath, '-e', TRAFFIC]);
  // The kernel's estimator sums the per-CPU counters every 2 s: wait for it.
  await new Promise((resolve) => setTimeout(resolve, 4500));
  const same = async (ours: string[], theirs: string[]): Promise<void> => {
    const [a, b] = await Promise.all([lvskit('ipvs', 'list', '-n', x.ns.name, ...ours), x.ipvsadm(...theirs)]);
    t.is(a.code, 0, a.stderr);
    t.is(a.stdout, b, `lvskit ipvs list ${ours.join(' ')} vs ipvsadm ${theirs.join(' ')}`);
  };
  const stats = await x.ipvsadm('-Ln', '--stats');
  t.regex(stats, /^TCP {2}10\.0\.0\.1:80 +3 +\d+ +\d+ +\d+ +\d+$/m, 'the traffic was counted');
  await same(['--stats'], ['-Ln', '--stats']);
  await same(['--stats', '--exact'], ['-Ln', '--stats', '--exact']);
  // --rate: the estimator's averages decay at each 2 s tick for a minute after the traffic, and a
  // process start in the guest can straddle a tick, so lvskit's listing is read between two of
  // ipvsadm's: the same lines and words, each rate between the two readings (they only fall).
  const rateBefore = await x.ipvsadm('-Ln', '--rate');
  const rate = await lvskit('ipvs', 'list', '-n', x.ns.name, '--rate');
  const rateAfter = await x.ipvsadm('-Ln', '--rate');
  t.is(rate.code, 0, rate.stderr);
  const words = (text: string): string[][] => text.split('\n').map((line) => line.trim().split(/ +/));
  const [rb, ro, ra] = [words(rateBefore), words(rate.stdout), words(rateAfter)];
  const between = ro.length === rb.length && ro.every((line, i) => line.length === rb[i]!.length && line.every((word, j) => {
    const [lo, hi] = [ra[i]![j]!, rb[i]![j]!];
    if (!/^\d+$/.test(word)) return word === lo && word === hi;
    const [l, h] = [Number(lo), Number(hi)].sort((m, n) => m - n);
    return l! <= Number(word) && Number(word) <= h!;
  }));
  t.true(between, `lvskit ipvs list --rate between ipvsadm -Ln --rate before and after:\n${rateBefore}\n${rate.stdout}\n${rateAfter}`);
  t.deepEqual(rate.stdout.split('\n').map((line) => line.length), rateBefore.split('\n').map((line) => line.length), 'columns as wide as ipvsadm\'s');
  await same(['-t', '10.0.0.1:80'], ['-Ln', '-t', '10.0.0.1:80']);
  await same(['-t', '10.0.0.1:80', '--stats'], ['-Ln', '-t', '10.0.0.1:80', '--stats']);
  await same(['-u', '[2001:db8::1]:53'], ['-Ln', '-u', '[2001:db8::1]:53']);
  await same(['-f', '7'], ['-Ln', '-f', '7']);
  // -c: the expiry counts down each second and a process start in the guest can take longer than
  // that, so lvskit's listing must match ipvsadm's read just before and just after it in every other
  // column, and each expiry must lie between the two readings.
  const before = await x.ipvsadm('-Lnc');
  const conns = await lvskit('ipvs', 'list', '-n', x.ns.name, '-c');
  const after = await x.ipvsadm('-Lnc');
  t.is(conns.code, 0, conns.stderr);
  const expiry = /^(\S+ +)(\d+):(\d+)( .*)$/;
  const split = (text: string): { rest: string; secs: number }[] => text.split('\n').map((line) => {
    const m = expiry.exec(line);
    return m ? { rest: `${m[1]}--:--${m[4]}`, secs: Number(m[2]) * 60 + Number(m[3]) } : { rest: line, secs: -1 };
  });
  const [b, o, a] = [split(before), split(conns.stdout), split(after)];
  t.deepEqual(o.map((l) => l.rest), b.map((l) => l.rest), 'lvskit ipvs list -c vs ipvsadm -Lnc, expiry aside');
  t.deepEqual(a.map((l) => l.rest), b.map((l) => l.rest), 'the connections did not change meanwhile');
  t.true(o.length > 2 && o.every((l, i) => (a[i]?.secs ?? 0) <= l.secs && l.secs <= (b[i]?.secs ?? 0)),
    `each expiry between ipvsadm's readings before and after:\n${before}\n${conns.stdout}\n${after}`);
  // As ipvsadm: a service that is not there is an error; -c lists every connection, with no service filter.
  const missing = await lvskit('ipvs', 'list', '-n', x.ns.name, '-t', '10.9.9.9:80');
  t.is(missing.code, 1);
  t.is(missing.stderr, 'lvskit: no such service: TCP 10.9.9.9:80\n');
  t.regex((await lvskit('ipvs', 'list', '-n', x.ns.name, '-c', '-t', '10.0.0.1:80')).stderr, /^lvskit: option '-c, --connection' cannot be used with option '-t, --tcp-service/);
});
