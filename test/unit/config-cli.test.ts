// layer: tests (unit)
// job: `lvskit check` and `lvskit config dump` as an operator runs them: messages, exit status, --json, --dump, --strict, -i.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from '../helpers/config.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

function lvskit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('check of the operator\'s files: warnings only, exit status 0, a summary line', (t) => {
  const file = fixture('seed', 'multi-line', 'keepalived.conf');
  const r = lvskit('check', '-f', file);
  t.is(r.status, 0);
  t.is(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  t.is(lines[0], `${file}:5:5: warning: \`lvs_sync_daemon_interface\` in a vrrp_instance is deprecated by keepalived 2 (use global_defs lvs_sync_daemon IF INSTANCE); lvskit reads it the same way`);
  t.is(lines.at(-1), `${file}: 0 errors, 5 warnings; 2 files read`);
});

test('check with --strict turns the warnings into errors: exit status 1', (t) => {
  const file = fixture('seed', 'multi-line', 'keepalived.conf');
  const r = lvskit('check', '--strict', '-f', file);
  t.is(r.status, 1);
  t.true(r.stderr.includes(`${file}:5:5: error: \`lvs_sync_daemon_interface\``));
  t.true(r.stderr.trim().endsWith(`${file}: 5 errors, 0 warnings; 2 files read`));
});

test('check of a broken file: every message with file:line:col, exit status 1', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-check-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, 'vrrp_instance VI_1 {\n  priority 300\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.1\n  }\n');
  const r = lvskit('check', '-f', file);
  t.is(r.status, 1);
  t.deepEqual(r.stderr.trim().split('\n'), [
    `${file}:1:20: error: the \`vrrp_instance\` block opened here is not closed ('}' missing before the end of the configuration)`,
    `${file}:1:1: note: the block belongs to \`vrrp_instance\` at ${file}:1:1`,
    `${file}:2:12: error: \`priority\` 300 is outside 1..255`,
    `${file}: 2 errors, 0 warnings; 1 file read`,
  ]);
  const missing = lvskit('check', '-f', path.join(dir, 'nope.conf'));
  t.is(missing.status, 1);
  t.true(missing.stderr.startsWith(`${path.join(dir, 'nope.conf')}: error: cannot read ${path.join(dir, 'nope.conf')}: it does not exist`));
});

test('check --json prints the model; -i selects @ID lines', (t) => {
  const r = lvskit('check', '--json', '-i', 'lb2', '-f', fixture('layout', 'keepalived.conf'));
  t.is(r.status, 0);
  const model = JSON.parse(r.stdout) as { globalDefs: { routerId: string }; vrrpInstances: { name: string; state: string }[]; virtualServers: unknown[] };
  t.is(model.globalDefs.routerId, 'lb2');
  t.deepEqual(model.vrrpInstances.map((v) => [v.name, v.state]), [['VI_1', 'BACKUP'], ['VI_2', 'MASTER']]);
  t.is(model.virtualServers.length, 2);
});

test('check --dump and config dump print the canonical form', (t) => {
  const file = fixture('seed', 'one-line', 'keepalived.conf');
  const a = lvskit('check', '--dump', '-f', file);
  const b = lvskit('config', 'dump', '-f', file);
  t.is(a.status, 0);
  t.is(b.status, 0);
  t.is(a.stdout, b.stdout);
  t.true(a.stdout.startsWith('global_defs {\n}\n\nvrrp_instance VI_2 {\n    state BACKUP\n    interface eth0\n'));
  t.true(a.stdout.includes('\n    real_server 172.16.16.39 80 {\n        weight 10\n        inhibit_on_failure\n    }\n}\n'));
});

test('config show prints what lvskit would do with the operator\'s files; check --plan adds the conversion\'s messages', (t) => {
  const file = fixture('seed', 'multi-line', 'keepalived.conf');
  const show = lvskit('config', 'show', '-f', file);
  t.is(show.status, 0, show.stderr);
  t.regex(show.stdout, /^# VRRP\nvrrp_instance \S+: VRRPv2 IPv4 vrid \d+ on eth0/m);
  t.regex(show.stdout, /^\+ service TCP 123\.30\.175\.40:80 rr$/m);
  t.regex(show.stdout, /^\+ real server TCP 123\.30\.175\.40:80 -> 172\.16\.16\.37:80 dr weight 10$/m);
  t.regex(show.stdout, /^# health checks\n/m);
  t.notRegex(show.stdout, /auth_pass|<pass/);
  const json = JSON.parse(lvskit('config', 'show', '--ipvs', '--json', '-f', file).stdout) as { ipvs: { services: { scheduler: string }[] }; vrrp?: unknown };
  t.is(json.ipvs.services[0]?.scheduler, 'rr');
  t.is(json.vrrp, undefined);

  // The operator's files convert without a message of their own: --plan changes nothing there.
  t.is(lvskit('check', '--plan', '-f', file).stderr, lvskit('check', '-f', file).stderr);
  // A file keepalived accepts but lvskit's VRRP cannot carry out: valid for check, an error with --plan.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-plan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tracked = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(tracked, '\n\n\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 7\n' +
    '  virtual_ipaddress {\n    10.0.0.7\n  }\n  virtual_ipaddress_excluded {\n    10.0.0.8\n  }\n}\n');
  t.is(lvskit('check', '-f', tracked).status, 0);
  const planned = lvskit('check', '--plan', '-f', tracked);
  t.is(planned.status, 1);
  t.is(planned.stderr, `${tracked}:11:5: error: vrrp_instance VI_1: virtual_ipaddress_excluded is not carried by lvskit's VRRP; those addresses would never be added on MASTER\n` +
    `${tracked}: 1 error, 0 warnings; 1 file read\n`);
});

test('config show --autoban: the lvskit_autoban block as the runner gets it; without a sync daemon it counts from procfs, with a warning', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-show-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, 'lvskit_autoban {\n  threshold 100\n  ipset blacklist\n  whitelist {\n    10.0.0.0/8\n  }\n  ban_timeout 3600\n}\n');
  const r = lvskit('config', 'show', '--autoban', '-f', file);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, [
    '# autoban',
    'ban clients with more than 100 ESTABLISHED connections into ipset blacklist, counted from /proc/net/ip_vs_conn',
    '  ban timeout 3600 s',
    '  never: 10.0.0.0/8', ''].join('\n'));
  t.regex(r.stderr, /keepalived\.conf:1:1: warning: lvskit_autoban: no lvs_sync_daemon .* counting from \/proc\/net\/ip_vs_conn instead/);
  const json = JSON.parse(lvskit('config', 'show', '--autoban', '--json', '-f', file).stdout) as { autoban: { set: string; source: string; policy: { threshold: number } } };
  t.like(json.autoban, { set: 'blacklist', source: 'procfs', policy: { threshold: 100 } });
});
