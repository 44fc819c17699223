// layer: tests (unit)
// job: the argument readers' fast paths agree with the general ones: addresses with node:net, seconds with the strtod-like pattern.
import test from 'ava';
import { isIPv4, isIPv6 } from 'node:net';
import { parseAddress, parseSeconds } from '../../src/config/values.js';

test('parseAddress accepts exactly what node:net accepts, dotted quads included (the fast path for canonical ones)', (t) => {
  const cases = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3.04', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3',
    '1.2.3.', 'a.b.c.d', '1.2.3.4 ', ' 1.2.3.4', '', '1.2.3.-1', '1e1.2.3.4', '1234.1.1.1', '10.0.0.0', '2001:db8::1', '::ffff:1.2.3.4', '1.2.3.4/32'];
  for (let i = 0; i < 2000; i++) cases.push([0, 0, 0, 0].map(() => String(Math.floor(Math.random() * 300))).join('.'));
  for (const c of cases) t.is(parseAddress(c) !== undefined, isIPv4(c) || isIPv6(c), c);
  t.deepEqual(parseAddress('10.1.2.3'), { address: '10.1.2.3', family: 4 });
});

test('parseSeconds: digits read directly, the rest as strtod reads them', (t) => {
  t.deepEqual(['3', '0', '00', '86400', '0.5', '.5', '5.', '1e2', '+3', '-1', '', 'x', '1,5', '0x10', '123456789012345678'].map(parseSeconds),
    [3, 0, 0, 86400, 0.5, 0.5, 5, 100, 3, undefined, undefined, undefined, undefined, undefined, 123456789012345678]);
});
