// layer: tests (unit)
// job: static_ipaddress, static_routes/static_rules and virtual_routes/virtual_rules read as keepalived reads them, with located errors.
import test from 'ava';
import { dumpConfig } from '../../src/config/dump.js';
import { errors, messages, parse, withoutLocations } from '../helpers/config.js';

const tables = new Map([['isp2', 100], ['small', 6909]]);

test('the route lines of keepalived\'s man page read into routes', (t) => {
  const r = parse(`static_routes {
  src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1
  192.168.110.0/24 via 192.168.200.254 dev eth1 metric 5 table isp2 scope link
  blackhole 192.168.114.0/24
  0.0.0.0/0 via 192.168.0.1 table 100 onlink
  192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 onlink weight 1 nexthop via 192.168.101.2 dev wlan0 onlink weight 2
  192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1
  2001:db8:1::/48 via fe80::1 dev eth1 protocol bird no_track append
  unreachable default inet6 table small
}
`, { routeTables: tables });
  t.deepEqual(errors(r), []);
  t.deepEqual(withoutLocations(r.config.staticRoutes), [
    { family: 4, dst: '192.168.109.0', prefixLength: 24, prefsrc: '192.168.100.1', via: '192.168.200.254', dev: 'eth1', protocol: 18, table: 254 },
    { family: 4, dst: '192.168.110.0', prefixLength: 24, via: '192.168.200.254', dev: 'eth1', metric: 5, table: 100, scope: 'link', protocol: 18 },
    { family: 4, dst: '192.168.114.0', prefixLength: 24, type: 'blackhole', protocol: 18, table: 254 },
    { family: 4, dst: '0.0.0.0', prefixLength: 0, via: '192.168.0.1', table: 100, onlink: true, protocol: 18 },
    {
      family: 4, dst: '192.168.100.0', prefixLength: 24, table: 6909, protocol: 18,
      nexthops: [{ via: '192.168.101.1', dev: 'wlan0', onlink: true, weight: 1 }, { via: '192.168.101.2', dev: 'wlan0', onlink: true, weight: 2 }],
    },
    { family: 4, dst: '192.168.113.0', prefixLength: 24, protocol: 18, table: 254, nexthops: [{ via: '192.168.200.254', dev: 'eth1' }, { via: '192.168.100.254', dev: 'eth1' }] },
    { family: 6, dst: '2001:db8:1::', prefixLength: 48, via: 'fe80::1', dev: 'eth1', protocol: 12, noTrack: true, addMode: 'append', table: 254 },
    { family: 6, dst: '::', prefixLength: 0, type: 'unreachable', table: 6909, protocol: 18 },
  ]);
  t.true(messages(r).some((m) => m.includes('keepalived.conf:7:40: warning: route: `or` is deprecated')));
});

test('rules read with keepalived\'s automatic preferences (16384 down, per family) and their actions', (t) => {
  const r = parse(`static_rules {
  from 192.168.2.0/24 table 1
  to 192.168.2.0/24 lookup isp2
  from 192.168.28.0/24 to 192.168.29.0/26 table small iif p33p1 oif wlan0 tos 22 fwmark 24/12 preference 39
  from 10.0.0.0/8 preference 10 goto 40
  not to 2001:db8::/32 blackhole
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
  }
  virtual_rules {
    from 10.0.0.1 table 100 priority 100
  }
  virtual_routes {
    10.1.0.0/16 via 10.0.0.254
  }
}
`, { routeTables: tables });
  t.deepEqual(errors(r), []);
  t.deepEqual(withoutLocations(r.config.staticRules), [
    { family: 4, from: '192.168.2.0', fromLength: 24, action: 'table', table: 1, priority: 16384, protocol: 18 },
    { family: 4, to: '192.168.2.0', toLength: 24, action: 'table', table: 100, priority: 16383, protocol: 18 },
    {
      family: 4, from: '192.168.28.0', fromLength: 24, to: '192.168.29.0', toLength: 26, action: 'table', table: 6909, iif: 'p33p1', oif: 'wlan0',
      tos: 22, fwmark: 24, fwmask: 12, priority: 39, protocol: 18,
    },
    { family: 4, from: '10.0.0.0', fromLength: 8, priority: 10, action: 'goto', goto: 40, protocol: 18 },
    { family: 6, invert: true, to: '2001:db8::', toLength: 32, action: 'blackhole', priority: 16384, protocol: 18 },
  ]);
  const vi = r.config.vrrpInstances[0]!;
  t.deepEqual(withoutLocations(vi.virtualRules), [{ family: 4, from: '10.0.0.1', fromLength: 32, action: 'table', table: 100, priority: 100, protocol: 18 }]);
  t.deepEqual(withoutLocations(vi.virtualRoutes), [{ family: 4, dst: '10.1.0.0', prefixLength: 16, via: '10.0.0.254', protocol: 18, table: 254 }]);
  t.true(messages(r).includes('keepalived.conf:2:3: warning: rule has no preference; set to 16384 as keepalived does (give one: `preference N`)'));
});

test('bad routes and rules are errors at the word, and the entry is dropped', (t) => {
  const r = parse(`static_routes {
  10.1.0.0/16 via 10.0.0.1 table nosuch
  10.1.0.1/16 via 10.0.0.1
  10.1.0.0/33 dev eth0
  10.2.0.0/16 via 2001:db8::1
  10.3.0.0/16 mtu 1400
  10.4.0.0/16 gateway 10.0.0.1
  via 10.0.0.1
  10.5.0.0/16 nexthop via 10.0.0.1 weight 0
}
static_rules {
  from 10.0.0.0/8
  from 10.0.0.0/8 table 0
  from 10.0.0.0/8 table 1 goto 4
  from 10.0.0.0/8 preference 50 goto 40
  from 10.0.0.0/8 table 1 fwmark x1
}
static_ipaddress {
  10.9.9.9/24
}
`, { routeTables: tables });
  t.deepEqual(errors(r), [
    'keepalived.conf:2:34: error: route: routing table `nosuch` not found (a number, or a name in /etc/iproute2/rt_tables: default, main, local, isp2, small)',
    'keepalived.conf:3:3: error: route: `10.1.0.1/16` has host bits set; the network is 10.1.0.0/16',
    'keepalived.conf:4:3: error: route: `10.0.0.0/33`: the prefix length must be 0..32 for IPv4 and 0..128 for IPv6'.replace('10.0.0.0/33', '10.1.0.0/33'),
    'keepalived.conf:5:3: error: route: cannot mix IPv4 and IPv6 (`2001:db8::1`)'.replace(':5:3:', ':5:19:'),
    'keepalived.conf:6:15: error: route: `mtu` is not supported by lvskit (it sends destination, gateway, device, table, metric, scope, protocol, tos, type, onlink and nexthops)',
    'keepalived.conf:7:15: error: route: unknown route keyword `gateway` (a destination ADDR[/LEN], or an option: via, dev, table, metric, scope, src, nexthop...)',
    'keepalived.conf:8:3: error: route: a route needs a destination (ADDR[/LEN] or default)',
    'keepalived.conf:9:36: error: route: nexthop weight 0 is outside 1..256',
    'keepalived.conf:12:3: error: rule: no action (table, goto, nop, blackhole, unreachable or prohibit); keepalived ignores such a rule',
    'keepalived.conf:13:25: error: rule: table 0 is not valid',
    'keepalived.conf:14:27: error: rule: only one of table/goto/nop/blackhole/unreachable/prohibit',
    'keepalived.conf:15:3: error: rule: preference 50 must be below the goto target 40',
    'keepalived.conf:16:34: error: rule: fwmark expects MARK[/MASK] (numbers up to 0xffffffff), not `x1`',
    'keepalived.conf:19:3: error: static_ipaddress 10.9.9.9/24: needs `dev IF` (a static address belongs to no instance interface)',
  ]);
  t.is(r.config.staticRoutes?.length, 0);
  t.is(r.config.staticRules?.length, 0);
});

test('static_ipaddress reads as virtual_ipaddress does', (t) => {
  const r = parse('static_ipaddress {\n  192.168.1.1/24 dev eth0 scope global label eth0:5\n}\n');
  t.deepEqual(errors(r), []);
  t.deepEqual(withoutLocations(r.config.staticIpAddresses), [{ address: '192.168.1.1', family: 4, prefixLength: 24, device: 'eth0', scope: 'global', label: 'eth0:5' }]);
});

test('a dump of routes, rules and static addresses reads back to the same model', (t) => {
  const text = `static_ipaddress {
  192.168.1.1/24 dev eth0 label eth0:5
}
static_routes {
  src 10.0.0.1 blackhole 10.7.0.0/16 table isp2 metric 9
  10.8.0.0/16 nexthop via 10.0.0.2 dev eth0 weight 3 onlink nexthop via 10.0.0.3
  default inet6 via fe80::1 dev eth0 protocol 12 no_track
}
static_rules {
  from 10.0.0.0/8 not fwmark 3/0xff iif eth0 oif eth1 table isp2
  inet6 unreachable preference 7
}
vrrp_instance V {
  interface eth0
  virtual_router_id 9
  virtual_routes {
    10.9.0.0/16 via 10.0.0.9
  }
  virtual_rules {
    to 10.9.0.0/16 goto 100 preference 90
  }
}
`;
  const first = parse(text, { routeTables: tables });
  t.deepEqual(errors(first), []);
  const again = parse(dumpConfig(first.config));
  t.deepEqual(errors(again), []);
  t.deepEqual(withoutLocations(again.config), withoutLocations(first.config));
});
