// layer: tests (unit)
// job: the package as a user's program imports it, by its own name (`lvskit`, `lvskit/ipvs`, ...) through package.json's exports: what is there, what is not, and that it works.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lvskit from 'lvskit';
import { convertIpvs, parseConfigText, plan, IpvsClient, ErrnoError, NetlinkError } from 'lvskit';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json').map((k) => `lvskit/${k.slice(2)}`);

test('the top level holds the objects an embedder uses, as functions and classes', (t) => {
  for (const name of ['Balancer', 'IpvsClient', 'IpsetClient', 'RtnlClient', 'LinkWatcher', 'VrrpRunner', 'HealthChecks', 'AutobanRunner',
    'ConnTracker', 'LiveConnTable', 'loadConfig', 'parseConfigText', 'convertConfig', 'convertIpvs', 'convertVrrp', 'convertHealthChecks',
    'plan', 'apply', 'ErrnoError', 'ConfigError', 'IpvsError', 'IpsetError', 'NetlinkError']) {
    t.is(typeof (lvskit as Record<string, unknown>)[name], 'function', `lvskit.${name}`);
  }
});

test('codec helpers and layer namespaces are not on the top level', (t) => {
  for (const name of ['header', 'required', 'findAttr', 'findNest', 'encodeService', 'AttrWriter', 'ipvs', 'config', 'netlink', 'daemon']) {
    t.false(name in lvskit, `lvskit.${name} should not be exported`);
  }
});

test('every subpath in package.json loads, and lvskit/ipvs keeps its codecs internal', async (t) => {
  t.true(subpaths.length >= 10);
  for (const sub of subpaths) {
    const mod = await import(sub) as Record<string, unknown>;
    t.true(Object.keys(mod).length > 0, `${sub} exports nothing`);
  }
  const ipvs = await import('lvskit/ipvs') as Record<string, unknown>;
  t.is(ipvs.IpvsClient, IpvsClient);
  for (const name of ['header', 'required', 'findAttr', 'findNest', 'encodeService', 'IPVS_CMD_NEW_SERVICE']) t.false(name in ipvs, `lvskit/ipvs.${name}`);
  const daemon = await import('lvskit/daemon') as Record<string, unknown>;
  t.is(daemon.convertIpvs, convertIpvs);
});

test('a program: keepalived.conf text → IPVS services → the plan from an empty table', (t) => {
  const parsed = parseConfigText('virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    weight 10\n  }\n}\n');
  t.true(parsed.ok, JSON.stringify(parsed.diagnostics));
  const conversion = convertIpvs(parsed.config);
  t.true(conversion.ok);
  const ops = plan([], conversion.services);
  t.deepEqual(ops.map((o) => o.kind), ['add-service', 'add-destination']);
});

test('NetlinkError, what kernel refusals reject with, is an ErrnoError', (t) => {
  t.true(NetlinkError.prototype instanceof ErrnoError);
});
