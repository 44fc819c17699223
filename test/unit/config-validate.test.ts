// layer: tests (unit)
// job: every cross-check message, with the file:line:col it names.
import test from 'ava';
import { messages, parse } from '../helpers/config.js';

const vi = (name: string, body: string[]): string[] => [`vrrp_instance ${name} {`, ...body.map((l) => `    ${l}`), '}'];
const lines = (...blocks: string[][]): string => `${blocks.flat().join('\n')}\n`;

test('vrrp_instance: required settings, families, version, preemption', (t) => {
  const r = parse(lines(
    vi('NOID', ['interface eth0']),
    vi('NOIF', ['virtual_router_id 2', 'virtual_ipaddress {', '    10.0.0.2', '}']),
    vi('MIXED', ['interface eth0', 'virtual_router_id 3', 'virtual_ipaddress {', '    10.0.0.3', '    2001:db8::3', '}']),
    vi('V6V2', ['interface eth0', 'virtual_router_id 4', 'version 2', 'virtual_ipaddress {', '    2001:db8::4', '}']),
    vi('HALF', ['interface eth0', 'virtual_router_id 5', 'advert_int 0.5', 'version 3', 'authentication {', '    auth_type PASS', '}', 'virtual_ipaddress {', '    10.0.0.5', '}']),
    vi('PRE', ['state MASTER', 'nopreempt', 'interface eth0', 'virtual_router_id 6', 'advert_int 1.5', 'virtual_ipaddress {', '    10.0.0.6', '}']),
  ));
  t.deepEqual(messages(r), [
    'keepalived.conf:1:1: error: vrrp_instance NOID has no virtual_router_id (1..255): it must be set',
    'keepalived.conf:1:1: warning: vrrp_instance NOID has no virtual_ipaddress',
    'keepalived.conf:4:1: error: vrrp_instance NOIF has no interface (only unicast instances may omit it)',
    'keepalived.conf:15:9: error: vrrp_instance MIXED: virtual_ipaddress mixes IPv4 and IPv6 (put the other family in virtual_ipaddress_excluded)',
    'keepalived.conf:18:1: error: vrrp_instance V6V2: IPv6 instances use VRRP version 3, not version 2',
    'keepalived.conf:26:1: warning: vrrp_instance HALF: VRRPv3 has no authentication; the authentication block is ignored',
    'keepalived.conf:38:1: warning: vrrp_instance PRE: VRRPv2 advertises whole seconds; advert_int 1.5 is rounded as keepalived rounds it',
    'keepalived.conf:38:1: warning: vrrp_instance PRE: nopreempt needs the initial state BACKUP (keepalived ignores nopreempt with state MASTER)',
  ]);
});

test('duplicate VRID on one interface is an error; other interfaces, families, multicast groups or disjoint unicast peers may share it', (t) => {
  const r = parse(lines(
    vi('A', ['interface eth0', 'virtual_router_id 51', 'virtual_ipaddress {', '    10.0.0.1', '}']),
    vi('B', ['interface eth0', 'virtual_router_id 51', 'virtual_ipaddress {', '    10.0.0.2', '}']),
    vi('C', ['interface eth1', 'virtual_router_id 51', 'virtual_ipaddress {', '    10.0.0.3', '}']),
    vi('D', ['interface eth0', 'virtual_router_id 51', 'virtual_ipaddress {', '    2001:db8::4', '}']),
    vi('E', ['interface eth0', 'virtual_router_id 51', 'mcast_dst_ip 224.0.0.30', 'virtual_ipaddress {', '    10.0.0.5', '}']),
    vi('U1', ['interface eth2', 'virtual_router_id 7', 'unicast_peer {', '    192.0.2.1', '}', 'virtual_ipaddress {', '    10.0.0.6', '}']),
    vi('U2', ['interface eth2', 'virtual_router_id 7', 'unicast_peer {', '    192.0.2.2', '}', 'virtual_ipaddress {', '    10.0.0.7', '}']),
    vi('U3', ['interface eth2', 'virtual_router_id 7', 'unicast_peer {', '    192.0.2.1', '}', 'virtual_ipaddress {', '    10.0.0.8', '}']),
  ));
  t.deepEqual(messages(r), [
    'keepalived.conf:8:1: error: vrrp_instance B uses virtual_router_id 51 on eth0, as vrrp_instance A does (IPv4)\nkeepalived.conf:1:1: note: vrrp_instance A is here',
    'keepalived.conf:57:1: error: vrrp_instance U3 uses virtual_router_id 7 on eth2, as vrrp_instance U1 does (IPv4)\nkeepalived.conf:37:1: note: vrrp_instance U1 is here',
  ]);
});

test('a VIP in two instances is an error at the second; twice in one instance a warning; a label must begin with its interface', (t) => {
  const r = parse(lines(
    vi('A', ['interface eth0', 'virtual_router_id 1', 'virtual_ipaddress {', '    10.0.0.1', '    10.0.0.1/32 label eth0:1', '}']),
    vi('B', ['interface eth0', 'virtual_router_id 2', 'virtual_ipaddress_excluded {', '    10.0.0.1 dev eth1 label eth0:9', '}']),
  ));
  t.deepEqual(messages(r), [
    'keepalived.conf:6:9: warning: 10.0.0.1 is listed twice in vrrp_instance A\nkeepalived.conf:5:9: note: the first 10.0.0.1 is here',
    'keepalived.conf:13:9: error: 10.0.0.1 is a virtual address of both vrrp_instance A and B\nkeepalived.conf:5:9: note: 10.0.0.1 of A is here',
    'keepalived.conf:13:9: error: label eth0:9 must begin with the interface name eth1 (e.g. eth1:1)',
  ]);
});

test('references: track_script, sync group members, lvs_sync_daemon instance, virtual_server group — each must be defined', (t) => {
  const r = parse(lines(
    ['global_defs {', '    lvs_sync_daemon eth0 VI_9', '}'],
    ['vrrp_script defined {', '    script /bin/true', '}'],
    vi('VI_1', ['interface eth0', 'virtual_router_id 1', 'virtual_ipaddress {', '    10.0.0.1', '}', 'track_script {', '    defined', '    undefined_script', '}']),
    ['vrrp_sync_group G1 {', '    group {', '        VI_1', '        VI_404', '    }', '    track_script {', '        nope', '    }', '}'],
    ['vrrp_sync_group G2 {', '    group {', '        VI_1', '    }', '}'],
    ['vrrp_sync_group G3 {', '}'],
    ['virtual_server group NOGROUP {', '    protocol TCP', '    real_server 10.0.1.1 80 {', '    }', '}'],
  ));
  t.deepEqual(messages(r), [
    'keepalived.conf:15:9: error: vrrp_instance VI_1 tracks vrrp_script `undefined_script`, which is not defined',
    'keepalived.conf:21:9: error: vrrp_sync_group G1 names vrrp_instance `VI_404`, which is not defined',
    'keepalived.conf:24:9: error: vrrp_sync_group G1 tracks vrrp_script `nope`, which is not defined',
    'keepalived.conf:27:1: warning: vrrp_sync_group G2 has only one instance; a sync group of one synchronises nothing',
    'keepalived.conf:29:9: error: vrrp_instance VI_1 is in vrrp_sync_group G1 already; an instance belongs to one group',
    'keepalived.conf:32:1: error: vrrp_sync_group G3 has no group { } of instances',
    'keepalived.conf:2:5: error: lvs_sync_daemon names vrrp_instance `VI_9`, which is not defined',
    'keepalived.conf:34:1: error: virtual_server group NOGROUP/TCP: virtual_server_group `NOGROUP` is not defined',
  ]);
});

test('names defined twice: instances, scripts, sync groups, virtual server groups, virtual servers, real servers', (t) => {
  const r = parse(lines(
    ['vrrp_script s {', '    script /bin/true', '}', 'vrrp_script s {', '    script /bin/false', '}'],
    vi('A', ['interface eth0', 'virtual_router_id 1', 'virtual_ipaddress {', '    10.0.0.1', '}']),
    vi('A', ['interface eth1', 'virtual_router_id 1', 'virtual_ipaddress {', '    10.0.0.2', '}']),
    ['virtual_server_group G {', '    10.0.0.9 80', '}', 'virtual_server_group G {', '    10.0.0.10 80', '}'],
    ['virtual_server 10.0.0.1 80 {', '    protocol TCP', '    real_server 10.0.1.1 80 {', '    }', '    real_server 10.0.1.1 {', '    }', '}'],
    ['virtual_server 10.0.0.1 80 {', '    protocol TCP', '    real_server 10.0.1.2 80 {', '    }', '}'],
  ));
  t.deepEqual(messages(r), [
    'keepalived.conf:14:1: error: vrrp_instance `A` is defined twice\nkeepalived.conf:7:1: note: the first vrrp_instance A is here',
    'keepalived.conf:4:1: error: vrrp_script `s` is defined twice\nkeepalived.conf:1:1: note: the first vrrp_script s is here',
    'keepalived.conf:24:1: error: virtual_server_group `G` is defined twice\nkeepalived.conf:21:1: note: the first virtual_server_group G is here',
    'keepalived.conf:31:5: error: virtual_server 10.0.0.1:80/TCP: real_server 10.0.1.1 80 is listed twice\nkeepalived.conf:29:5: note: the first one is here',
    'keepalived.conf:34:1: error: virtual_server 10.0.0.1:80/TCP is defined twice\nkeepalived.conf:27:1: note: the first virtual_server 10.0.0.1:80/TCP is here',
  ]);
});

test('virtual_server: no real servers, no protocol, no port, ops, ha_suspend, hysteresis, scheduler flags', (t) => {
  const r = parse(lines(
    ['virtual_server 10.0.0.1 80 {', '    protocol TCP', '}'],
    ['virtual_server 10.0.0.2 53 {', '    real_server 10.0.1.1 53 {', '    }', '}'],
    ['virtual_server 10.0.0.3 {', '    protocol TCP', '    ops', '    quorum 2', '    hysteresis 2', '    lvs_sched rr', '    sh-port', '    real_server 10.0.1.1 80 {', '        weight 2', '    }', '}'],
    ['virtual_server fwmark 5 {', '    protocol TCP', '    ha_suspend', '    real_server 10.0.1.1 80 {', '    }', '}'],
  ));
  t.deepEqual(messages(r), [
    'keepalived.conf:1:1: warning: virtual_server 10.0.0.1:80/TCP has no real servers; keepalived ignores such a virtual server',
    'keepalived.conf:4:1: warning: virtual_server 10.0.0.2:53/UDP has no protocol; keepalived then uses UDP (write `protocol TCP` for TCP services)',
    'keepalived.conf:8:1: error: virtual_server 10.0.0.3/TCP: ops (one-packet scheduling) needs UDP (keepalived -t refuses it; keepalived would reset it)',
    'keepalived.conf:8:1: warning: virtual_server 10.0.0.3/TCP has no port; only persistent services may omit it, so keepalived makes it persistent (persistence_timeout 360)',
    'keepalived.conf:8:1: error: virtual_server 10.0.0.3/TCP: hysteresis 2 is not below quorum 2 (keepalived -t refuses it; keepalived would reset it to quorum - 1)',
    'keepalived.conf:8:1: warning: virtual_server 10.0.0.3/TCP: sh-port only applies to the sh scheduler',
    'keepalived.conf:19:1: warning: virtual_server fwmark 5/TCP: protocol is ignored for a firewall-mark service',
    'keepalived.conf:19:1: warning: virtual_server fwmark 5/TCP: ha_suspend cannot be used with a firewall mark; keepalived clears it',
  ]);
});

test('real servers: address families (TUN may differ), thresholds, checkers without url, path or misc_path', (t) => {
  const r = parse(lines([
    'virtual_server 10.0.0.1 80 {', '    protocol TCP', '    sorry_server 2001:db8::1 80',
    '    real_server 2001:db8::2 80 {', '    }',
    '    real_server 2001:db8::3 80 {', '        lvs_method TUN', '    }',
    '    real_server 10.0.1.1 80 {', '        uthreshold 10', '        lthreshold 20',
    '        HTTP_GET {', '        }', '        SSL_GET {', '            url {', '                digest 640205b7b0fc66c1ea91c463fac6334d', '            }', '        }',
    '        MISC_CHECK {', '        }', '    }', '}',
  ]));
  t.deepEqual(messages(r), [
    'keepalived.conf:1:1: error: virtual_server 10.0.0.1:80/TCP: sorry_server 2001:db8::1 is IPv6, the virtual server IPv4 (only TUN may mix)',
    'keepalived.conf:4:5: error: virtual_server 10.0.0.1:80/TCP: real_server 2001:db8::2 is IPv6, the virtual server IPv4 (only TUN real servers may differ)',
    'keepalived.conf:9:5: error: real_server 10.0.1.1: lthreshold 20 is above uthreshold 10',
    'keepalived.conf:12:9: error: HTTP_GET of real_server 10.0.1.1 has no url { }',
    'keepalived.conf:15:13: error: url of SSL_GET (real_server 10.0.1.1) has no path',
    'keepalived.conf:19:9: error: MISC_CHECK of real_server 10.0.1.1 has no misc_path',
  ]);
});

test('the IPVS sync daemon: legacy per-instance interfaces are overridden by lvs_sync_daemon, and only the first drives it', (t) => {
  const r = parse(lines(
    vi('A', ['interface eth0', 'virtual_router_id 1', 'lvs_sync_daemon_interface eth0', 'virtual_ipaddress {', '    10.0.0.1', '}']),
    vi('B', ['interface eth0', 'virtual_router_id 2', 'lvs_sync_daemon_interface eth1', 'virtual_ipaddress {', '    10.0.0.2', '}']),
  ));
  t.deepEqual(messages(r.diagnostics.filter((d) => d.code === 'conflict')), [
    'keepalived.conf:9:1: warning: vrrp_instance B: the IPVS sync daemon runs once; vrrp_instance A already drives it, so this lvs_sync_daemon_interface is ignored\nkeepalived.conf:1:1: note: vrrp_instance A is here',
  ]);
});
