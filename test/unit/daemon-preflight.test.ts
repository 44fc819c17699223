// layer: tests (unit)
// job: preflight as a pure function: a keepalived.conf's needs (with their lines) against snapshots of a system — missing interfaces, rp_filter by the kernel's max(all, interface), forwarding for NAT, IPVS, the autoban's firewall rule.
import test from 'ava';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/index.js';
import { evaluatePreflight, rpFilterFixes, snapshotRequest, type SystemSnapshot } from '../../src/daemon/preflight.js';
import { preflightNeeds, type PreflightNeeds } from '../../src/daemon/preflight-needs.js';
import { fixture, parse } from '../helpers/config.js';

function needsOf(text: string): PreflightNeeds {
  const r = parse(text);
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return preflightNeeds(r.config);
}

const lines = (needs: PreflightNeeds, s: SystemSnapshot): string[] => evaluatePreflight(needs, s).map(formatDiagnostic);

/** A VRRP instance on eth0 with a VIP on eth1 (line 6) and a tracked eth2 (line 9). */
const VRRP = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress {
    10.0.0.100/32 dev eth1 label eth1:1
  }
  track_interface {
    eth2
  }
}
`;
const LINKS = ['lo', 'eth0', 'eth1', 'eth2'];

test('the operator\'s keepalived.conf: its interfaces at their lines, rp_filter on the VIP\'s eth1 and the sync daemon\'s eth0, IPVS for its virtual_server, no NAT', (t) => {
  const r = loadConfig(fixture('seed', 'multi-line', 'keepalived.conf'));
  t.true(r.ok);
  const needs = preflightNeeds(r.config);
  t.deepEqual(needs.links.map((n) => `${n.location.line}:${n.location.column} ${n.link} ${n.severity}`),
    ['4:15 eth0 error', '19:9 eth1 error', '14:9 eth0 warning', '15:9 eth1 warning', '16:9 eth1 warning', '5:31 eth0 error']);
  t.deepEqual(needs.rpFilter.map((n) => [n.link, n.what]), [['eth1', 'vrrp_instance VI_2 VIP 123.30.175.40 (dev eth1)'], ['eth0', 'vrrp_instance VI_2 lvs_sync_daemon_interface eth0']]);
  t.regex(`${needs.ipvs?.location.file}:${needs.ipvs?.location.line} ${needs.ipvs?.what}`, /services\/takataka\.vn\.conf:\d+ virtual_server 123\.30\.175\.40:80\/TCP$/);
  t.deepEqual(needs.forwarding, [], 'lb_kind DR');
  t.deepEqual(snapshotRequest(needs), { sysctls: ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.eth1.rp_filter', 'net.ipv4.conf.eth0.rp_filter'], ipvs: true });
  t.deepEqual(evaluatePreflight(needs, { links: ['lo', 'eth0', 'eth1'], sysctls: {}, ipvs: true }), [], 'a system that has it all: no finding');
});

test('rp_filter: the larger of all and the interface; strict (1) is an error naming the sysctl(s) to set, loose (2) and off pass', (t) => {
  const needs = needsOf(VRRP);
  const at = (all: number, own: number): SystemSnapshot => ({ links: LINKS, sysctls: { 'net.ipv4.conf.all.rp_filter': all, 'net.ipv4.conf.eth1.rp_filter': own } });
  const own = lines(needs, at(0, 1));
  t.is(own.length, 1);
  t.regex(own[0]!, /^keepalived\.conf:6:5: error: rp_filter is 1 \(strict\) on eth1, used by vrrp_instance VI_1 VIP 10\.0\.0\.100 \(dev eth1\): net\.ipv4\.conf\.all\.rp_filter=0, net\.ipv4\.conf\.eth1\.rp_filter=1/);
  t.regex(own[0]!, /Fix: sysctl -w net\.ipv4\.conf\.eth1\.rp_filter=0 \(/);
  t.regex(lines(needs, at(1, 0))[0]!, /Fix: sysctl -w net\.ipv4\.conf\.all\.rp_filter=0 \(/, 'all=1 makes eth1 strict: setting eth1 alone would not help');
  t.regex(lines(needs, at(1, 1))[0]!, /Fix: sysctl -w net\.ipv4\.conf\.all\.rp_filter=0 and sysctl -w net\.ipv4\.conf\.eth1\.rp_filter=0 \(/);
  for (const [all, mine] of [[0, 0], [2, 1], [1, 2], [0, 2]] as const) t.deepEqual(lines(needs, at(all, mine)), [], `all=${all} eth1=${mine}`);
  t.deepEqual(rpFilterFixes(needs, at(1, 1)), [{ name: 'net.ipv4.conf.all.rp_filter', from: 1 }, { name: 'net.ipv4.conf.eth1.rp_filter', from: 1 }]);
  t.deepEqual(rpFilterFixes(needs, at(0, 1)), [{ name: 'net.ipv4.conf.eth1.rp_filter', from: 1 }]);
  t.deepEqual(rpFilterFixes(needs, at(2, 1)), [], 'loose wins: nothing to fix');
});

test('a missing interface is reported once, at the place that needs it most, the others as notes; a tracked one is a warning', (t) => {
  const needs = needsOf(VRRP.replace('virtual_router_id 51', 'virtual_router_id 51\n  lvs_sync_daemon_interface eth1'));
  t.deepEqual(lines(needs, { links: ['lo', 'eth0'], sysctls: {}, ipvs: true }), [
    'keepalived.conf:4:29: error: interface eth1 does not exist (vrrp_instance VI_1 lvs_sync_daemon_interface eth1): lvskit cannot run this without it\n'
      + 'keepalived.conf:7:5: note: vrrp_instance VI_1 VIP 10.0.0.100 (dev eth1) names it too',
    'keepalived.conf:10:5: warning: interface eth2 does not exist (vrrp_instance VI_1 track_interface eth2): a tracked link that does not exist counts as down until it appears',
  ]);
  const own = needsOf(VRRP.replace('interface eth0', 'interface eth7'));
  t.regex(lines(own, { links: LINKS, sysctls: {} })[0]!, /^keepalived\.conf:2:13: error: interface eth7 does not exist \(vrrp_instance VI_1 interface\)/);
});

test('IPVS: asked only when something needs it; absent, an error at the first virtual_server naming modprobe ip_vs', (t) => {
  t.false(snapshotRequest(needsOf(VRRP)).ipvs, 'a VRRP-only configuration does not need IPVS');
  const needs = needsOf(`${VRRP}virtual_server 10.0.0.100 80 {\n  lb_kind DR\n  protocol TCP\n  real_server 10.0.1.1 80 {\n  }\n}\n`);
  t.true(snapshotRequest(needs).ipvs);
  t.deepEqual(lines(needs, { links: LINKS, sysctls: {}, ipvs: false }), [
    'keepalived.conf:12:1: error: virtual_server 10.0.0.100:80/TCP needs IPVS, and this kernel has none loaded (no /proc/net/ip_vs, no generic netlink family IPVS). Fix: modprobe ip_vs (and list ip_vs in /etc/modules-load.d/ to load it at boot)',
  ]);
  t.deepEqual(lines(needs, { links: LINKS, sysctls: {}, ipvs: true }), []);
  const sync = needsOf(`global_defs {\n  lvs_sync_daemon eth0 VI_1\n}\n${VRRP}`);
  t.like(sync.ipvs, { what: 'lvs_sync_daemon eth0', location: { line: 2 } }, 'a sync daemon needs IPVS too');
});

test('forwarding: a NAT service (keepalived\'s default method, or a real server\'s own) with ip_forward off is a warning; DR is not', (t) => {
  const vs = (method: string, rsMethod = '') => `virtual_server 10.0.0.100 80 {\n  ${method}\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    ${rsMethod}\n  }\n}\n`;
  const nat = needsOf(vs('delay_loop 6'));
  t.deepEqual(snapshotRequest(nat).sysctls, ['net.ipv4.ip_forward']);
  t.deepEqual(lines(nat, { links: LINKS, sysctls: { 'net.ipv4.ip_forward': 0 }, ipvs: true }), [
    'keepalived.conf:1:1: warning: virtual_server 10.0.0.100:80/TCP forwards by NAT, and net.ipv4.ip_forward is 0: the real servers\' replies are not forwarded back to the clients (DR services are not affected). Fix: sysctl -w net.ipv4.ip_forward=1 (and in /etc/sysctl.d)',
  ]);
  t.deepEqual(lines(nat, { links: LINKS, sysctls: { 'net.ipv4.ip_forward': 1 }, ipvs: true }), []);
  t.deepEqual(needsOf(vs('lb_kind DR')).forwarding, []);
  t.is(needsOf(vs('lb_kind DR', 'lvs_method NAT')).forwarding.length, 1, 'a real server of its own method');
  t.deepEqual(snapshotRequest(needsOf(vs('lb_kind NAT').replace('10.0.0.100 80', '2001:db8::100 80').replace('10.0.1.1', '2001:db8::1'))).sysctls, ['net.ipv6.conf.all.forwarding']);
});

test('the autoban: no firewall rule for its set is a warning with what was seen; a rule, nothing', (t) => {
  const needs = needsOf(`lvskit_autoban {\n  threshold 100\n  ipset autoban\n}\n`);
  t.is(snapshotRequest(needs).firewallSet, 'autoban');
  t.deepEqual(lines(needs, { links: LINKS, sysctls: {}, ipvs: true, firewall: { ok: false, notes: ['nft -j list ruleset could not be read: ENOENT'] } }), [
    'keepalived.conf:1:1: warning: no iptables rule drops sources in ipset autoban: bans would block nothing (nft -j list ruleset could not be read: ENOENT). Add one, e.g. iptables -I INPUT -m set --match-set autoban src -j DROP',
  ]);
  t.deepEqual(lines(needs, { links: LINKS, sysctls: {}, ipvs: true, firewall: { ok: true, notes: [] } }), []);
});
