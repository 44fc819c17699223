// layer: tests (unit)
// job: the site scenario's pure parts: the operator's config files it writes (read back by lvskit's own config reader), the ipvsadm parsers of its oracles, and its traffic counts.
import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import { memoryReader } from '../../src/config/reader.js';
import { lvskitAutobanConfig, MAIN_FILE, serviceFile, siteConfigFiles, truncatedServiceConfig } from '../helpers/site-config.js';
import { checkFailBoundMs, masterDownIntervalMs, siteAfterReload, siteSpec } from '../helpers/site-model.js';
import { parseIpvsadmConnections, parseIpvsadmList, rrSpread, tableShape, weightOf } from '../helpers/site-oracles.js';
import { trafficStats, type RequestResult } from '../helpers/site-traffic.js';

const site = siteSpec('10.9.8');

function load(files: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig('/etc/keepalived/keepalived.conf', {
    reader: memoryReader(Object.fromEntries(Object.entries(files).map(([f, text]) => [`/etc/keepalived/${f}`, text]))),
  });
}

test('each balancer\'s files read back as the site: one instance (MASTER 150 / BACKUP 100), the VIP with its label, the sync daemon, the included service', (t) => {
  for (const [lb, state, priority] of [['lb1', 'MASTER', 150], ['lb2', 'BACKUP', 100]] as const) {
    const files = siteConfigFiles(site, lb);
    t.deepEqual(Object.keys(files), [MAIN_FILE, 'services/www.site.test.conf']);
    const { config, errorCount, diagnostics } = load(files);
    t.is(errorCount, 0, diagnostics.map((d) => d.message).join('\n'));
    const [instance] = config.vrrpInstances;
    t.like(instance, { state, priority, interface: 'eth0', virtualRouterId: 51, advertIntervalMs: 1000, lvsSyncDaemonInterface: 'eth0' });
    t.like(instance?.virtualIpAddresses[0], { address: '10.9.8.100', device: 'eth0', label: 'eth0:1' });
    t.like(instance?.authentication, { type: 'PASS' });
    const [vs] = config.virtualServers;
    t.like(vs, { key: { kind: 'address', address: '10.9.8.100', port: 80 }, scheduler: 'rr', method: { kind: 'DR' }, protocol: 'TCP' });
    t.deepEqual(vs?.realServers.map((r) => [r.address, r.weight, r.inhibitOnFailure, r.checkers[0]?.type, r.checkers[0]?.connectTimeoutMs]),
      [['10.9.8.21', 10, true, 'TCP_CHECK', 1000], ['10.9.8.22', 10, true, 'TCP_CHECK', 1000], ['10.9.8.23', 10, true, 'TCP_CHECK', 1000]]);
  }
});

test('after the reload the files add VIP:8080 and give rs3 weight 20; the truncated file is refused; lvskit\'s autoban block reads back', (t) => {
  const after = siteAfterReload(site);
  const { config, errorCount } = load(siteConfigFiles(after, 'lb1'));
  t.is(errorCount, 0);
  t.deepEqual(config.virtualServers.map((v) => (v.key.kind === 'address' ? v.key.port : undefined)).sort(), [80, 8080]);
  t.is(config.virtualServers.find((v) => v.key.kind === 'address' && v.key.port === 80)?.realServers[2]?.weight, 20);

  const www = site.services[0]!;
  const broken = { ...siteConfigFiles(site, 'lb1'), [serviceFile(www)]: truncatedServiceConfig(www) };
  t.true(load(broken).errorCount > 0, 'a file cut off mid-block is an error');

  const withBan = { ...siteConfigFiles(site, 'lb1') };
  withBan[MAIN_FILE] += lvskitAutobanConfig(site);
  const banned = load(withBan);
  t.is(banned.errorCount, 0, banned.diagnostics.map((d) => d.message).join('\n'));
  t.like(banned.config.autoban, { threshold: 100, ipset: 'autoban', intervalMs: 2000, source: 'sync' });
  t.like(banned.config.autoban?.whitelist[0], { address: '10.9.8.32', prefixLength: 32 });
});

test('the bounds follow from the files: Master_Down_Interval of the backup, and a dead server\'s check', (t) => {
  t.is(Math.round(masterDownIntervalMs(site, 100)), 3609);
  t.is(checkFailBoundMs(site.services[0]!), 5000); // delay_loop 2 + connect_timeout 1 + retry 1 × (delay_before_retry 1 + connect_timeout 1)
});

const LIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.9.8.100:80 rr
  -> 10.9.8.21:80                 Route   10     4          120
  -> 10.9.8.22:80                 Route   0      0          37
TCP  10.9.8.100:8080 rr
`;

test('ipvsadm -Ln and -lnc as the oracles read them', (t) => {
  const services = parseIpvsadmList(LIST);
  t.is(services.length, 2);
  t.deepEqual(services[0]?.destinations[1], { address: '10.9.8.22', port: 80, forward: 'Route', weight: 0, active: 0, inactive: 37 });
  t.is(weightOf(services, '10.9.8.100', 80, '10.9.8.22'), 0);
  t.is(weightOf(services, '10.9.8.100', 80, '10.9.8.23'), undefined);
  t.is(tableShape(services), 'TCP 10.9.8.100:80 rr\n  -> 10.9.8.21:80 Route 10\n  -> 10.9.8.22:80 Route 0\nTCP 10.9.8.100:8080 rr',
    'counters are left out: traffic does not change the shape');
  const conns = parseIpvsadmConnections(`IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:58  ESTABLISHED 10.9.8.31:40002    10.9.8.100:80      10.9.8.23:80
TCP 01:51  FIN_WAIT    10.9.8.31:39998    10.9.8.100:80      10.9.8.21:80
`);
  t.deepEqual(conns.map((c) => [c.state, c.source, c.destination]), [['ESTABLISHED', '10.9.8.31:40002', '10.9.8.23:80'], ['FIN_WAIT', '10.9.8.31:39998', '10.9.8.21:80']]);
});

test('traffic counts: failures, answers per server, and the outage from a first failure to the next success', (t) => {
  const r = (sentMs: number, ok: boolean, what: string): RequestResult => ({ seq: sentMs, sentMs, doneMs: sentMs + 5, ok, what });
  const results = [r(0, true, 'rs1'), r(50, false, 'timeout'), r(100, false, 'timeout'), r(150, true, 'rs2'), r(200, false, 'ECONNREFUSED'), r(250, true, 'rs3')];
  t.deepEqual(trafficStats(results, 300), { requests: 6, failures: 3, byServer: { rs1: 1, rs2: 1, rs3: 1 }, errors: { timeout: 2, ECONNREFUSED: 1 }, outageMs: 100 });
  t.is(trafficStats([r(0, true, 'rs1'), r(50, false, 'timeout')], 1000).outageMs, 950, 'still failing at the window\'s end: the outage runs to it');
  t.is(rrSpread({ rs1: 27, rs2: 26, rs3: 27 }, ['rs1', 'rs2', 'rs3']), 1);
  t.is(rrSpread({ rs1: 27, rs2: 26 }, ['rs1', 'rs2', 'rs3']), 27, 'a server that never answered counts as 0');
});
