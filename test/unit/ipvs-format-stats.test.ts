// layer: tests (unit)
// job: `ipvsadm -Ln --stats` / `--rate` columns: print_largenum()'s widths and K/M/G/T shortening, headers and row layout.
import test from 'ava';
import { formatTable, largeNumber } from '../../src/ipvs/format.js';
import type { ServiceState, Stats } from '../../src/ipvs/model.js';

test('counters as ipvsadm prints them: 9 columns up to 99,999,999, then K, M, G, T in 8 + the unit; --exact in full', (t) => {
  t.is(largeNumber(0n), '        0');
  t.is(largeNumber(99_999_999n), ' 99999999');
  t.is(largeNumber(100_000_000n), '  100000K');
  t.is(largeNumber(999_999_999n), '  999999K');
  t.is(largeNumber(1_000_000_000n), '    1000M');
  t.is(largeNumber(999_999_999_999n), '  999999M');
  t.is(largeNumber(1_000_000_000_000n), '    1000G');
  t.is(largeNumber(1_000_000_000_000_000n), '    1000T');
  t.is(largeNumber(5n, true), '        5');
  t.is(largeNumber(123_456_789n, true), ' 123456789');
  t.is(largeNumber(12_345_678_901n, true), ' 12345678901');
});

const stats = (n: bigint): Stats => ({
  width: 64, conns: n, inPkts: 2n * n, outPkts: 3n * n, inBytes: 100n * n, outBytes: 200_000_000n * n,
  connsPerSec: 1n, inPktsPerSec: 2n, outPktsPerSec: 3n, inBytesPerSec: 4n, outBytesPerSec: 5n,
});

const service: ServiceState = {
  protocol: 'tcp', address: '10.0.0.1', port: 80, family: 4, scheduler: 'rr', stats: stats(7n),
  destinations: [{ address: '10.0.1.2', port: 80, family: 4, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0,
    activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: stats(3n) }],
};
const info = { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 };

test('--stats: a 33-column name, then five counters; real servers under their service', (t) => {
  t.is(formatTable(info, [service], { columns: 'stats' }), [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
    '  -> RemoteAddress:Port',
    'TCP  10.0.0.1:80                         7       14       21      700    1400M',
    '  -> 10.0.1.2:80                         3        6        9      300  600000K',
  ].join('\n'));
  t.regex(formatTable(info, [service], { columns: 'stats', exact: true }), /^TCP {2}10\.0\.0\.1:80 {25}7 {7}14 {7}21 {6}700 1400000000$/m);
});

test('--rate: the kernel\'s estimates under CPS, InPPS, OutPPS, InBPS, OutBPS; one service without the version line', (t) => {
  t.is(formatTable(info, [service], { columns: 'rate', version: false }), [
    'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS',
    '  -> RemoteAddress:Port',
    'TCP  10.0.0.1:80                         1        2        3        4        5',
    '  -> 10.0.1.2:80                         1        2        3        4        5',
  ].join('\n'));
});
