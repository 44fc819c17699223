// layer: tests (unit)
// job: what a balancer runs: the operator's keepalived.conf read whole (VRRP, IPVS at start, checks, sync daemon), refusals located, a spec written in code validated and given its start table.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigError } from '../../src/config/diagnostics.js';
import { desiredFromSpec, loadDesired, startDestinationsOf } from '../../src/daemon/desired.js';
import { serviceName } from '../../src/ipvs/model.js';
import { fixture, parse } from '../helpers/config.js';

test('the operator\'s keepalived.conf + services/*.conf: one instance driving the sync daemon, one service with three checked real servers', (t) => {
  const d = loadDesired({ file: fixture('seed', 'multi-line', 'keepalived.conf') });
  t.deepEqual(d.instances.map((i) => [i.name, i.vrid, i.lvsSyncDaemonInterface]), [['VI_2', 52, 'eth0']]);
  t.like(d.syncDaemon, { interface: 'eth0', instance: 'VI_2', syncId: 52 });
  t.deepEqual(d.services.map(serviceName), ['TCP 123.30.175.40:80']);
  t.deepEqual(d.services[0]!.destinations!.map((x) => [x.address, x.weight]), [['172.16.16.37', 10], ['172.16.16.38', 10], ['172.16.16.39', 10]]);
  t.deepEqual(d.virtualServers.map((v) => [v.id, serviceName(v.service), v.realServers.length]), [['TCP 123.30.175.40:80', 'TCP 123.30.175.40:80', 3]]);
  t.deepEqual(d.daemons, [], 'the instance drives the daemon: none runs regardless of state');
  t.true(d.files.length >= 2, 'the included services file is among the files read');
  t.is(d.locateVrrp?.('instances[0].interface')?.line, 4, 'a later VRRP refusal can be located at the line that wrote the interface');
  t.is(d.locateVrrp?.('instances[0].notify')?.line, 2, '… or, for a field no keyword of its own wrote, at the instance');
  const refusal = Object.assign(new Error('instances[0].interface: eth0 does not exist'), { field: 'instances[0].interface' });
  t.deepEqual(d.explainVrrp?.(refusal), { location: d.locateVrrp?.('instances[0].interface'), message: 'VI_2: interface eth0 does not exist' });
});

test('the running configuration keeps VRRP\'s locations, not every conversion\'s (at 1,000 × 10 they were 5 MiB held for the daemon\'s life)', (t) => {
  const services = Array.from({ length: 300 }, (_, i) => `virtual_server 10.1.${i >> 8}.${i & 255} 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n${
    Array.from({ length: 10 }, (_, j) => `  real_server 10.2.${i >> 8}.${(i * 10 + j) & 255} 80 {\n    weight 10\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n`).join('')}}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-desired-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(file, `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n${services.join('')}`);
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapUsed = (): number => { gc(); gc(); return process.memoryUsage().heapUsed; };
  // Once before measuring (compiled code and caches are not the configuration's), and VRRP's refusals still located.
  t.is(loadDesired({ file }).locateVrrp?.('instances[0].interface')?.line, 2, 'a VRRP refusal is located at its keyword');
  let d = loadDesired({ file });
  const held = heapUsed();
  d = { ...d, locateVrrp: undefined, explainVrrp: undefined };
  const kept = held - heapUsed();
  t.is(d.services.length, 300, 'the configuration itself is still held');
  t.true(kept < 768 * 1024, `the locator and explainer hold ${(kept / 1024).toFixed(0)} KiB beyond the configuration (3,000 real servers)`);
});

test('a configuration lvskit cannot carry throws one ConfigError with every problem at file:line:col', (t) => {
  const r = parse('vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  track_script {\n    chk\n  }\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n      bind_if eth9\n    }\n  }\n}\n');
  const error = t.throws(() => loadDesired({ config: r.config, file: 'keepalived.conf' }), { instanceOf: ConfigError });
  const errors = error!.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.location.line}: ${x.message.split(':')[0]}`);
  t.true(errors.some((e) => e.startsWith('5:')), `track_script (its entry, line 5) refused at its line: ${errors.join(' | ')}`);
  t.true(errors.some((e) => e.startsWith('14:') || e.startsWith('15:')), `bind_if refused at its line: ${errors.join(' | ')}`);
});

test('a syntax error throws before any conversion', (t) => {
  const error = t.throws(() => loadDesired({ file: '/nonexistent/lvskit/keepalived.conf' }), { instanceOf: ConfigError });
  t.regex(error!.message, /nonexistent/);
});

const spec = {
  instances: [{ name: 'VI_1', interface: 'eth0', vrid: 51, priority: 150, virtualAddresses: ['10.0.0.100/32'] }],
  syncDaemon: { interface: 'eth0', instance: 'VI_1', syncId: 51 },
  services: [{
    id: '', service: { protocol: 'tcp' as const, address: '10.0.0.100', port: 80 }, scheduler: 'rr' as const, forward: 'dr' as const,
    realServers: [
      { address: '10.0.1.1', weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK' as const }] },
      { address: '10.0.1.2', weight: 10, inhibitOnFailure: true, alpha: true, checkers: [{ kind: 'TCP_CHECK' as const }] },
      { address: '10.0.1.3', weight: 10, alpha: true, checkers: [{ kind: 'TCP_CHECK' as const }] },
    ],
  }],
};

test('a spec written in code: the service named, its settings split from its checks, its start table by the checks\' rules', (t) => {
  const d = desiredFromSpec(spec);
  t.is(d.virtualServers[0]!.id, 'TCP 10.0.0.100:80');
  t.false('scheduler' in d.virtualServers[0]!, 'the IPVS settings are not handed to the health checks');
  t.like(d.services[0], { scheduler: 'rr', address: '10.0.0.100' });
  t.deepEqual(d.services[0]!.destinations!.map((x) => [x.address, x.weight]), [['10.0.1.1', 10], ['10.0.1.2', 0]],
    'alpha holds .2 DOWN (inhibited: weight 0) and .3 DOWN (not inhibited: absent)');
  t.is(d.instances[0]!.lvsSyncDaemonInterface, 'eth0', 'the driving instance carries the sync daemon interface');
  t.deepEqual(d.daemons, []);
});

test('a spec is validated by each library, naming the field', (t) => {
  t.throws(() => desiredFromSpec({ ...spec, instances: [{ ...spec.instances[0]!, vrid: 300 }] }), { message: /vrid/ });
  t.throws(() => desiredFromSpec({ services: [{ ...spec.services[0]!, realServers: [{ address: 'nope' }] }] }), { message: /services\[0\]\.realServers\[0\]/ });
  t.throws(() => desiredFromSpec({ syncDaemon: { interface: 'eth0', instance: 'VI_9', syncId: 1 }, instances: spec.instances }), { message: /VI_9/ });
});

test('start destinations: the sorry server serves while the quorum is missed', (t) => {
  const out = startDestinationsOf({
    id: 'x', service: { protocol: 'tcp', address: '10.0.0.1', port: 80 }, port: 80, quorum: 20, sorryServer: { address: '10.0.9.9' },
    realServers: [{ address: '10.0.1.1', weight: 10, checkers: [{ kind: 'TCP_CHECK' }] }],
  });
  t.deepEqual(out.map((x) => [x.address, x.weight]), [['10.0.9.9', 1]]);
});

test('a reload converts only what changed: unchanged services are the same objects; a changed global, or SSL_GET, converts again', (t) => {
  const vs = (port: number, weight = 10, check = 'TCP_CHECK {\n      connect_timeout 3\n    }') =>
    `virtual_server 10.0.0.1 ${port} {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 10.0.1.1 ${port} {\n    weight ${weight}\n    ${check}\n  }\n}\n`;
  const load = (text: string, previous?: Parameters<typeof loadDesired>[1]) => loadDesired({ config: parse(text).config, file: 'keepalived.conf' }, previous);
  const first = load(vs(80) + vs(81) + vs(82));
  const same = load(vs(80) + vs(81) + vs(82), first);
  t.true(same.virtualServers.every((v, i) => v === first.virtualServers[i]), 'the same text: the same specs');
  const changed = load(vs(80) + vs(81, 20) + vs(82), same);
  t.deepEqual(changed.virtualServers.map((v, i) => v === same.virtualServers[i]), [true, false, true]);
  t.is(changed.services[1]!.destinations![0]!.weight, 20);
  const global = load(`global_defs {\n  router_id x\n}\n${vs(80) + vs(81) + vs(82)}`, changed);
  t.false(global.virtualServers.some((v, i) => v === changed.virtualServers[i]), 'global_defs changed (and every line moved): all converted again');
  const ssl = 'SSL_GET {\n      url {\n        path /\n        status_code 200\n      }\n    }';
  const a = load(vs(80, 10, ssl));
  const b = load(vs(80, 10, ssl), a);
  t.not(b.virtualServers[0], a.virtualServers[0], 'SSL_GET reads certificate files: never taken from the memo');
});

test('a memoized service\'s diagnostics follow it to its new place', (t) => {
  const vs = (port: number) => `virtual_server 10.0.0.1 ${port} {\n  lb_algo rr\n  protocol TCP\n  ha_suspend\n  real_server 10.0.1.1 ${port} {\n  }\n}\n`;
  const files = (text: string) => parse(text).config;
  const first = loadDesired({ config: files(vs(80)), file: 'keepalived.conf' });
  t.true(first.warnings.some((w) => /ha_suspend/.test(w.message)));
  const again = loadDesired({ config: files(vs(80)), file: 'keepalived.conf' }, first);
  t.deepEqual(again.warnings.map((w) => w.message), first.warnings.map((w) => w.message), 'a memo hit reports what the conversion reported');
});
