// layer: tests (unit)
// job: keepalived 2.x definitions ($NAME=value, multi-line, built-ins) and conditional lines (@ID, @^ID), as its man page shows them.
import test from 'ava';
import { selectConditional } from '../../src/config/conditionals.js';
import { parseDefinitionLine } from '../../src/config/defines.js';
import { loadConfig } from '../../src/config/index.js';
import { fixture, messages, parse, parseFiles } from '../helpers/config.js';

test('$NAME=value is a definition (no space before =); $NAME and ${NAME} are replaced', (t) => {
  t.deepEqual(parseDefinitionLine('$PRI=150'), { name: 'PRI', value: '150', continued: false });
  t.deepEqual(parseDefinitionLine('$EMPTY='), { name: 'EMPTY', value: '', continued: false });
  t.deepEqual(parseDefinitionLine('$M= first \\'), { name: 'M', value: 'first', continued: true });
  t.is(parseDefinitionLine('$PRI =150'), undefined);
  t.is(parseDefinitionLine('$1X=1'), undefined);
  const r = parse('$PRI=150\n$IF=eth0\nvrrp_instance VI_1 {\n  interface $IF\n  priority ${PRI}\n  virtual_router_id 1${PRI}\n}\n');
  t.deepEqual([r.config.vrrpInstances[0]?.interface, r.config.vrrpInstances[0]?.priority], ['eth0', 150]);
  t.deepEqual(messages(r.diagnostics.filter((d) => d.severity === 'error')), [
    'keepalived.conf:6:21: error: `virtual_router_id` 1150 is outside 1..255',
    'keepalived.conf:3:1: error: vrrp_instance VI_1 has no virtual_router_id (1..255): it must be set',
  ]);
});

test('replacement is recursive and done when used, not when defined (the man page example)', (t) => {
  const r = parse([
    '$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}',
    '$ADDRESS_BASE_SUB=0',
    'vrrp_instance VI_1 {',
    '  interface eth0',
    '  virtual_router_id 1',
    '  virtual_ipaddress {',
    '    ${ADDRESS_BASE}.100/32',
    '$ADDRESS_BASE_SUB=10',
    '    ${ADDRESS_BASE}.100/32',
    '  }',
    '}',
  ].join('\n'));
  t.deepEqual(r.config.vrrpInstances[0]?.virtualIpAddresses.map((v) => `${v.address}/${v.prefixLength}`), ['10.2.0.100/32', '10.2.10.100/32']);
  t.deepEqual(r.config.vrrpInstances[0]?.virtualIpAddresses.map((v) => [v.location.line, v.location.column]), [[7, 5], [9, 5]]);
});

test('multi-line definitions expand into several lines, nested and with definitions inside (the man page example)', (t) => {
  const r = parse([
    '$RS= \\',
    'real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\',
    '    weight 1 \\',
    '}',
    '',
    '$VS= \\',
    'virtual_server 10.0.${VS_NUM}.4 80 { \\',
    '    protocol TCP \\',
    '    $RS_NUM=1 \\',
    '    $RS \\',
    '    $RS_NUM=2 \\',
    '    $RS \\',
    '}',
    '',
    '$VS_NUM=0',
    '$VS',
    '$VS_NUM=1',
    '$VS',
  ].join('\n'));
  t.deepEqual(r.config.virtualServers.map((vs) => [vs.key.kind === 'address' ? vs.key.address : '', vs.realServers.map((rs) => rs.address)]), [
    ['10.0.0.4', ['192.168.0.1', '192.168.0.2']],
    ['10.0.1.4', ['192.168.1.1', '192.168.1.2']],
  ]);
  // Everything a multi-line definition produces is reported at the line that used it.
  t.deepEqual(r.config.virtualServers.map((vs) => vs.realServers.map((rs) => rs.location.line)), [[16, 16], [18, 18]]);
  t.deepEqual(messages(r), []);
});

test('built-in definitions: ${_INSTANCE}, ${_PWD}, ${_HASH}, ${_BANG}, ${_RANDOM MIN MAX}', (t) => {
  const r = parseFiles({
    '/etc/keepalived/keepalived.conf': [
      'global_defs {',
      '  router_id ${_INSTANCE}',
      '  notification_email_from a${_HASH}b${_BANG}c',
      '}',
      'vrrp_script s {',
      '  script "${_PWD}/check.sh"',
      '  weight ${_RANDOM 5 5}',
      '}',
    ].join('\n'),
  }, '/etc/keepalived/keepalived.conf', { configId: 'lb2', random: () => 0.5 });
  t.is(r.config.globalDefs.routerId, 'lb2');
  t.is(r.config.globalDefs.notificationEmailFrom, 'a#b!c');
  t.is(r.config.vrrpScripts[0]?.script?.command, '/etc/keepalived/check.sh');
  t.is(r.config.vrrpScripts[0]?.weight, 5);
});

test('an undefined ${NAME} is left as written, with a warning; a bare $NAME (e.g. in a script) silently', (t) => {
  const r = parse('global_defs {\n  router_id ${UNDEFINED}x\n  smtp_helo_name $HOME\n}\n');
  t.is(r.config.globalDefs.smtpHeloName, '$HOME');
  t.deepEqual(messages(r).slice(0, 1), ['keepalived.conf:2:13: warning: ${UNDEFINED} is not defined; it is left as written']);
});

test('a definition that refers to itself is an error, not a hang', (t) => {
  const r = parse('$LOOP=x $LOOP\nglobal_defs {\n  router_id $LOOP\n}\n');
  t.deepEqual(messages(r), [
    'keepalived.conf:3:13: error: substituting definitions on this line does not end (more than 1000 substitutions or 1048576 characters): does a definition refer to itself?',
  ]);
  const r2 = parse('$A=${B}${B}\n$B=${A}${A}\nglobal_defs {\n  router_id ${A}\n}\n');
  t.is(r2.diagnostics[0]?.code, 'definition');
});

test('@ID lines are read only with that config id, @^ID lines only without it (the man page example)', (t) => {
  t.deepEqual(selectConditional('@main router_id x', 'main'), { text: 'router_id x', offset: 6 });
  t.is(selectConditional('@main router_id x', 'backup'), undefined);
  t.is(selectConditional('@main router_id x', undefined), undefined);
  t.deepEqual(selectConditional('@^main x', 'backup'), { text: 'x', offset: 7 });
  t.is(selectConditional('@^main x', 'main'), undefined);
  t.is(selectConditional('@main', 'main'), undefined);
  const text = [
    'global_defs {',
    '    @main   router_id main_router',
    '    @backup router_id backup_router',
    '}',
    'vrrp_instance VRRP {',
    '    interface eth0',
    '    virtual_router_id 9',
    '    @main    unicast_src_ip 1.2.3.4',
    '    @backup  unicast_src_ip 1.2.3.5',
    '    @backup2 unicast_src_ip 1.2.3.6',
    '    unicast_peer {',
    '        @^main    1.2.3.4',
    '        @^backup  1.2.3.5',
    '        @^backup2 1.2.3.6',
    '    }',
    '}',
  ].join('\n');
  const main = parse(text, { configId: 'main' });
  t.is(main.config.globalDefs.routerId, 'main_router');
  t.is(main.config.vrrpInstances[0]?.sourceAddress, '1.2.3.4');
  t.deepEqual(main.config.vrrpInstances[0]?.unicastPeers.map((p) => p.address), ['1.2.3.5', '1.2.3.6']);
  t.deepEqual(main.config.vrrpInstances[0]?.unicastPeers.map((p) => p.location.column), [19, 19]);
  const other = parse(text, { configId: 'other' });
  t.is(other.config.globalDefs.routerId, undefined);
  t.deepEqual(other.config.vrrpInstances[0]?.unicastPeers.map((p) => p.address), ['1.2.3.4', '1.2.3.5', '1.2.3.6']);
});

test('conditionals and definitions combine: @main $PRIORITY=240, and $IF_MAIN=@main as a prefix', (t) => {
  const text = '@main $PRIORITY=240\n@backup $PRIORITY=200\n$IF_MAIN=@main\nvrrp_instance VI_0 {\n  priority $PRIORITY\n  $IF_MAIN advert_int 3\n}\n';
  const main = parse(text, { configId: 'main' }).config.vrrpInstances[0];
  t.deepEqual([main?.priority, main?.advertIntervalMs], [240, 3000]);
  const backup = parse(text, { configId: 'backup' }).config.vrrpInstances[0];
  t.deepEqual([backup?.priority, backup?.advertIntervalMs], [200, undefined]);
});

test('the layout fixture reads differently on lb1 and lb2 (one file for both balancers)', (t) => {
  const file = fixture('layout', 'keepalived.conf');
  const lb1 = loadConfig(file, { configId: 'lb1' });
  const lb2 = loadConfig(file, { configId: 'lb2' });
  t.deepEqual(lb1.config.vrrpInstances.map((vi) => [vi.name, vi.state, vi.priority]), [['VI_1', 'MASTER', 150], ['VI_2', 'BACKUP', 100]]);
  t.deepEqual(lb2.config.vrrpInstances.map((vi) => [vi.name, vi.state, vi.priority]), [['VI_1', 'BACKUP', 100], ['VI_2', 'MASTER', 150]]);
  t.deepEqual([lb1.config.globalDefs.routerId, lb2.config.globalDefs.routerId], ['lb1', 'lb2']);
  t.deepEqual([messages(lb1), messages(lb2)], [[], []]);
});

test('~SEQ and ~LST sequence blocks are reported as unsupported', (t) => {
  const r = parse('~SEQ(N, 1, 3) vrrp_script s$N { script /bin/true }\n');
  t.deepEqual(messages(r), ['keepalived.conf:1:1: error: ~SEQ sequence blocks are not supported by lvskit; line ignored']);
});
