// layer: tests (unit)
// job: vrrp_script / track_script / track_file read, checked at their file:line:col, and converted to the trackers' TrackingConfig with keepalived's defaults and weight rules.
import test from 'ava';
import { convertVrrp } from '../../src/daemon/convert/vrrp.js';
import { messages, parse } from '../helpers/config.js';

const instance = (name: string, vrid: number, body: string[]): string =>
  [`vrrp_instance ${name} {`, '  interface eth0', `  virtual_router_id ${vrid}`, '  virtual_ipaddress {', `    10.0.0.${vrid}`, '  }', ...body.map((l) => `  ${l}`), '}'].join('\n');

test('errors at their place: a vrrp_script without script, a weight out of range, an unknown script or file, a track_file without file', (t) => {
  const r = parse([
    'vrrp_script noscript {', '  interval 2', '}',
    'vrrp_script chk {', '  script "/bin/true"', '  weight 300', '}',
    'track_file nofile {', '  weight 2', '}',
    instance('VI_1', 1, ['track_script {', '  chk weight -254', '  nope', '}', 'track_file {', '  missing', '}']),
    '',
  ].join('\n'));
  t.deepEqual(messages(r), [
    'keepalived.conf:6:10: error: `weight` 300 is outside -253..253',
    'keepalived.conf:18:16: error: `weight` -254 is outside -253..253',
    'keepalived.conf:19:5: error: vrrp_instance VI_1 tracks vrrp_script `nope`, which is not defined',
    'keepalived.conf:22:5: error: vrrp_instance VI_1 tracks track_file `missing`, which is not defined',
    'keepalived.conf:1:1: error: vrrp_script noscript has no script',
    'keepalived.conf:8:1: error: track_file nofile has no file',
  ]);
});

test('track_file: the block, its old name vrrp_track_file, init_file; the model keeps every setting', (t) => {
  const r = parse([
    'track_file a {', '  file /run/a', '  weight -3 reverse', '  init_file 7 overwrite', '}',
    'vrrp_track_file b {', '  file /run/b', '  init_file', '}',
    instance('VI_1', 1, ['track_file {', '  a weight 10 noreverse', '  b', '}']),
    '',
  ].join('\n'));
  t.deepEqual(messages(r), []);
  t.like(r.config.trackFiles?.[0], { name: 'a', file: '/run/a', weight: -3, weightReverse: true, initFile: { value: 7, overwrite: true } });
  t.like(r.config.trackFiles?.[1], { name: 'b', file: '/run/b', initFile: { value: 0, overwrite: false } });
  t.like(r.config.vrrpInstances[0]!.trackFiles?.[0], { name: 'a', weight: 10, reverse: false });
});

test('conversion: keepalived\'s defaults, the entry\'s weight over the script\'s, a sync group\'s trackers for every member (unweighted without sync_group_tracking_weight)', (t) => {
  const r = parse([
    'vrrp_script chk {', '  script "/usr/bin/test -e /run/ok"', '  weight -20 reverse', '}',
    'vrrp_script slow {', '  script /bin/true', '  interval 5', '  timeout 2', '  rise 3', '  fall 4', '  init_fail', '}',
    'vrrp_script unused {', '  script /bin/true', '}',
    'track_file tf {', '  file /run/tf', '}',
    instance('VI_1', 1, ['track_script {', '  chk', '  slow weight 7 noreverse', '}', 'track_file {', '  tf weight -2', '}']),
    instance('VI_2', 2, ['track_script {', '  chk', '}']),
    instance('VI_3', 3, []),
    'vrrp_sync_group G {', '  group {', '    VI_2', '    VI_3', '  }', '  track_file {', '    tf', '  }', '}',
    '',
  ].join('\n'));
  t.deepEqual(messages(r), []);
  const c = convertVrrp(r.config);
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:56:5: warning: vrrp_sync_group G: track_file tf weight 1 is ignored in a sync group without sync_group_tracking_weight (as keepalived): a failure is a FAULT',
    'keepalived.conf:40:5: warning: vrrp_instance VI_2: track_script chk weight -20 is ignored in a sync group without sync_group_tracking_weight (as keepalived): a failure is a FAULT',
    'keepalived.conf:13:1: warning: vrrp_script unused is tracked by no vrrp_instance or vrrp_sync_group; it is not run',
  ]);
  t.true(c.ok);
  const { scripts, files, instances, scriptSecurity } = c.tracking;
  t.deepEqual(scripts.map(({ location: _l, ...s }) => s), [
    { name: 'chk', argv: ['/usr/bin/test', '-e', '/run/ok'], intervalMs: 1000, timeoutMs: 1000, rise: 1, fall: 1, initFail: false },
    { name: 'slow', argv: ['/bin/true'], intervalMs: 5000, timeoutMs: 2000, rise: 3, fall: 4, initFail: true },
  ]);
  t.deepEqual(files.map(({ location: _l, ...f }) => f), [{ name: 'tf', path: '/run/tf' }]);
  t.deepEqual(instances, {
    VI_1: [
      { kind: 'script', name: 'chk', weight: -20, reverse: true },
      { kind: 'script', name: 'slow', weight: 7, reverse: false },
      { kind: 'file', name: 'tf', weight: -2, reverse: false },
    ],
    VI_2: [{ kind: 'script', name: 'chk', weight: 0, reverse: true }, { kind: 'file', name: 'tf', weight: 0, reverse: false }],
    VI_3: [{ kind: 'file', name: 'tf', weight: 0, reverse: false }],
  });
  t.false(scriptSecurity);
});

test('conversion: a script user that does not exist is an error at its vrrp_script; enable_script_security is carried', (t) => {
  const text = [
    'global_defs {', '  enable_script_security', '}',
    'vrrp_script chk {', '  script /bin/true', '  user nosuchuser', '}',
    instance('VI_1', 1, ['track_script {', '  chk', '}']),
    '',
  ].join('\n');
  const r = parse(text);
  const c = convertVrrp(r.config, { users: (u) => (u === 'www' ? { uid: 33, gid: 33 } : undefined) });
  t.deepEqual(messages(c.diagnostics), ['keepalived.conf:4:1: error: vrrp_script chk: no user nosuchuser to run the script as']);
  t.true(c.tracking.scriptSecurity);
  const ok = convertVrrp(parse(text.replace('nosuchuser', 'www')).config, { users: (u) => (u === 'www' ? { uid: 33, gid: 33 } : undefined) });
  t.like(ok.tracking.scripts[0], { uid: 33, gid: 33 });
});
