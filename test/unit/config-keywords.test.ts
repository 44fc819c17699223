// layer: tests (unit)
// job: every supported keyword reads into its model field (kitchen-sink fixture); unknown, unsupported, missing,
//      extra and malformed arguments are reported at their place.
import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import { fixture, messages, parse, withoutLocations } from '../helpers/config.js';

/** The model of test/fixtures/config/kitchen-sink.conf, which uses every keyword lvskit reads. */
const KITCHEN_SINK = {
  globalDefs: {
    notificationEmail: [ 'ops@example.com', 'noc@example.com' ],
    netNamespace: 'lb',
    netNamespaceIpvs: 'ipvs-ns',
    routerId: 'lb1',
    notificationEmailFrom: 'lvs@example.com',
    smtpServer: { host: '192.0.2.25', port: 2525 },
    smtpHeloName: 'lb1.example.com',
    smtpConnectTimeoutMs: 30000,
    smtpAlert: true,
    smtpAlertVrrp: false,
    smtpAlertChecker: true,
    noEmailFaults: true,
    checkerLogAllFailures: true,
    defaultInterface: 'eth9',
    vrrpVersion: 3,
    vrrpMcastGroup4: '224.0.0.19',
    vrrpMcastGroup6: 'ff02::13',
    vrrpGarpMasterDelayMs: 10000,
    vrrpGarpMasterRepeat: 3,
    vrrpGarpLowerPrioDelayMs: 7000,
    vrrpGarpLowerPrioRepeat: 2,
    vrrpGarpMasterRefreshMs: 60000,
    vrrpGarpMasterRefreshRepeat: 4,
    vrrpGarpIntervalMs: 1,
    vrrpGnaIntervalMs: 0.001,
    vrrpMinGarp: true,
    vrrpLowerPrioNoAdvert: true,
    vrrpHigherPrioSendAdvert: false,
    vrrpCheckUnicastSrc: true,
    vrrpSkipCheckAdvAddr: true,
    vrrpStrict: false,
    vrrpStartupDelayMs: 5500,
    vrrpDownTimerAdverts: 4,
    scriptUser: { user: 'keepalived_script', group: 'scripts' },
    enableScriptSecurity: true,
    lvsSyncDaemon: { interface: 'eth0', instance: 'VI_1', syncId: 7, maxLength: 1400, port: 8849, ttl: 2, group: '224.0.0.82' },
    lvsTimeouts: { tcpSec: 7200, tcpFinSec: 120, udpSec: 300 },
    lvsFlush: true,
    lvsFlushOnStop: 'vs'
  },
  vrrpScripts: [
    {
      name: 'chk_haproxy',
      script: {
        command: "/usr/bin/killall -0 'ha proxy'",
        argv: [ '/usr/bin/killall', '-0', 'ha proxy' ],
        user: 'nobody',
        group: 'nogroup'
      },
      intervalMs: 2500,
      timeoutMs: 1000,
      weight: -30,
      weightReverse: true,
      rise: 3,
      fall: 4,
      user: 'haproxy',
      group: 'users',
      initFail: true
    },
    { name: 'chk_web', script: { command: '/usr/local/bin/chk_web.sh', argv: [ '/usr/local/bin/chk_web.sh' ] } }
  ],
  vrrpSyncGroups: [
    {
      name: 'SG_1',
      group: [ { name: 'VI_1' }, { name: 'VI_6' } ],
      trackInterfaces: [ { name: 'eth2', weight: 5 } ],
      trackScripts: [ { name: 'chk_web', weight: -10, reverse: false } ],
      notify: { command: '/usr/local/bin/notify.sh group', argv: [ '/usr/local/bin/notify.sh', 'group' ] },
      notifyMaster: { command: '/usr/local/bin/master.sh', argv: [ '/usr/local/bin/master.sh' ] },
      notifyBackup: { command: '/usr/local/bin/backup.sh', argv: [ '/usr/local/bin/backup.sh' ] },
      notifyFault: { command: '/usr/local/bin/fault.sh SG_1', argv: [ '/usr/local/bin/fault.sh', 'SG_1' ], user: 'root', group: 'root' },
      notifyStop: { command: '/usr/local/bin/stop.sh', argv: [ '/usr/local/bin/stop.sh' ] },
      notifyMasterRxLowerPri: { command: '/usr/local/bin/lower.sh', argv: [ '/usr/local/bin/lower.sh' ] },
      smtpAlert: true,
      globalTracking: true,
      syncGroupTrackingWeight: true
    }
  ],
  vrrpInstances: [
    {
      name: 'VI_1',
      virtualIpAddresses: [
        {
          address: '192.0.2.10',
          family: 4,
          prefixLength: 24,
          broadcast: '192.0.2.255',
          device: 'eth1',
          scope: 'global',
          label: 'eth1:10'
        },
        {
          address: '192.0.2.11',
          family: 4,
          broadcast: '+',
          device: 'eth1',
          scope: 'link',
          peer: '192.0.2.99',
          home: true,
          noDad: true,
          mngTmpAddr: true,
          noPrefixRoute: true,
          autoJoin: true,
          noTrack: true,
          preferredLifetimeSec: 0xffffffff
        },
        { address: '192.0.2.12', family: 4, prefixLength: 32, scope: '253', preferredLifetimeSec: 30 }
      ],
      virtualIpAddressesExcluded: [ { address: '2001:db8::10', family: 6, prefixLength: 64, device: 'eth1' } ],
      trackInterfaces: [ { name: 'eth1' }, { name: 'eth2', weight: 10, reverse: true } ],
      trackScripts: [ { name: 'chk_haproxy' }, { name: 'chk_web', weight: 20 } ],
      unicastPeers: [],
      state: 'MASTER',
      interface: 'eth0',
      virtualRouterId: 61,
      priority: 200,
      advertIntervalMs: 2000,
      version: 2,
      nopreempt: false,
      preemptDelayMs: 4500,
      authentication: { type: 'AH', password: 'secret12' },
      dontTrackPrimary: true,
      sourceAddress: '192.0.2.1',
      mcastDestination: '224.0.0.20',
      unicastFaultNoPeer: true,
      checkUnicastSrc: true,
      trackSrcIp: true,
      lvsSyncDaemonInterface: 'eth0',
      accept: true,
      garpMasterDelayMs: 3000,
      garpMasterRepeat: 2,
      garpLowerPrioDelayMs: 1500,
      garpLowerPrioRepeat: 6,
      garpMasterRefreshMs: 30000,
      garpMasterRefreshRepeat: 2,
      lowerPrioNoAdvert: true,
      higherPrioSendAdvert: true,
      downTimerAdverts: 5,
      skipCheckAdvAddr: true,
      strictMode: false,
      promoteSecondaries: true,
      notify: { command: '/usr/local/bin/notify.sh', argv: [ '/usr/local/bin/notify.sh' ] },
      notifyMaster: { command: '/usr/local/bin/master.sh VI_1', argv: [ '/usr/local/bin/master.sh', 'VI_1' ] },
      notifyBackup: { command: '/usr/local/bin/backup.sh', argv: [ '/usr/local/bin/backup.sh' ] },
      notifyFault: { command: '/usr/local/bin/fault.sh', argv: [ '/usr/local/bin/fault.sh' ] },
      notifyStop: { command: '/usr/local/bin/stop.sh', argv: [ '/usr/local/bin/stop.sh' ] },
      notifyMasterRxLowerPri: { command: '/usr/local/bin/lower.sh', argv: [ '/usr/local/bin/lower.sh' ] },
      smtpAlert: true,
      debug: 2
    },
    {
      name: 'VI_6',
      virtualIpAddresses: [ { address: '2001:db8::20', family: 6 } ],
      virtualIpAddressesExcluded: [],
      trackInterfaces: [],
      trackScripts: [],
      unicastPeers: [ { address: '2001:db8::2', minTtl: 10, maxTtl: 255 }, { address: '2001:db8::3' } ],
      state: 'BACKUP',
      interface: 'eth3',
      virtualRouterId: 62,
      priority: 100,
      advertIntervalMs: 500,
      version: 3,
      nopreempt: false,
      accept: false,
      sourceAddress: '2001:db8::1',
      unicastTtl: 64
    }
  ],
  virtualServerGroups: [
    {
      name: 'VSG_1',
      entries: [
        { kind: 'address', address: '192.0.2.100', family: 4, port: 80 },
        { kind: 'address', address: '192.0.2.101', family: 4, rangeEnd: '192.0.2.110', port: 8080 },
        { kind: 'address', address: '192.0.2.120', family: 4, rangeEnd: '192.0.2.130' },
        { kind: 'address', address: '192.0.2.128', family: 4, prefixLength: 29, port: 443 },
        { kind: 'fwmark', fwmark: 7 },
        { kind: 'fwmark', fwmark: 8, family: 6 }
      ]
    }
  ],
  virtualServers: [
    {
      key: { kind: 'group', group: 'VSG_1' },
      schedulerFlags: [ 'sh-port', 'sh-fallback' ],
      realServers: [ { address: '198.51.100.1', family: 4, checkers: [], port: 80, weight: 3 } ],
      scheduler: 'sh',
      method: { kind: 'TUN', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'csum' },
      protocol: 'TCP'
    },
    {
      key: { kind: 'fwmark', fwmark: 42 },
      schedulerFlags: [ 'mh-port', 'mh-fallback', 'flag-1', 'flag-2', 'flag-3' ],
      realServers: [ { address: '198.51.100.2', family: 4, checkers: [], port: 80, weight: 1 } ],
      scheduler: 'mh',
      method: { kind: 'NAT' },
      persistenceTimeoutSec: 600,
      persistenceGranularity: '255.255.255.0',
      ipFamily: 4
    },
    {
      key: { kind: 'address', address: '192.0.2.200', family: 4, port: 53 },
      schedulerFlags: [],
      realServers: [
        {
          address: '198.51.100.3',
          family: 4,
          checkers: [
            {
              type: 'TCP_CHECK',
              connectIp: '198.51.100.30',
              connectPort: 5353,
              bindTo: '192.0.2.200',
              bindInterface: 'eth1',
              bindPort: 20053,
              fwmark: 9,
              alpha: true,
              connectTimeoutMs: 1500,
              retry: 2,
              delayBeforeRetryMs: 500,
              warmupMs: 250,
              delayLoopMs: 2000,
              logAllFailures: true
            },
            {
              type: 'HTTP_GET',
              urls: [
                {
                  path: '/health',
                  digest: '640205b7b0fc66c1ea91c463fac6334d',
                  statusCodes: [ { from: 200, to: 200 }, { from: 300, to: 302 } ],
                  virtualhost: 'url.example.com',
                  regex: 'status: (ok|up)',
                  regexNoMatch: true,
                  regexOptions: [ 'caseless', 'multiline' ],
                  regexMinOffset: 10,
                  regexMaxOffset: 4096
                },
                { path: '/' }
              ],
              connectPort: 8080,
              httpProtocol: '1.0C',
              fastRecovery: true,
              virtualhost: 'check.example.com'
            },
            {
              type: 'SSL_GET',
              urls: [
                { path: '/tls', statusCodes: [ { from: 204, to: 204 } ] }
              ],
              enableSni: true
            },
            {
              type: 'MISC_CHECK',
              path: { command: '/usr/local/bin/check.sh --port 53', argv: [ '/usr/local/bin/check.sh', '--port', '53' ] },
              timeoutMs: 5000,
              dynamic: true,
              user: 'nobody',
              group: 'nogroup',
              delayLoopMs: 7000
            }
          ],
          port: 53,
          weight: 5,
          method: { kind: 'DR' },
          notifyUp: { command: '/usr/local/bin/rs.sh up', argv: [ '/usr/local/bin/rs.sh', 'up' ] },
          notifyDown: { command: '/usr/local/bin/rs_down.sh', argv: [ '/usr/local/bin/rs_down.sh' ] },
          upperThreshold: 1000,
          lowerThreshold: 100,
          alpha: false,
          connectTimeoutMs: 2000,
          retry: 1,
          delayBeforeRetryMs: 1000,
          warmupMs: 0,
          delayLoopMs: 3000,
          inhibitOnFailure: false,
          smtpAlert: true,
          virtualhost: 'rs.example.com'
        },
        { address: '198.51.100.4', family: 4, checkers: [] }
      ],
      scheduler: 'wlc',
      onePacketScheduling: true,
      method: { kind: 'DR' },
      persistenceTimeoutSec: 360,
      persistenceEngine: 'sip',
      protocol: 'UDP',
      haSuspend: true,
      omega: true,
      quorum: 2,
      hysteresis: 1,
      quorumUp: { command: '/usr/local/bin/quorum.sh up', argv: [ '/usr/local/bin/quorum.sh', 'up' ] },
      quorumDown: { command: '/usr/local/bin/quorum.sh down', argv: [ '/usr/local/bin/quorum.sh', 'down' ] },
      sorryServer: { address: '198.51.100.250', family: 4, port: 53 },
      sorryServerInhibit: true,
      sorryServerMethod: { kind: 'TUN', tunnelType: 'ipip' },
      alpha: true,
      connectTimeoutMs: 4000,
      retry: 5,
      delayBeforeRetryMs: 2000,
      warmupMs: 1000,
      delayLoopMs: 10000,
      inhibitOnFailure: true,
      smtpAlert: false,
      virtualhost: 'www.example.com'
    },
    {
      key: { kind: 'address', address: '2001:db8::80', family: 6, port: 80 },
      schedulerFlags: [],
      realServers: [ { address: '2001:db8::81', family: 6, checkers: [], port: 80, weight: 1 } ],
      scheduler: 'rr',
      method: { kind: 'DR' },
      protocol: 'SCTP'
    }
  ],
  ssl: { password: 'secret', ca: '/etc/ssl/ca.pem', certificate: '/etc/ssl/lb.pem', key: '/etc/ssl/lb.key' },
  autoban: {
    whitelist: [
      { address: '10.0.0.0', family: 4, prefixLength: 8 },
      { address: '192.0.2.1', family: 4, prefixLength: 32 },
      { address: '2001:db8::', family: 6, prefixLength: 32 }
    ],
    threshold: 100,
    ipset: 'blacklist',
    staticBlacklist: '/etc/itim/firewall/static_blacklist',
    banTimeoutMs: 3600000,
    intervalMs: 60000,
    source: 'procfs',
    dryRun: true
  }
};

test('kitchen sink: every supported keyword lands in its model field', (t) => {
  const file = fixture('kitchen-sink.conf');
  const r = loadConfig(file);
  t.deepEqual(withoutLocations(r.config), KITCHEN_SINK as unknown as typeof r.config);
  t.is(r.errorCount, 0);
  t.deepEqual(messages(r), [
    `${file}:88:5: warning: \`global_tracking\` is deprecated by keepalived: track on the vrrp_sync_group instead`,
    `${file}:128:5: warning: \`lvs_sync_daemon_interface\` in a vrrp_instance is deprecated by keepalived 2 (use global_defs lvs_sync_daemon IF INSTANCE); lvskit reads it the same way`,
    `${file}:92:1: warning: vrrp_instance VI_1: lvs_sync_daemon_interface is overridden by global_defs lvs_sync_daemon\n${file}:42:5: note: lvs_sync_daemon is here`,
  ]);
});

test('aliases and old names: lb_algo/lvs_sched, lb_kind/lvs_method, PASSTHRU, nb_get_retry, mcast_src_ip/unicast_src_ip', (t) => {
  const r = parse([
    'vrrp_instance A {', '  interface eth0', '  virtual_router_id 1', '  mcast_src_ip 10.0.0.1', '  virtual_ipaddress {', '    10.0.0.100', '  }', '}',
    'virtual_server 10.0.0.100 80 {', '  lb_algo lc', '  lb_kind PASSTHRU', '  protocol tcp',
    '  real_server 10.0.1.1 80 {', '    lb_kind TUN', '    HTTP_GET {', '      nb_get_retry 4', '      url {', '        path /', '      }', '    }', '  }', '}',
  ].join('\n'));
  const vs = r.config.virtualServers[0];
  t.deepEqual([vs?.scheduler, vs?.method, vs?.protocol], ['lc', { kind: 'DR' }, 'TCP']);
  t.deepEqual(vs?.realServers[0]?.method, { kind: 'TUN' });
  t.is(vs?.realServers[0]?.checkers[0]?.retry, 4);
  t.is(r.config.vrrpInstances[0]?.sourceAddress, '10.0.0.1');
  t.deepEqual(messages(r), [
    'keepalived.conf:11:11: warning: `PASSTHRU` is keepalived 1.x for DR',
    'keepalived.conf:16:7: warning: `nb_get_retry` is the keepalived 1.x name of `retry`',
  ]);
});

test('unknown keywords are warnings (with a suggestion), errors with strict; their blocks are skipped', (t) => {
  const text = 'global_defs {\n  router_idd lb1\n  frobnicate {\n    router_id skipped\n  }\n}\nnot_a_block x\n';
  const r = parse(text);
  t.true(r.ok);
  t.is(r.config.globalDefs.routerId, undefined);
  t.deepEqual(messages(r), [
    'keepalived.conf:2:3: warning: unknown keyword `router_idd` in global_defs (did you mean `router_id`?); ignored',
    'keepalived.conf:3:3: warning: unknown keyword `frobnicate` in global_defs; ignored (with its block)',
    'keepalived.conf:7:1: warning: unknown keyword `not_a_block` at top level; ignored',
  ]);
  const strict = parse(text, { strict: true });
  t.false(strict.ok);
  t.is(strict.errorCount, 3);
  t.deepEqual(strict.diagnostics.map((d) => d.severity), ['error', 'error', 'error']);
});

test('keepalived keywords lvskit does not implement: an error when behaviour would differ, a warning when harmless', (t) => {
  const r = parse([
    'global_defs {', '  enable_snmp_vrrp', '  vrrp_iptables', '}',
    'bfd_instance b {', '  neighbor_ip 192.0.2.1', '}',
    'vrrp_instance A {', '  interface eth0', '  virtual_router_id 1', '  use_vmac_addr', '  virtual_ipaddress {', '    10.0.0.1', '  }',
    '  kernel_rx_buf_size 1', '}',
    'virtual_server 10.0.0.1 53 {', '  protocol UDP', '  real_server 10.0.1.1 53 {', '    BFD_CHECK {', '      name b', '    }', '  }', '}',
  ].join('\n'));
  t.deepEqual(messages(r), [
    "keepalived.conf:2:3: warning: `enable_snmp_vrrp` is ignored by lvskit (SNMP, D-Bus and FIFO notification channels are not provided)",
    'keepalived.conf:3:3: error: `vrrp_iptables` is not supported by lvskit (lvskit manages no nftables or iptables rules (no_accept filtering, VMAC IGMP handling, virtual server group fwmarks))',
    'keepalived.conf:5:1: error: `bfd_instance` is not supported by lvskit (lvskit has no BFD)',
    'keepalived.conf:11:3: error: `use_vmac_addr` is not supported by lvskit (lvskit makes one VMAC per instance (use_vmac) and has no VRFs; the addresses would be on a different interface than keepalived puts them)',
    'keepalived.conf:15:3: warning: `kernel_rx_buf_size` is ignored by lvskit (notification channels and socket tuning lvskit does not provide)',
    'keepalived.conf:20:5: error: `BFD_CHECK` is not supported by lvskit (lvskit has no BFD; the real server would go unchecked)',
  ]);
  t.deepEqual(r.config.virtualServers[0]?.realServers[0]?.checkers, []);
});

test('missing arguments are errors; extra arguments are ignored with a warning, as keepalived ignores them', (t) => {
  const r = parse('vrrp_instance {\n}\nvrrp_script s {\n  script\n  interval 1 2 3\n  weight 5 sideways\n}\n');
  t.deepEqual(messages(r), [
    'keepalived.conf:1:1: error: `vrrp_instance` needs 1 argument (vrrp_instance <NAME> { ... }); ignored',
    'keepalived.conf:4:3: error: `script` needs at least 1 argument (script <PATH>|"<PATH ARGS>" [user [group]]); ignored',
    'keepalived.conf:5:14: warning: `interval` takes 1 argument; `2` and what follows are ignored, as keepalived ignores them',
    'keepalived.conf:6:12: error: `weight` expects reverse, not `sideways`',
    'keepalived.conf:3:1: error: vrrp_script s has no script',
  ]);
  t.deepEqual(r.config.vrrpScripts.map((s) => [s.intervalMs, s.weight]), [[1000, 5]]);
});

test('values: whole numbers, ranges, timers, booleans, addresses, enumerations', (t) => {
  const r = parse([
    'global_defs {', '  vrrp_version 4', '  smtp_alert maybe', '  vrrp_mcast_group4 ff02::12', '  vrrp_garp_interval 0', '}',
    'vrrp_instance A {', '  state master', '  interface eth0', '  virtual_router_id 0x10', '  priority 256', '  advert_int 1,5', '  preempt_delay -1',
    '  virtual_ipaddress {', '    10.0.0.300', '    10.0.0.1/33', '    10.0.0.2 scope galaxy', '  }', '}',
  ].join('\n'));
  t.deepEqual(messages(r).slice(0, 11), [
    'keepalived.conf:2:16: error: `vrrp_version` 4 is outside 2..3',
    'keepalived.conf:3:14: error: `smtp_alert` expects on|off|true|false|yes|no, not `maybe`',
    'keepalived.conf:4:21: error: vrrp_mcast_group4 needs an IPv4 address',
    'keepalived.conf:5:22: error: `vrrp_garp_interval` 0 s is outside 0.000001..4294.967295 s',
    'keepalived.conf:8:9: error: `state` expects MASTER|BACKUP, not `master`',
    'keepalived.conf:10:21: error: `virtual_router_id` expects a whole number from 1 to 255, not `0x10`',
    'keepalived.conf:11:12: error: `priority` 256 is outside 1..255',
    'keepalived.conf:12:14: error: `advert_int` expects a time in seconds (e.g. 3 or 0.5), not `1,5`',
    'keepalived.conf:13:17: error: `preempt_delay` expects a time in seconds (e.g. 3 or 0.5), not `-1`',
    'keepalived.conf:15:5: error: expected an IP address[/prefix], not `10.0.0.300`',
    'keepalived.conf:16:5: error: `10.0.0.1/33`: the prefix length must be 0..32 for IPv4 and 0..128 for IPv6',
  ]);
  t.is(messages(r)[11], 'keepalived.conf:17:20: error: scope expects global|site|link|host|nowhere or 0..255, not `galaxy`');
});

test('one-line forms split at the next keyword of the block, once the keyword before has its minimum arguments', (t) => {
  const r = parse('vrrp_script s { script "/bin/check arg" interval 2 weight -20 reverse fall 3 }\n' +
    'vrrp_instance A { interface eth0 virtual_router_id 9 nopreempt priority 50 virtual_ipaddress { 10.0.0.1 dev eth0 10.0.0.2/32 label eth0:2 } }\n');
  t.deepEqual(withoutLocations(r.config.vrrpScripts[0]), {
    name: 's', script: { command: '/bin/check arg', argv: ['/bin/check', 'arg'] }, intervalMs: 2000, weight: -20, weightReverse: true, fall: 3,
  });
  const vi = r.config.vrrpInstances[0];
  t.deepEqual([vi?.nopreempt, vi?.priority], [true, 50]);
  t.deepEqual(withoutLocations(vi?.virtualIpAddresses), [
    { address: '10.0.0.1', family: 4, device: 'eth0' },
    { address: '10.0.0.2', family: 4, prefixLength: 32, label: 'eth0:2' },
  ]);
  t.deepEqual(r.diagnostics.map((d) => `${d.location.line}:${d.location.column} ${d.code}`), [
    '1:41 keepalived-compat',
    '2:34 keepalived-compat',
  ]);
});

test('script commands: quoted with arguments, then optional user and group; an unquoted command with arguments is read as keepalived reads it', (t) => {
  const r = parse('vrrp_instance A {\n  notify_master "/bin/n.sh \\"x y\\" \'z w\'" root wheel\n  notify_backup /bin/b.sh arg1 arg2 arg3\n}\n', { validate: false });
  const vi = r.config.vrrpInstances[0];
  t.deepEqual(vi?.notifyMaster, { command: '/bin/n.sh "x y" \'z w\'', argv: ['/bin/n.sh', 'x y', 'z w'], user: 'root', group: 'wheel' });
  t.deepEqual(vi?.notifyBackup, { command: '/bin/b.sh', argv: ['/bin/b.sh'], user: 'arg1', group: 'arg2' });
  t.deepEqual(messages(r), [
    'keepalived.conf:3:17: warning: `notify_backup`: only the command, a user and a group are read; quote a command that has arguments (keepalived reads `arg1` as the user)',
  ]);
});

test('lvskit_autoban: the extension block, on one line as in the brief and multi-line', (t) => {
  const one = parse('lvskit_autoban { threshold 100 ipset blacklist whitelist { 10.0.0.0/8 192.0.2.7 } static_blacklist /etc/itim/firewall/static_blacklist }\n');
  t.deepEqual(withoutLocations(one.config.autoban), {
    threshold: 100, ipset: 'blacklist', staticBlacklist: '/etc/itim/firewall/static_blacklist',
    whitelist: [{ address: '10.0.0.0', family: 4, prefixLength: 8 }, { address: '192.0.2.7', family: 4, prefixLength: 32 }],
  });
  t.true(one.ok);
  const bad = parse('lvskit_autoban {\n  threshold 0\n  ipset a_name_that_is_far_too_long_for_ipset\n  source kernel\n  static_blacklist blacklist.txt\n}\n');
  t.deepEqual(messages(bad), [
    'keepalived.conf:2:13: error: `threshold` 0 is outside 1..4294967295',
    'keepalived.conf:3:9: error: ipset names are at most 31 characters; `a_name_that_is_far_too_long_for_ipset` has 37',
    'keepalived.conf:4:10: error: `source` expects sync|procfs, not `kernel`',
    "keepalived.conf:5:20: warning: static_blacklist is relative; it is resolved against the daemon's working directory, not the configuration file",
    'keepalived.conf:1:1: error: lvskit_autoban needs a threshold (ESTABLISHED connections per client)',
    'keepalived.conf:1:1: error: lvskit_autoban needs an ipset (the set whose members the firewall drops)',
  ]);
});
