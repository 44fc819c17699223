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
  protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr', persistence: { timeoutS: 50 },
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
  t.regex(bad.stderr, /desired\[0\]\.scheduler: unknown scheduler "fastest"/);
  t.is((await x.ipvsadm('-Ln')).split('\n').length, 4);
});
