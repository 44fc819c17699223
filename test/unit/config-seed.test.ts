// layer: tests (unit)
// job: the operator's snippets (from the site notes) read to the expected model, in their multi-line and one-line forms.
import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import type { KeepalivedConfig } from '../../src/config/model.js';
import { fixture, messages, withoutLocations } from '../helpers/config.js';

/** What the notes describe: takataka.vn as a BACKUP instance and its DR service with three real servers. */
const EXPECTED: KeepalivedConfig = {
  globalDefs: { notificationEmail: [] },
  vrrpScripts: [],
  vrrpSyncGroups: [],
  vrrpInstances: [{
    name: 'VI_2',
    state: 'BACKUP',
    interface: 'eth0',
    lvsSyncDaemonInterface: 'eth0',
    virtualRouterId: 52,
    priority: 100,
    advertIntervalMs: 1000,
    authentication: { type: 'PASS', password: '<pass-fo' },
    trackInterfaces: [{ name: 'eth0' }, { name: 'eth1' }, { name: 'eth1:2' }],
    trackScripts: [],
    virtualIpAddresses: [{ address: '123.30.175.40', family: 4, device: 'eth1', label: 'eth1:2' }],
    virtualIpAddressesExcluded: [],
    unicastPeers: [],
    debug: 0,
  }] as unknown as KeepalivedConfig['vrrpInstances'],
  virtualServerGroups: [],
  virtualServers: [{
    key: { kind: 'address', address: '123.30.175.40', family: 4, port: 80 },
    delayLoopMs: 6000,
    scheduler: 'rr',
    method: { kind: 'DR' },
    protocol: 'TCP',
    schedulerFlags: [],
    realServers: ['172.16.16.37', '172.16.16.38', '172.16.16.39'].map((address) => ({
      address, family: 4, port: 80, weight: 10, inhibitOnFailure: true, checkers: [],
    })),
  }] as unknown as KeepalivedConfig['virtualServers'],
};

test('multi-line snippets: keepalived.conf + services/takataka.vn.conf read to the expected model', (t) => {
  const file = fixture('seed', 'multi-line', 'keepalived.conf');
  const r = loadConfig(file);
  t.deepEqual(withoutLocations(r.config), EXPECTED);
  t.deepEqual(r.files, [file, fixture('seed', 'multi-line', 'services', 'takataka.vn.conf')]);
  t.is(r.errorCount, 0);
  t.deepEqual(messages(r), [
    `${file}:5:5: warning: \`lvs_sync_daemon_interface\` in a vrrp_instance is deprecated by keepalived 2 (use global_defs lvs_sync_daemon IF INSTANCE); lvskit reads it the same way`,
    `${file}:11:19: warning: auth_pass is longer than 8 characters; only the first 8 are used (keepalived truncates too)`,
    `${file}:21:5: warning: a bare \`debug\` (keepalived 1.x) is read as \`debug 0\`; keepalived 2.2 refuses it and needs a level 0..4`,
    `${file}:14:9: warning: vrrp_instance VI_2 tracks its own interface eth0, which it always does; keepalived ignores this entry`,
    `${file}:16:9: warning: eth1:2 is an address label, not an interface; it cannot be tracked (keepalived: "tracked interface eth1:2 doesn't exist")`,
  ]);
});

test('multi-line snippets: every object carries the file:line:col of its keyword', (t) => {
  const r = loadConfig(fixture('seed', 'multi-line', 'keepalived.conf'));
  const services = fixture('seed', 'multi-line', 'services', 'takataka.vn.conf');
  t.deepEqual(r.config.vrrpInstances[0]?.location, { file: fixture('seed', 'multi-line', 'keepalived.conf'), line: 2, column: 1 });
  t.deepEqual(r.config.vrrpInstances[0]?.virtualIpAddresses[0]?.location, { file: fixture('seed', 'multi-line', 'keepalived.conf'), line: 19, column: 9 });
  t.deepEqual(r.config.virtualServers[0]?.location, { file: services, line: 2, column: 1 });
  t.deepEqual(r.config.virtualServers[0]?.realServers.map((rs) => rs.location.line), [8, 12, 16]);
});

test('one-line snippets (blocks on one line, as the notes show them) read to the same model, with keepalived-compat warnings', (t) => {
  const file = fixture('seed', 'one-line', 'keepalived.conf');
  const services = fixture('seed', 'one-line', 'services', 'takataka.vn.conf');
  const r = loadConfig(file);
  t.deepEqual(withoutLocations(r.config), EXPECTED);
  t.is(r.errorCount, 0);
  const compat = r.diagnostics.filter((d) => d.code === 'keepalived-compat' && d.message.includes('on one line')).map((d) => d.message);
  t.deepEqual(compat, [
    '7 keywords on one line (state, interface, lvs_sync_daemon_interface, virtual_router_id, …): lvskit reads each; keepalived 2.2 reads only `state` and ignores the rest of the line',
    '5 keywords on one line (delay_loop, lb_algo, lb_kind, protocol, …): lvskit reads each; keepalived 2.2 reads only `delay_loop` and ignores the rest of the line',
  ]);
  t.deepEqual(messages(r).filter((m) => m.includes('on one line')).map((m) => m.split(': warning')[0]), [`${file}:2:35`, `${services}:2:48`]);
  // Columns count within the one line.
  t.deepEqual(r.config.vrrpInstances[0]?.virtualIpAddresses[0]?.location, { file, line: 2, column: 249 });
  t.deepEqual(r.config.virtualServers[0]?.realServers.map((rs) => rs.location.column), [83, 144, 205]);
});

test('the notes\' lines verbatim start with "#": keepalived reads them as comments, and so does lvskit', (t) => {
  const r = loadConfig(fixture('seed', 'notes-lines.conf'));
  t.deepEqual(withoutLocations(r.config), withoutLocations({ ...EXPECTED, vrrpInstances: [], virtualServers: [] }));
  t.deepEqual(messages(r), []);
});

test('the notes\' virtual_server line verbatim: the "# persistence_timeout 50" comment hides the rest of the line, so the block never closes', (t) => {
  const file = fixture('seed', 'notes-virtual-server.conf');
  const r = loadConfig(file);
  t.false(r.ok);
  t.deepEqual(messages(r).slice(0, 2), [
    `${file}:1:33: error: the \`virtual_server\` block opened here is not closed ('}' missing before the end of the configuration)\n` +
    `${file}:1:70: note: this comment holds a brace; everything after '#' or '!' to the end of the line is not read`,
    `${file}:1:48: warning: 3 keywords on one line (delay_loop, lb_algo, lb_kind): lvskit reads each; keepalived 2.2 reads only \`delay_loop\` and ignores the rest of the line`,
  ]);
  t.deepEqual(r.config.virtualServers[0]?.realServers, []);
});
