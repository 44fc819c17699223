// layer: tests (unit tier)
// job: the interim keepalived.conf reader for vrrp_instance / vrrp_sync_group: the operator's block, keyword mapping, positions in errors, warnings.
import test from 'ava';
import { KeepalivedParseError, parseKeepalivedVrrp } from '../../src/vrrp/keepalived-block.js';
import { validateVrrpConfig } from '../../src/vrrp/validate.js';

/** The operator's takataka.vn instance from their notes, one keyword per line as keepalived reads it. */
const multiLine = `global_defs {
  router_id lb2v
}
# takataka.vn BACKUP instance
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  lvs_sync_daemon_interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass pass-for-instance
  }
  track_interface {
    eth0
    eth1
    eth1:2
  }
  virtual_ipaddress {
    123.30.175.40 dev eth1 label eth1:2
  }
  notify_master "/etc/keepalived/master.sh takataka"
  debug
}
virtual_server 123.30.175.40 80 {
  delay_loop 6
}
`;

test('the operator\'s instance, one keyword per line, maps to the typed settings', (t) => {
  const r = parseKeepalivedVrrp(multiLine, '/etc/keepalived/keepalived.conf');
  t.deepEqual(r.instances, [{
    name: 'VI_2', interface: 'eth0', lvsSyncDaemonInterface: 'eth0', vrid: 52, priority: 100, advertIntervalMs: 1000,
    authPass: 'pass-for-instance', trackInterfaces: ['eth0', 'eth1', 'eth1:2'],
    virtualAddresses: [{ address: '123.30.175.40', dev: 'eth1', label: 'eth1:2' }],
    notify: { master: ['/etc/keepalived/master.sh', 'takataka'] },
  }]);
  t.deepEqual(r.warnings, ['/etc/keepalived/keepalived.conf:27:1: virtual_server is not VRRP; ignored here']);
  const resolved = validateVrrpConfig(r.instances).instances[0]!;
  t.deepEqual(resolved.track, [{ dev: 'eth0', weight: 0 }, { dev: 'eth1', weight: 0 }]);
});

test('options, sync groups, vrrp_version, unicast peers and weights', (t) => {
  const text = `global_defs {
  vrrp_version 3
}
vrrp_sync_group G1 {
  group {
    VI_A
    VI_B
  }
  notify_fault /usr/local/bin/fault.sh group
}
vrrp_instance VI_A {
  interface eth0
  virtual_router_id 1
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
  garp_master_refresh 60
  garp_master_refresh_repeat 2
  track_interface {
    eth1 weight -50
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
  use_vmac
}
vrrp_instance VI_B {
  interface eth0
  virtual_router_id 2
  version 2
  virtual_ipaddress {
    10.0.0.101 brd 10.0.0.255
  }
}
`;
  const r = parseKeepalivedVrrp(text, 'k.conf');
  t.like(r.instances[0], {
    name: 'VI_A', version: 3, advertIntervalMs: 50, preempt: false, preemptDelayMs: 30_000, acceptMode: false,
    unicastSourceAddress: '10.0.0.1', unicastPeers: ['10.0.0.2', '10.0.0.3'], garpMasterDelayMs: 1000, garpMasterRepeat: 3,
    garpMasterRefreshMs: 60_000, garpMasterRefreshRepeat: 2, trackInterfaces: [{ dev: 'eth1', weight: -50 }], virtualAddresses: ['10.0.0.100/24'],
  });
  t.like(r.instances[1], { name: 'VI_B', version: 2, virtualAddresses: ['10.0.0.101'] });
  t.deepEqual(r.syncGroups, [{ name: 'G1', members: ['VI_A', 'VI_B'], notify: { fault: ['/usr/local/bin/fault.sh', 'group'] } }]);
  t.deepEqual(r.warnings, ['k.conf:33:3: use_vmac is not supported by lvskit\'s VRRP; ignored', 'k.conf:40:16: brd is ignored (the kernel\'s default is used)']);
});

test('errors name file:line:column', (t) => {
  const err = (text: string): string => t.throws(() => parseKeepalivedVrrp(text, 'x.conf'), { instanceOf: KeepalivedParseError })!.message;
  t.is(err('vrrp_instance VI {\n  interface eth0\n'), 'x.conf:1:18: block is never closed');
  t.is(err('}\n'), 'x.conf:1:1: unexpected }');
  t.is(err('vrrp_instance VI {\n  interface eth0\n  virtual_router_id x1\n}\n'), 'x.conf:3:21: virtual_router_id: "x1" is not an integer');
  t.is(err('vrrp_instance VI {\n  virtual_router_id 1\n}\n'), 'x.conf:1:1: vrrp_instance VI has no interface');
  t.is(err('vrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  authentication {\n    auth_type AH\n  }\n}\n'), 'x.conf:4:3: auth_type AH is not supported (PASS is)');
  t.is(err('vrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.1 dev\n  }\n}\n'), 'x.conf:5:14: dev needs a value');
  t.is(err('vrrp_instance VI {\n  interface "eth0\n}\n'), 'x.conf:2:13: unterminated quoted string');
});
