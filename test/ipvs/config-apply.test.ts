// layer: tests (IPVS tier)
// job: keepalived.conf → lvskit's IPVS table, with keepalived itself as the oracle: its checker process programs
//      the same file into another namespace, and both `ipvsadm -Ln` listings must agree; then only differences are applied.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipvsNetns, type IpvsNs } from '../helpers/ipvs.js';
import { lvskit } from '../helpers/cli.js';

function configFile(t: ExecutionContext, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-conf-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, text);
  return file;
}

// The operator's service (multi-line: keepalived 2.2 reads only the first keyword of a line), and
// one of each kind the conversion handles: UDP NAT with ops and thresholds, a fwmark TUN service
// with sh-port and a persistence netmask, IPv6, a virtual_server_group, and `alpha` checkers that
// cannot succeed (nothing answers in the namespace): with inhibit_on_failure the real server is
// present with weight 0, without it absent, a real server without checker present.
const SITE = (weight: number) => `
global_defs {
  router_id lvskit_test
}
virtual_server 123.30.175.40 80 {
  delay_loop 6
  lb_algo rr
  lb_kind DR
  persistence_timeout 50
  protocol TCP
  real_server 172.16.16.37 80 {
    weight ${weight}
    inhibit_on_failure
  }
  real_server 172.16.16.38 80 {
    weight ${weight}
    inhibit_on_failure
  }
  real_server 172.16.16.39 80 {
    weight ${weight}
    inhibit_on_failure
  }
}
virtual_server 10.1.0.1 53 {
  lb_algo wlc
  lb_kind NAT
  protocol UDP
  ops
  real_server 10.2.0.1 5353 {
    weight 3
    uthreshold 100
    lthreshold 10
  }
  real_server 10.2.0.2 5353 {
    weight 1
  }
}
virtual_server fwmark 7 {
  lb_algo sh
  sh-port
  lb_kind TUN
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  real_server 10.3.0.1 0 {
    weight 5
  }
}
virtual_server 2001:db8::10 443 {
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 2001:db8::1 443 {
    weight 2
  }
  real_server 2001:db8::2 443 {
    weight 2
  }
}
virtual_server_group G1 {
  10.4.0.1 80
  10.4.0.2-3 80
}
virtual_server group G1 {
  lb_algo lc
  lb_kind NAT
  protocol TCP
  real_server 10.5.0.1 8080 {
    weight 1
  }
}
virtual_server 10.6.0.1 80 {
  delay_loop 60
  alpha
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.7.0.1 80 {
    weight 4
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.7.0.2 80 {
    weight 4
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.7.0.3 80 {
    weight 4
  }
}
`;

/** `ipvsadm -Ln` with services in a fixed order and real servers sorted within each (both are hash or insertion order). */
function normalized(listing: string): string {
  const lines = listing.trimEnd().split('\n');
  const header = lines.slice(0, 3);
  const blocks: string[][] = [];
  for (const line of lines.slice(3)) {
    if (line.startsWith('  ->')) blocks[blocks.length - 1]!.push(line);
    else blocks.push([line]);
  }
  const sorted = blocks.map(([svc, ...dests]) => [svc, ...dests.sort()].join('\n')).sort();
  return [...header, ...sorted].join('\n');
}

/** keepalived's checker process (-C) with `file` in the namespace, until teardown. */
function startKeepalivedChecker(t: ExecutionContext, x: IpvsNs, file: string): { output: () => string } {
  const dir = path.dirname(file);
  let output = '';
  const child = spawn('ip', ['netns', 'exec', x.ns.name, 'keepalived', '--check', '--dont-fork', '--dont-respawn', '--log-console', '--no-syslog',
    '-f', file, '-p', path.join(dir, 'k.pid'), '-c', path.join(dir, 'c.pid'), '-i', 'lvskit_test'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  return { output: () => output };
}

/** Polls `ipvsadm -Ln` until it has `services` services and has not changed for a second. */
async function settled(x: IpvsNs, services: number, what: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last = '';
  let since = Date.now();
  for (;;) {
    const now = await x.ipvsadm('-Ln');
    if (now !== last) { last = now; since = Date.now(); }
    const count = now.split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM)/.test(l)).length;
    if (count === services && Date.now() - since >= 1000) return now;
    if (Date.now() > deadline) throw new Error(`keepalived did not settle on ${services} services:\n${now}\n${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('keepalived.conf applied by lvskit gives the table keepalived itself programs (checkers, alpha, inhibit_on_failure, groups, fwmark, IPv6)', async (t) => {
  const file = configFile(t, SITE(10));
  const [byKeepalived, byLvskit] = await Promise.all([ipvsNetns(t), ipvsNetns(t)]);
  const keepalived = startKeepalivedChecker(t, byKeepalived, file);
  const expected = await settled(byKeepalived, 8, keepalived.output);

  const applied = await lvskit('ipvs', 'apply', file, '-n', byLvskit.ns.name);
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /^applied \d+ operations$/m);
  t.is(normalized(await byLvskit.ipvsadm('-Ln')), normalized(expected));
  // The cases that differ between keepalived's start rules, checked by name too.
  t.regex(expected, /-> 10\.7\.0\.1:80\s+Route\s+0\s/);
  t.notRegex(expected, /10\.7\.0\.2:80/);
  t.regex(expected, /-> 10\.7\.0\.3:80\s+Route\s+4\s/);

  t.is((await lvskit('ipvs', 'apply', file, '-n', byLvskit.ns.name)).stdout, 'nothing to do: the table matches\n');
});

test('a changed keepalived.conf is applied as edits; an invalid one changes nothing; services it does not declare are left alone without lvs_flush', async (t) => {
  const x = await ipvsNetns(t);
  await x.ipvsadm('-A', '-t', '192.0.2.99:25', '-s', 'rr');
  const first = await lvskit('ipvs', 'apply', configFile(t, SITE(10)), '-n', x.ns.name);
  t.is(first.code, 0, first.stderr);
  const before = await x.ipvsadm('-Ln');

  const edited = await lvskit('ipvs', 'apply', configFile(t, SITE(20)), '-n', x.ns.name);
  t.is(edited.code, 0, edited.stderr);
  const ops = edited.stdout.split('\n').filter((l) => /^[+~-] /.test(l));
  t.deepEqual(ops.map((l) => l[0]), ['~', '~', '~'], edited.stdout);
  t.regex(await x.ipvsadm('-Ln'), /172\.16\.16\.37:80\s+Route\s+20\s/);
  t.regex(await x.ipvsadm('-Ln'), /192\.0\.2\.99:25/);

  const broken = configFile(t, `${SITE(30)}\nvirtual_server 10.9.0.1 80 {\n  lb_algo nosuch\n  protocol TCP\n  real_server 10.9.0.2 80 {\n    weight 1\n  }\n}\n`);
  const refused = await lvskit('ipvs', 'apply', broken, '-n', x.ns.name);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /keepalived\.conf:\d+:\d+: error: .*nosuch/);
  t.regex(refused.stderr, /nothing was done/);
  t.regex(await x.ipvsadm('-Ln'), /172\.16\.16\.37:80\s+Route\s+20\s/);
  t.not(await x.ipvsadm('-Ln'), before);

  const flushing = configFile(t, `global_defs {\n  lvs_flush\n}\n${SITE(20)}`);
  const flushed = await lvskit('ipvs', 'apply', flushing, '-n', x.ns.name);
  t.is(flushed.code, 0, flushed.stderr);
  t.notRegex(await x.ipvsadm('-Ln'), /192\.0\.2\.99:25/);
});
