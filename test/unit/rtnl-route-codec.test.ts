// layer: tests (unit)
// job: route and rule codecs byte for byte against what iproute2 sends (captured with strace), and encode/decode round trips.
import test from 'ava';
import { encodeMessage, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST } from '../../src/netlink/index.js';
import { RTM_NEWROUTE, RTM_NEWRULE, RTPROT_BOOT, RTPROT_KEEPALIVED } from '../../src/rtnl/constants.js';
import { decodeRoute, encodeRouteRequest, networkAddress, validateRouteSpec, type RouteSpec } from '../../src/rtnl/route.js';
import { decodeRule, encodeRuleRequest, validateRuleSpec, type RuleSpec } from '../../src/rtnl/rule.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

const SEQ = 0x6b169661;
const addFlags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;

// ip route add 10.20.0.0/16 via 10.9.0.2 dev rouc0 table 100 metric 7 src 10.9.0.1   (rouc0 = ifindex 3)
const ipRouteAdd = hex(`
  44 00 00 00 18 00 05 06  61 96 16 6b 00 00 00 00
  02 10 00 00 64 03 00 01  00 00 00 00 08 00 01 00
  0a 14 00 00 08 00 05 00  0a 09 00 02 08 00 06 00
  07 00 00 00 08 00 07 00  0a 09 00 01 08 00 04 00
  03 00 00 00`);
// ip route add 10.30.0.0/16 table 1000 nexthop via 10.9.0.2 dev rouc0 weight 1 nexthop via 10.9.0.3 dev rouc0 weight 2 onlink
const ipRouteAddMultipath = hex(`
  50 00 00 00 18 00 05 06  61 96 16 6b 00 00 00 00
  02 10 00 00 00 03 00 01  00 00 00 00 08 00 01 00
  0a 1e 00 00 08 00 0f 00  e8 03 00 00 24 00 09 00
  10 00 00 00 03 00 00 00  08 00 05 00 0a 09 00 02
  10 00 04 01 03 00 00 00  08 00 05 00 0a 09 00 03`);
// ip rule add from 10.1.0.0/24 to 10.2.0.0/16 table 100 priority 50 iif rouc0 fwmark 0x18/0xff
const ipRuleAdd = hex(`
  50 00 00 00 20 00 05 06  5b 96 16 6b 00 00 00 00
  02 10 18 00 64 00 00 01  00 00 00 00 08 00 02 00
  0a 01 00 00 08 00 01 00  0a 02 00 00 08 00 06 00
  32 00 00 00 0a 00 03 00  72 6f 75 63 30 00 00 00
  08 00 0a 00 18 00 00 00  08 00 10 00 ff 00 00 00`);

test('RTM_NEWROUTE with via, table, metric, src and dev is byte for byte what `ip route add` sends', (t) => {
  const payload = encodeRouteRequest({ family: 4, dst: '10.20.0.0', prefixLength: 16, via: '10.9.0.2', ifindex: 3, table: 100, metric: 7, prefsrc: '10.9.0.1' });
  t.deepEqual(encodeMessage({ type: RTM_NEWROUTE, flags: addFlags, seq: SEQ }, payload), ipRouteAdd);
});

test('a multipath route in a table above 255 is byte for byte what `ip route add ... nexthop ... nexthop ...` sends', (t) => {
  const payload = encodeRouteRequest({
    family: 4, dst: '10.30.0.0', prefixLength: 16, table: 1000,
    nexthops: [{ via: '10.9.0.2', ifindex: 3, weight: 1 }, { via: '10.9.0.3', ifindex: 3, weight: 2, onlink: true }],
  });
  t.deepEqual(encodeMessage({ type: RTM_NEWROUTE, flags: addFlags, seq: SEQ }, payload), ipRouteAddMultipath);
});

test('RTM_NEWRULE with from, to, table, priority, iif and fwmark/mask is byte for byte what `ip rule add` sends', (t) => {
  const payload = encodeRuleRequest({ family: 4, from: '10.1.0.0', fromLength: 24, to: '10.2.0.0', toLength: 16, table: 100, priority: 50, iif: 'rouc0', fwmark: 0x18, fwmask: 0xff });
  t.deepEqual(encodeMessage({ type: RTM_NEWRULE, flags: addFlags, seq: 0x6b16965b }, payload), ipRuleAdd);
});

const routes: RouteSpec[] = [
  { family: 4, dst: '10.20.0.0', prefixLength: 16, via: '10.9.0.2', ifindex: 3, table: 100, metric: 7, prefsrc: '10.9.0.1' },
  { family: 4, dst: '10.40.0.0', prefixLength: 24, type: 'blackhole', protocol: RTPROT_KEEPALIVED },
  { family: 4, dst: '0.0.0.0', prefixLength: 0, via: '10.9.0.254', table: 70000, scope: 'global', onlink: true },
  { family: 4, dst: '10.50.0.0', prefixLength: 24, ifindex: 5, scope: 'link' },
  { family: 4, dst: '10.30.0.0', prefixLength: 16, nexthops: [{ via: '10.9.0.2', ifindex: 3, weight: 1 }, { via: '10.9.0.3', ifindex: 4, weight: 256, onlink: true }] },
  { family: 6, dst: '2001:db8:1::', prefixLength: 48, via: 'fe80::1', ifindex: 3, metric: 1024, type: 'unreachable' },
  { family: 6, dst: '2001:db8:2::', prefixLength: 64, from: '2001:db8:9::', fromLength: 64, type: 'prohibit', tos: 4 },
];

for (const spec of routes) {
  test(`route round trip: ${spec.type ?? 'unicast'} ${spec.dst}/${spec.prefixLength}${spec.nexthops ? ' multipath' : ''}`, (t) => {
    const decoded = decodeRoute(encodeRouteRequest(spec));
    const expected = {
      table: 254, type: 'unicast', protocol: RTPROT_BOOT, scope: 'global', ...spec,
      ...(spec.nexthops ? { nexthops: spec.nexthops.map((nh) => ({ weight: 1, ...nh })) } : {}),
    };
    t.deepEqual(decoded, expected);
  });
}

const rules: RuleSpec[] = [
  { family: 4, from: '10.1.0.0', fromLength: 24, to: '10.2.0.0', toLength: 16, action: 'table', table: 100, priority: 50, iif: 'eth0', fwmark: 24, fwmask: 255 },
  { family: 4, from: '192.168.2.0', fromLength: 24, action: 'table', table: 70000, protocol: RTPROT_KEEPALIVED },
  { family: 4, to: '192.168.3.0', toLength: 24, action: 'blackhole', oif: 'wlan0', invert: true, tos: 8 },
  { family: 6, from: '2001:db8::', fromLength: 32, action: 'goto', goto: 40, priority: 30 },
  { family: 6, to: '2001:db8:1::', toLength: 48, action: 'unreachable' },
];

for (const spec of rules) {
  test(`rule round trip: ${spec.action} ${spec.from ?? ''}${spec.to ?? ''}`, (t) => {
    t.deepEqual(decodeRule(encodeRuleRequest(spec)), spec);
  });
}

test('route and rule specs are checked before anything is sent, naming the field', (t) => {
  t.throws(() => validateRouteSpec({ family: 4, dst: '10.0.0.0', prefixLength: 33 }), { instanceOf: RangeError, message: /^prefixLength:/ });
  t.throws(() => validateRouteSpec({ family: 4, dst: '2001:db8::', prefixLength: 32 }), { instanceOf: TypeError, message: /^dst:/ });
  t.throws(() => validateRouteSpec({ family: 4, dst: '10.0.0.0', prefixLength: 8, via: 'fe80::1' }), { message: /^via:/ });
  t.throws(() => validateRouteSpec({ family: 4, dst: '10.0.0.0', prefixLength: 8, table: 0 }), { message: /^table:/ });
  t.throws(() => validateRouteSpec({ family: 4, dst: '10.0.0.0', prefixLength: 8, nexthops: [{ via: '10.0.0.1', weight: 0 }] }), { message: /^nexthops\[0\]\.weight:/ });
  t.throws(() => validateRuleSpec({ family: 4, from: '10.0.0.0', fromLength: 40 }), { message: /^fromLength:/ });
  t.throws(() => validateRuleSpec({ family: 4, action: 'goto' }), { message: /^goto:/ });
  t.throws(() => validateRuleSpec({ family: 6, to: '10.0.0.1' }), { message: /^to:/ });
});

test('networkAddress clears the host bits', (t) => {
  t.is(networkAddress('192.168.1.77', 24), '192.168.1.0');
  t.is(networkAddress('10.255.255.255', 9), '10.128.0.0');
  t.is(networkAddress('2001:db8:1:2::5', 48), '2001:db8:1::');
  t.is(networkAddress('0.0.0.0', 0), '0.0.0.0');
});
