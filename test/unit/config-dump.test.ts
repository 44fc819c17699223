// layer: tests (unit)
// job: the canonical dump reads back to the same model (every fixture, keepalived's own samples) and is stable text.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { dumpConfig } from '../../src/config/dump.js';
import { loadConfig, parseConfigText } from '../../src/config/index.js';
import { KEEPALIVED_ACCEPTS, fixture, messages, parse, withoutLocations, keepalivedSamples } from '../helpers/config.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI } from '../helpers/daemon-procs.js';

const FIXTURES = [
  ['seed/multi-line/keepalived.conf'], ['seed/one-line/keepalived.conf'], ['layout/keepalived.conf', 'lb1'], ['layout/keepalived.conf', 'lb2'],
  ['kitchen-sink.conf'], ['includes/main.conf'],
] as const;

function roundTrip(t: import('ava').ExecutionContext, file: string, configId?: string): void {
  const first = loadConfig(file, configId !== undefined ? { configId } : {});
  const text = dumpConfig(first.config);
  const second = parseConfigText(text, { validate: false });
  t.deepEqual(withoutLocations(second.config), withoutLocations(first.config), file);
  t.deepEqual(second.diagnostics.filter((d) => d.severity === 'error'), [], `${file}: the dump has errors:\n${messages(second).join('\n')}`);
  t.is(dumpConfig(second.config), text, `${file}: dumping again changes the text`);
}

for (const [file, configId] of FIXTURES) {
  test(`dump of ${file}${configId ? ` (-i ${configId})` : ''} reads back to the same model`, (t) => roundTrip(t, fixture(file), configId));
}

test('dump of each keepalived sample configuration (Debian package) reads back to the same model', (t) => {
  const dir = keepalivedSamples(t);
  if (dir === undefined) return;
  const samples = fs.readdirSync(dir).filter((f) => f.startsWith('keepalived.conf.'));
  t.true(samples.length >= 20);
  for (const f of samples) roundTrip(t, path.join(dir, f), 'high');
});

test('`lvskit check` accepts every keepalived sample keepalived 2.2.7 reads without complaint (conditional_conf: use_vmac)', async (t) => {
  const dir = keepalivedSamples(t);
  if (dir === undefined) return;
  const run = promisify(execFile);
  for (const [name, id] of KEEPALIVED_ACCEPTS) {
    const file = path.join(dir, `keepalived.conf.${name}`);
    const r = await run(process.execPath, [CLI, 'check', '-f', file, ...(id ? ['-i', id] : [])]).then(
      (o) => ({ code: 0, out: o.stdout + o.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }));
    t.is(r.code, 0, `lvskit check -f ${file}${id ? ` -i ${id}` : ''}:\n${r.out}`);
    t.regex(r.out, / 0 errors, /, file);
  }
  // The VMAC the conditional sample asks for is read, converted and dumped.
  const c = loadConfig(path.join(dir, 'keepalived.conf.conditional_conf'), { configId: 'high' });
  t.deepEqual(c.config.vrrpInstances[0]?.useVmac, {});
  t.regex(dumpConfig(c.config), /\n {4}use_vmac\n/);
});

test('the canonical form of the operator\'s files: one keyword per line, 4-space indents, fixed order', (t) => {
  const r = loadConfig(fixture('seed', 'one-line', 'keepalived.conf'));
  t.is(dumpConfig(r.config), `global_defs {
}

vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass <pass-fo
    }
    virtual_ipaddress {
        123.30.175.40 dev eth1 label eth1:2
    }
    track_interface {
        eth0
        eth1
        eth1:2
    }
    lvs_sync_daemon_interface eth0
    debug 0
}

virtual_server 123.30.175.40 80 {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    delay_loop 6
    real_server 172.16.16.37 80 {
        weight 10
        inhibit_on_failure
    }
    real_server 172.16.16.38 80 {
        weight 10
        inhibit_on_failure
    }
    real_server 172.16.16.39 80 {
        weight 10
        inhibit_on_failure
    }
}
`);
});

test('values that need quoting survive the round trip: blanks, comment characters, quotes in scripts', (t) => {
  const r = parse([
    'global_defs {', '  router_id "lb one"', '  notification_email_from "ops#1@example.com"', '}',
    'vrrp_script s {', `  script "/bin/sh -c 'test -e \\"/run/a b\\"'" nobody`, '  interval 0.000001', '}',
  ].join('\n'));
  t.deepEqual(messages(r), []);
  t.deepEqual(r.config.vrrpScripts[0]?.script?.argv, ['/bin/sh', '-c', 'test -e "/run/a b"']);
  const again = parseConfigText(dumpConfig(r.config));
  t.deepEqual(withoutLocations(again.config), withoutLocations(r.config));
  t.is(again.config.vrrpScripts[0]?.intervalMs, 0.001);
});
