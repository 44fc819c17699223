// layer: tests (unit)
// job: keepalived.conf → VrrpRunner input through src/config: the operator's block (one-line and multi-line), every converted keyword, global defaults, sync groups, the sync daemon, located diagnostics.
import test from 'ava';
import { convertVrrp, syncDaemonActions } from '../../src/daemon/convert.js';
import { loadConfig } from '../../src/config/index.js';
import { validateVrrpConfig } from '../../src/vrrp/validate.js';
import { errors, fixture, messages, parse } from '../helpers/config.js';

/** The operator's takataka.vn instance (from their notes), as VrrpRunner takes it. */
const OPERATOR_VI_2 = {
  name: 'VI_2', interface: 'eth0', vrid: 52, priority: 100, advertIntervalMs: 1000, authPass: '<pass-fo',
  virtualAddresses: [{ address: '123.30.175.40', dev: 'eth1', label: 'eth1:2' }],
  trackInterfaces: ['eth0', 'eth1', 'eth1:2'], lvsSyncDaemonInterface: 'eth0',
};

for (const form of ['one-line', 'multi-line']) {
  test(`the operator's ${form} keepalived.conf becomes the same VRRP instance, with nothing it cannot carry`, (t) => {
    const r = loadConfig(fixture('seed', form, 'keepalived.conf'));
    t.true(r.ok);
    const c = convertVrrp(r.config);
    t.deepEqual(c.instances, [OPERATOR_VI_2]);
    t.deepEqual(c.syncGroups, []);
    t.deepEqual(c.syncDaemon, { interface: 'eth0', instance: 'VI_2', syncId: 52 });
    t.deepEqual(c.diagnostics, []);
    t.true(c.ok);
    // What the runner makes of it: eth1:2 tracks its link eth1; the instance's own interface is tracked once.
    const resolved = validateVrrpConfig(c.instances).instances[0]!;
    t.deepEqual(resolved.track, [{ dev: 'eth0', weight: 0 }, { dev: 'eth1', weight: 0 }]);
    t.like(resolved, { version: 2, advertIntervalCs: 100, preempt: true, acceptMode: true, lvsSyncDaemonInterface: 'eth0' });
    t.is(resolved.authData?.toString(), '<pass-fo');
  });
}

test('the layout: @lb1 / @lb2 lines pick priorities, global lvs_sync_daemon drives VI_1 with id 51; its track_script becomes a tracker', (t) => {
  const lb1 = convertVrrp(loadConfig(fixture('layout', 'keepalived.conf'), { configId: 'lb1' }).config);
  const lb2 = convertVrrp(loadConfig(fixture('layout', 'keepalived.conf'), { configId: 'lb2' }).config);
  t.deepEqual(lb1.instances.map((i) => [i.name, i.priority]), [['VI_1', 150], ['VI_2', 100]]);
  t.deepEqual(lb2.instances.map((i) => [i.name, i.priority]), [['VI_1', 100], ['VI_2', 150]]);
  t.deepEqual(lb1.instances[0], {
    name: 'VI_1', interface: 'eth0', vrid: 51, priority: 150, advertIntervalMs: 1000, authPass: 'takataka',
    virtualAddresses: [{ address: '123.30.175.40', dev: 'eth1', label: 'eth1:2' }],
    trackInterfaces: [{ dev: 'eth1', weight: -20 }], lvsSyncDaemonInterface: 'eth0',
  });
  t.is(lb1.instances[1]!.lvsSyncDaemonInterface, undefined);
  t.deepEqual(lb1.syncDaemon, { interface: 'eth0', instance: 'VI_1', syncId: 51 });
  t.deepEqual(messages(lb1.diagnostics), []);
  t.true(lb1.ok);
  t.like(lb1.tracking.scripts[0], { name: 'chk_eth1', argv: ['/usr/bin/test', '-e', '/sys/class/net/eth1'], intervalMs: 2000, timeoutMs: 2000, rise: 2, fall: 2, initFail: false });
  t.deepEqual(lb1.tracking.instances, { VI_1: [{ kind: 'script', name: 'chk_eth1', weight: 0, reverse: false }] });
});

test('every converted keyword, and global_defs defaults (vrrp_version, vrrp_garp_master_*, default_interface)', (t) => {
  const r = parse(`global_defs {
  vrrp_version 3
  default_interface bond0
  vrrp_garp_master_delay 2
  vrrp_garp_master_repeat 4
  vrrp_garp_master_refresh 30
  vrrp_garp_master_refresh_repeat 2
}
vrrp_instance VI_A {
  state MASTER
  interface eth0
  virtual_router_id 1
  priority 200
  advert_int 0.05
  nopreempt
  preempt_delay 30
  no_accept
  unicast_src_ip 10.0.0.1
  unicast_peer {
    10.0.0.2
    10.0.0.3
  }
  garp_master_delay 1
  garp_master_repeat 3
  track_interface {
    eth1 weight -50
    eth2 weight 10
    eth3
  }
  virtual_ipaddress {
    10.0.0.100/24 brd + scope link dev eth0 label eth0:1
    10.0.0.101 brd 10.0.0.255
    10.0.0.102 scope host
  }
  notify_master "/usr/local/bin/master.sh VI_A"
  notify_backup /usr/local/bin/backup.sh
  notify_fault /usr/local/bin/fault.sh
  notify_stop /usr/local/bin/stop.sh
  notify /usr/local/bin/notify.sh
}
vrrp_instance VI_B {
  unicast_peer {
    10.0.1.2
  }
  virtual_router_id 2
  version 2
  preempt_delay 1.5
  virtual_ipaddress {
    10.0.1.100
  }
}
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 3
  virtual_ipaddress {
    2001:db8::10/64
  }
}
`);
  t.deepEqual(errors(r), []);
  const c = convertVrrp(r.config);
  t.deepEqual(c.instances, [
    {
      name: 'VI_A', interface: 'eth0', vrid: 1, priority: 200, version: 3, advertIntervalMs: 50,
      // nopreempt with state MASTER is ignored, as keepalived ignores it (config validation warns).
      preemptDelayMs: 30_000, acceptMode: false, unicastSourceAddress: '10.0.0.1', unicastPeers: ['10.0.0.2', '10.0.0.3'],
      trackInterfaces: [{ dev: 'eth1', weight: -50 }, { dev: 'eth2', weight: 10 }, 'eth3'],
      virtualAddresses: [
        { address: '10.0.0.100/24', dev: 'eth0', label: 'eth0:1', scope: 'link', broadcast: '10.0.0.255' },
        { address: '10.0.0.101', broadcast: '10.0.0.255' },
        { address: '10.0.0.102', scope: 'host' },
      ],
      garpMasterDelayMs: 1000, garpMasterRepeat: 3, garpMasterRefreshMs: 30_000, garpMasterRefreshRepeat: 2,
      notify: {
        master: ['/usr/local/bin/master.sh', 'VI_A'], backup: ['/usr/local/bin/backup.sh'], fault: ['/usr/local/bin/fault.sh'],
        stop: ['/usr/local/bin/stop.sh'], notify: ['/usr/local/bin/notify.sh'],
      },
    },
    {
      name: 'VI_B', interface: 'bond0', vrid: 2, version: 2, preemptDelayMs: 1500, unicastPeers: ['10.0.1.2'], virtualAddresses: ['10.0.1.100'],
      garpMasterDelayMs: 2000, garpMasterRepeat: 4, garpMasterRefreshMs: 30_000, garpMasterRefreshRepeat: 2,
    },
    {
      name: 'VI_6', interface: 'eth0', vrid: 3, version: 3, virtualAddresses: ['2001:db8::10/64'],
      garpMasterDelayMs: 2000, garpMasterRepeat: 4, garpMasterRefreshMs: 30_000, garpMasterRefreshRepeat: 2,
    },
  ]);
  t.deepEqual(c.diagnostics, []);
  const resolved = validateVrrpConfig(c.instances).instances;
  t.deepEqual(resolved[0]!.vips[0], { address: '10.0.0.100', prefixLength: 24, dev: 'eth0', label: 'eth0:1', scope: 'link', broadcast: '10.0.0.255' });
  t.like(resolved[0], { preempt: true, advertIntervalCs: 5, family: 4 });
  t.like(resolved[2], { version: 3, family: 6 });
});

test('advert_int: whole seconds for VRRPv2 (keepalived rounds), centiseconds for VRRPv3 with a warning', (t) => {
  const r = parse('vrrp_instance V2 {\n  interface eth0\n  virtual_router_id 1\n  advert_int 1.4\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n'
    + 'vrrp_instance V3 {\n  version 3\n  interface eth0\n  virtual_router_id 2\n  advert_int 0.123\n  virtual_ipaddress {\n    10.0.0.2\n  }\n}\n');
  const c = convertVrrp(r.config);
  t.deepEqual(c.instances.map((i) => i.advertIntervalMs), [1000, 120]);
  t.deepEqual(messages(c.diagnostics), ['keepalived.conf:9:1: warning: vrrp_instance V3: advert_int 0.123 s is rounded to 0.12 s (VRRPv3 carries centiseconds)']);
});

test('sync groups: members, notify scripts, track_interface for every member; weights ignored without sync_group_tracking_weight', (t) => {
  const r = parse(`vrrp_sync_group G1 {
  group {
    VI_A
    VI_B
  }
  track_interface {
    eth9 weight 20
  }
  notify_fault "/usr/local/bin/fault.sh group"
}
vrrp_sync_group G2 {
  group {
    VI_C
    VI_D
  }
  track_interface {
    eth8 weight 5
  }
  sync_group_tracking_weight
}
vrrp_instance VI_A {
  interface eth0
  virtual_router_id 1
  track_interface {
    eth1 weight -50
  }
  virtual_ipaddress {
    10.0.0.1
  }
}
vrrp_instance VI_B {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress {
    10.0.0.2
  }
}
vrrp_instance VI_C {
  interface eth0
  virtual_router_id 3
  virtual_ipaddress {
    10.0.0.3
  }
}
vrrp_instance VI_D {
  interface eth0
  virtual_router_id 4
  virtual_ipaddress {
    10.0.0.4
  }
}
`);
  const c = convertVrrp(r.config);
  t.deepEqual(c.syncGroups, [
    { name: 'G1', members: ['VI_A', 'VI_B'], notify: { fault: ['/usr/local/bin/fault.sh', 'group'] } },
    { name: 'G2', members: ['VI_C', 'VI_D'] },
  ]);
  t.deepEqual(c.instances.map((i) => i.trackInterfaces), [['eth1', 'eth9'], ['eth9'], [{ dev: 'eth8', weight: 5 }], [{ dev: 'eth8', weight: 5 }]]);
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:7:5: warning: vrrp_sync_group G1: track_interface eth9 weight 20 is ignored in a sync group without sync_group_tracking_weight (as keepalived): a down link is a FAULT',
    'keepalived.conf:25:5: warning: vrrp_instance VI_A: track_interface eth1 weight -50 is ignored in a sync group without sync_group_tracking_weight (as keepalived): a down link is a FAULT',
  ]);
  t.deepEqual(validateVrrpConfig(c.instances, c.syncGroups).syncGroups.map((g) => g.members), [['VI_A', 'VI_B'], ['VI_C', 'VI_D']]);
});

test('the sync daemon: global lvs_sync_daemon with its options; the hook starts the daemon of the state and stops the other', (t) => {
  const r = parse(`global_defs {
  lvs_sync_daemon eth1 VI_A id 9 maxlen 1400 port 8850 ttl 2 group 239.1.1.1
}
vrrp_instance VI_A {
  interface eth0
  virtual_router_id 1
  lvs_sync_daemon_interface eth7
  virtual_ipaddress {
    10.0.0.1
  }
}
`);
  const c = convertVrrp(r.config);
  const settings = { interface: 'eth1', instance: 'VI_A', syncId: 9, maxLength: 1400, port: 8850, ttl: 2, group: '239.1.1.1' };
  t.deepEqual(c.syncDaemon, settings);
  t.is(c.instances[0]!.lvsSyncDaemonInterface, 'eth1', 'the global one overrides the legacy keyword, as in keepalived');
  t.deepEqual(syncDaemonActions(settings, { role: 'master' }), {
    stop: ['backup'], start: { state: 'master', interface: 'eth1', syncId: 9, maxLength: 1400, group: '239.1.1.1', port: 8850, ttl: 2 },
  });
  t.deepEqual(syncDaemonActions(settings, { role: 'backup' }).stop, ['master']);
  t.is(syncDaemonActions(settings, { role: 'backup' }).start?.state, 'backup');
  t.deepEqual(syncDaemonActions(settings, { role: 'stop' }), { stop: ['master', 'backup'] });
  const noInstance = convertVrrp(parse('global_defs {\n  lvs_sync_daemon eth1\n}\n').config);
  t.deepEqual(noInstance.syncDaemon, { interface: 'eth1', syncId: 0 });
});

test('what VRRP cannot carry is reported at its place: errors where failover would differ, warnings for details', (t) => {
  const r = parse(`global_defs {
  vrrp_mcast_group4 224.0.0.20
  script_user nobody
}
vrrp_script chk {
  script /bin/true
}
vrrp_instance VI_A {
  interface eth0
  virtual_router_id 1
  authentication {
    auth_type AH
    auth_pass secret
  }
  track_interface {
    eth1 weight 10 reverse
  }
  track_script {
    chk
  }
  virtual_ipaddress {
    10.0.0.1 peer 10.0.0.9 -nodad
  }
  virtual_ipaddress_excluded {
    10.0.0.50
  }
  notify_master /usr/local/bin/master.sh
  unicast_ttl 64
  smtp_alert
}
`);
  const c = convertVrrp(r.config);
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:22:5: warning: 10.0.0.1: peer, -nodad are not carried by lvskit\'s VRRP; the address is added without them (vrrp_instance VI_A)',
    'keepalived.conf:8:1: error: vrrp_instance VI_A: auth_type AH is not supported by lvskit\'s VRRP (PASS is)',
    'keepalived.conf:16:5: error: vrrp_instance VI_A: track_interface eth1 reverse: lvskit\'s VRRP has no reversed tracking (a positive weight adds while up, a negative one subtracts while down)',
    'keepalived.conf:8:1: warning: vrrp_instance VI_A notify_master runs as lvskit\'s own user, not as nobody (only MISC_CHECK scripts change user)',
    'keepalived.conf:25:5: error: vrrp_instance VI_A: virtual_ipaddress_excluded is not carried by lvskit\'s VRRP; those addresses would never be added on MASTER',
    'keepalived.conf:8:1: error: vrrp_instance VI_A: adverts to multicast group 224.0.0.20 (vrrp_mcast_group4) are not supported; lvskit\'s VRRP uses 224.0.0.18',
    'keepalived.conf:8:1: warning: vrrp_instance VI_A: unicast_ttl 64: lvskit\'s VRRP sends every advert with TTL 255',
    'keepalived.conf:8:1: warning: vrrp_instance VI_A: smtp_alert: lvskit sends no e-mail (use the notify scripts)',
    'keepalived.conf:5:1: error: vrrp_script chk: no user nobody to run the script as',
  ]);
  t.false(c.ok);
});

test('VRRP\'s own refusals come back at the config line they came from', (t) => {
  // A label on the device of another instance's interface passes config validation, but VRRP refuses
  // a weight on an address owner: reported at the track_interface entry.
  const r = parse('vrrp_instance VI_A {\n  interface eth0\n  virtual_router_id 1\n  priority 255\n  track_interface {\n    eth1 weight 10\n  }\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n');
  t.deepEqual(errors(r), []);
  const c = convertVrrp(r.config);
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:6:5: error: VI_A: track_interface weight: an address owner (priority 255) cannot have weighted tracking',
  ]);
  t.deepEqual(c.locate('instances[0].virtualAddresses[0]'), { file: 'keepalived.conf', line: 9, column: 5 });
  t.deepEqual(convertVrrp(r.config, { validate: false }).diagnostics, []);
});

test('a VIP listed twice in one instance (keepalived\'s sample keepalived.conf.vrrp) is converted once, the first entry kept', (t) => {
  const r = parse(`vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 50
  virtual_ipaddress {
    192.168.200.17
    192.168.200.18
    192.168.200.18 label eth0:1
  }
}
`);
  t.regex(messages(r).join('\n'), /^keepalived\.conf:7:5: warning: 192\.168\.200\.18 is listed twice in vrrp_instance VI_1\n.*note: the first 192\.168\.200\.18 is here$/);
  t.deepEqual(errors(r), []);
  const c = convertVrrp(r.config);
  t.true(c.ok, messages(c.diagnostics).join('\n'));
  t.deepEqual(c.instances[0]?.virtualAddresses, ['192.168.200.17', '192.168.200.18']);
  t.notThrows(() => validateVrrpConfig(c.instances));
});
