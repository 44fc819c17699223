// layer: tests (unit)
// job: enable_script_security as keepalived applies it: scripts run as root and configuration files anyone but root could change are refused at their config line; without the keyword nothing is.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/diagnostics.js';
import { parseConfigText } from '../../src/config/index.js';
import { loadDesired } from '../../src/daemon/desired.js';
import { scriptSecurityFindings } from '../../src/daemon/script-security.js';
import { dir, fakePathFs, file } from '../helpers/fake-path-fs.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

// The rule itself (each path part, links, sticky directories): test/unit/path-security.test.ts.
function fakeStat(extra: Parameters<typeof fakePathFs>[0]) {
  return fakePathFs({ '/etc': dir(), '/etc/keepalived': dir(), '/etc/keepalived/keepalived.conf': file(0o644), '/tmp': dir(0o1777), ...extra });
}

const CONF = `global_defs {
  router_id lb1
  enable_script_security
}
vrrp_script chk {
  script "/etc/keepalived/chk.sh"
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  notify_master "/etc/keepalived/up.sh master"
  virtual_ipaddress {
    10.0.0.1/32
  }
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.0.1.1 80 {
    MISC_CHECK {
      misc_path "/srv/check.sh"
      user nobody
    }
  }
  real_server 10.0.1.2 80 {
    MISC_CHECK {
      misc_path "/srv/check.sh"
    }
  }
}
`;

function model(text: string) {
  const parsed = parseConfigText(text, { file: '/etc/keepalived/keepalived.conf' });
  if (!parsed.ok) throw new ConfigError(parsed.diagnostics);
  return parsed.config;
}

test('each insecure script run as root is an error at its block line (a vrrp_script a warning: the trackers disable it at run time); a MISC_CHECK run as another user is not checked; config files are', (t) => {
  const stat = fakeStat({
    '/etc/keepalived/chk.sh': file(0o757), '/etc/keepalived/up.sh': file(0o755, 1000),
    '/srv': dir(0o777), '/srv/check.sh': file(),
  });
  const found = scriptSecurityFindings(model(CONF), ['/etc/keepalived/keepalived.conf', '/srv/services.conf'], stat);
  t.deepEqual(found.map((d) => [d.location.line, d.message.replace(/; refused\..*$|\. Fix.*$/, '')]), [
    [5, 'enable_script_security: vrrp_script /etc/keepalived/chk.sh would run as root, and /etc/keepalived/chk.sh (uid 0, gid 0, mode 0757) is writable by others; it will be disabled when lvskit runs (as keepalived does)'],
    [8, 'enable_script_security: script /etc/keepalived/up.sh would run as root, and /etc/keepalived/up.sh (uid 1000, gid 0, mode 0755) is not owned by root'],
    [27, 'enable_script_security: script /srv/check.sh would run as root, and /srv (uid 0, gid 0, mode 0777) is writable by others'],
    [1, 'enable_script_security: configuration file /srv/services.conf could be changed by others: /srv (uid 0, gid 0, mode 0777) is writable by others'],
  ]);
  t.deepEqual(found.map((d) => d.severity), ['warning', 'error', 'error', 'error']);
  t.true(found.every((d) => d.code === 'script-security'));
  t.deepEqual(scriptSecurityFindings(model(CONF.replace('  enable_script_security\n', '')), ['/srv/services.conf'], stat), [], 'without the keyword nothing is refused');
});

test('lvskit refuses a configuration whose script is world-writable under enable_script_security, naming script and line (real files)', (t) => {
  if (process.getuid?.() !== 0) {
    t.log('skipped: needs root (the rule wants files owned by root); CI runs the unit tier as root');
    return t.pass();
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-scriptsec-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const script = path.join(root, 'up.sh');
  fs.writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const conf = path.join(root, 'keepalived.conf');
  const include = path.join(root, 'services.conf');
  fs.writeFileSync(include, '# services\n', { mode: 0o644 });
  fs.writeFileSync(conf, `global_defs {\n  router_id lb1\n  enable_script_security\n}\nvrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 51\n  priority 100\n  notify_master "${script}"\n  virtual_ipaddress {\n    10.0.0.1/32\n  }\n}\ninclude ${include}\n`, { mode: 0o644 });
  t.notThrows(() => loadDesired({ file: conf, configId: 'lb1' }), 'all owned by root, writable only by root');
  fs.chmodSync(script, 0o777);
  const error = t.throws(() => loadDesired({ file: conf, configId: 'lb1' }), { instanceOf: ConfigError });
  t.regex(error!.message, new RegExp(`${conf}:5:1: enable_script_security: script ${script} would run as root, and ${script} \\(uid 0, gid 0, mode 0777\\) is writable by others`));
  const check = spawnSync(process.execPath, [CLI, 'check', conf], { encoding: 'utf8' });
  t.is(check.status, 1, 'lvskit check reports it too');
  t.regex(check.stderr, new RegExp(`${conf}:5:1: error: enable_script_security: script ${script} would run as root`));
  fs.chmodSync(script, 0o755);
  t.is(spawnSync(process.execPath, [CLI, 'check', conf], { encoding: 'utf8' }).status, 0);
  fs.chmodSync(include, 0o666);
  const included = t.throws(() => loadDesired({ file: conf, configId: 'lb1' }), { instanceOf: ConfigError });
  t.regex(included!.message, new RegExp(`${include}:1:1: enable_script_security: configuration file ${include} could be changed by others`));
});
