// layer: tests (unit)
// job: lvskit_autoban in keepalived.conf becomes the autoban's settings (config/convert.ts), with the sync stream of lvs_sync_daemon.
import test from 'ava';
import { parseConfigText } from '../../src/config/index.js';
import { autobanSettings } from '../../src/daemon/convert.js';

function settingsOf(text: string): ReturnType<typeof autobanSettings> {
  const parsed = parseConfigText(text);
  if (!parsed.ok) throw new Error(parsed.diagnostics.map((d) => d.message).join('; '));
  return autobanSettings(parsed.config);
}

const BLOCK = `lvskit_autoban {
  threshold 100
  ipset autoban
  whitelist {
    10.0.0.0/8
    2001:db8::/32
    192.0.2.7
  }
  static_blacklist /etc/itim/firewall/static_blacklist
  ban_timeout 3600
  interval 30
}
`;

test('every setting of the block, following global_defs lvs_sync_daemon (id, port, group)', (t) => {
  const instance = 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    192.0.2.100\n  }\n}\n';
  const { settings, diagnostics } = settingsOf(`global_defs {\n  lvs_sync_daemon eth0 VI_1 id 52 port 8850 group 224.0.0.90\n}\n${instance}${BLOCK}`);
  t.deepEqual(diagnostics, []);
  t.deepEqual(settings, {
    set: 'autoban',
    policy: { threshold: 100, whitelist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7/32'], banTimeoutSec: 3600, dryRun: false },
    staticBlacklist: '/etc/itim/firewall/static_blacklist',
    intervalMs: 30_000,
    source: 'sync',
    sync: { interface: 'eth0', syncId: 52, port: 8850, group: '224.0.0.90' },
  });
});

test('the operator\'s keepalived 1.x form: lvs_sync_daemon_interface in an instance (any sync id)', (t) => {
  const { settings } = settingsOf(`vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  lvs_sync_daemon_interface eth0
  virtual_router_id 52
  priority 100
  virtual_ipaddress {
    123.30.175.40 dev eth1 label eth1:2
  }
}
${BLOCK.replace('  ban_timeout 3600\n', '  dry_run\n')}`);
  t.deepEqual(settings?.sync, { interface: 'eth0' });
  t.is(settings?.policy.banTimeoutSec, 0, 'no ban_timeout: bans without end');
  t.true(settings?.policy.dryRun);
});

test('source sync without any sync daemon falls back to procfs with a warning at the block', (t) => {
  const { settings, diagnostics } = settingsOf(BLOCK);
  t.is(settings?.source, 'procfs');
  t.is(settings?.sync, undefined);
  t.is(diagnostics.length, 1);
  t.like(diagnostics[0], { severity: 'warning', code: 'missing-setting', location: { line: 1 } });
});

test('source procfs is kept; no block, no settings', (t) => {
  t.is(settingsOf(BLOCK.replace('interval 30', 'source procfs')).settings?.source, 'procfs');
  t.deepEqual(settingsOf('global_defs {\n  router_id lb1\n}\n'), { diagnostics: [] });
});
