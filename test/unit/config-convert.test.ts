// layer: tests (unit)
// job: the model → rtnl AddressSpec conversion of VIPs: interfaces, prefixes, labels, scopes, broadcast, flags, problems.
import test from 'ava';
import { vipAddressSpecs } from '../../src/daemon/convert.js';
import { loadConfig } from '../../src/config/index.js';
import { IFA_F_NODAD, IFA_F_NOPREFIXROUTE } from '../../src/rtnl/constants.js';
import { fixture, messages, parse } from '../helpers/config.js';

const IFINDEX: Record<string, number> = { eth0: 2, eth1: 3, eth9: 9 };
const lookup = (name: string): number | undefined => IFINDEX[name];

test('the operator\'s VIP becomes an address on eth1 with label eth1:2, /32', (t) => {
  const r = loadConfig(fixture('seed', 'multi-line', 'keepalived.conf'));
  const vi = r.config.vrrpInstances[0];
  if (!vi) return t.fail('no instance');
  const out = vipAddressSpecs(r.config, vi, lookup);
  t.deepEqual(out.addresses.map((a) => [a.spec, a.device, a.excluded]), [
    [{ ifindex: 3, address: '123.30.175.40', prefixLength: 32, label: 'eth1:2' }, 'eth1', false],
  ]);
  t.deepEqual(out.diagnostics, []);
});

test('every VIP option the rtnl client knows; the device defaults to the instance interface, then default_interface', (t) => {
  const r = parse([
    'global_defs {', '  default_interface eth9', '}',
    'vrrp_instance A {', '  interface eth0', '  virtual_router_id 1', '  virtual_ipaddress {',
    '    192.0.2.10/24 brd + scope link label eth0:1', '    192.0.2.20/28 brd - dev eth1', '    192.0.2.30 brd 192.0.2.255 scope 254',
    '  }', '  virtual_ipaddress_excluded {', '    2001:db8::1/64 -nodad noprefixroute home mngtmpaddr autojoin', '  }', '}',
    'vrrp_instance B {', '  unicast_peer {', '    192.0.2.2', '  }', '  virtual_router_id 2', '  virtual_ipaddress {', '    192.0.2.40', '  }', '}',
  ].join('\n'));
  const [a, b] = r.config.vrrpInstances;
  if (!a || !b) return t.fail('instances missing');
  t.deepEqual(vipAddressSpecs(r.config, a, lookup).addresses.map((x) => x.spec), [
    { ifindex: 2, address: '192.0.2.10', prefixLength: 24, broadcast: '192.0.2.255', scope: 'link', label: 'eth0:1' },
    { ifindex: 3, address: '192.0.2.20', prefixLength: 28, broadcast: '192.0.2.16' },
    { ifindex: 2, address: '192.0.2.30', prefixLength: 32, broadcast: '192.0.2.255', scope: 'host' },
    { ifindex: 2, address: '2001:db8::1', prefixLength: 64, flags: IFA_F_NODAD | IFA_F_NOPREFIXROUTE | 0x10 | 0x100 | 0x400 },
  ]);
  t.deepEqual(vipAddressSpecs(r.config, b, lookup).addresses.map((x) => [x.device, x.spec.ifindex]), [['eth9', 9]]);
});

test('what cannot be converted is reported at the VIP: a missing interface (error), options the rtnl client lacks (warnings)', (t) => {
  const r = parse([
    'vrrp_instance A {', '  interface eth0', '  virtual_router_id 1', '  virtual_ipaddress {',
    '    10.0.0.1 dev eth7', '    10.0.0.2 peer 10.0.0.3 preferred_lft 30 scope 77', '  }',
    '  virtual_ipaddress_excluded {', '    2001:db8::5 label eth0:5 brd +', '  }', '}',
  ].join('\n'));
  const vi = r.config.vrrpInstances[0];
  if (!vi) return t.fail('no instance');
  const out = vipAddressSpecs(r.config, vi, lookup);
  t.deepEqual(out.addresses.map((x) => x.spec.address), ['10.0.0.2', '2001:db8::5']);
  t.deepEqual(messages(out.diagnostics), [
    'keepalived.conf:5:5: error: 10.0.0.1: interface eth7 does not exist',
    'keepalived.conf:6:5: error: 10.0.0.2: scope 77 has no name the rtnl client accepts (global, site, link, host, nowhere)',
    'keepalived.conf:6:5: warning: 10.0.0.2: peer addresses are not supported by the rtnl client yet; peer ignored',
    'keepalived.conf:6:5: warning: 10.0.0.2: preferred_lft is not supported by the rtnl client yet; ignored',
    'keepalived.conf:9:5: warning: 2001:db8::5: IPv6 addresses have no labels; label ignored',
    'keepalived.conf:9:5: warning: 2001:db8::5: IPv6 has no broadcast address; brd ignored',
  ]);
});
