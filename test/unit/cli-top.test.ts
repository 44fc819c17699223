// layer: tests (unit)
// job: `lvskit top`'s pure parts over a fixed status: rates from two samples' counters (and none across a reset), the frame as text (columns, health and why, rates, bans, events, a terminal's width and height).
import test from 'ava';
import { rateBase, rateText, renderTop, timeOfDay, topFrame, trafficRates, whyDown, type TopSample } from '../../src/cli/top-view.js';
import type { BalancerStatus, TrafficCounters, TrafficView } from '../../src/daemon/events.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
/** A checker's key as the health checks make it: the whole check as JSON. */
const TCP_KEY = '{"connectIp":"10.0.1.2","connectPort":80,"kind":"TCP_CHECK"}';

function counters(conns: number, pkts = conns * 10, bytes = conns * 1500): TrafficCounters {
  return { conns, inPkts: pkts, outPkts: pkts - conns, inBytes: bytes, outBytes: bytes * 2 };
}

/** The counters as status carries them (the kernel's own rate estimates left at 0: top does not read them). */
function traffic(c: TrafficCounters): TrafficView {
  return { connections: c.conns, packetsIn: c.inPkts, packetsOut: c.outPkts, bytesIn: c.inBytes, bytesOut: c.outBytes,
    connectionsPerSec: 0, packetsInPerSec: 0, packetsOutPerSec: 0, bytesInPerSec: 0, bytesOutPerSec: 0 };
}

/** A balancer: VI_1 MASTER, VI_2 BACKUP hearing 10.1.0.2; one service with an UP, a DOWN and a check-less real server; the autoban with one ban. */
function status(o: { rs1: number; rs2?: number; svc: number; reset?: boolean }): BalancerStatus {
  return {
    pid: 4242, config: '/etc/keepalived/keepalived.conf', startedAtMs: T0 - 125_000, reloads: 2, reloadFailures: 1,
    instances: [
      { name: 'VI_1', state: 'MASTER', priority: 150, vrid: 51, interface: 'eth1', masterAdverIntervalCs: 100, stats: {} as never, vips: ['123.30.175.40', '123.30.175.41'] },
      { name: 'VI_2', state: 'BACKUP', priority: 100, vrid: 52, interface: 'eth1', master: { address: '10.1.0.2', priority: 150 }, masterAdverIntervalCs: 100, stats: {} as never, vips: ['123.30.175.42'] },
    ],
    services: [{
      name: 'TCP 123.30.175.40:80', scheduler: 'rr', present: true, quorumUp: true, traffic: traffic(counters(o.svc)),
      realServers: [
        { id: '10.0.1.1:80', address: '10.0.1.1', port: 80, up: true, weight: 10, kernelWeight: 10, activeConns: 7, inactiveConns: 30, traffic: traffic(counters(o.rs1)), checkers: [] },
        { id: '10.0.1.2:80', address: '10.0.1.2', port: 80, up: false, weight: 10, kernelWeight: 0, activeConns: 0, inactiveConns: 2,
          downReason: { checker: TCP_KEY, failure: { ok: false, reason: 'refused', message: 'connect ECONNREFUSED 10.0.1.2:80' } }, traffic: traffic(counters(o.rs2 ?? 4)),
          checkers: [{ kind: 'TCP_CHECK', key: TCP_KEY, up: false, overdue: false, attempts: 3 }] },
        { address: '2001:db8::9', port: 80, kernelWeight: 1, activeConns: 0, inactiveConns: 0, traffic: traffic(counters(o.reset ? 0 : 3)) },
      ],
    }, { name: 'TCP 123.30.175.42:443', present: false, realServers: [{ id: '10.0.2.1:443', address: '10.0.2.1', port: 443, up: true, weight: 5, checkers: [] }] }],
    autoban: { set: 'lvskit_ban', source: 'procfs', threshold: 100, bans: [{ address: '198.51.100.7', count: 140 }], counters: {} as never },
  };
}

function sample(atMs: number, s: BalancerStatus): TopSample {
  return { atMs, status: s, events: [
    { atMs: T0 - 60_000, level: 'info', source: 'vrrp', type: 'transition', message: 'VI_1: BACKUP → MASTER (master-down, priority 150)' },
    { atMs: T0 - 1000, level: 'warn', source: 'checks', type: 'real-server', message: 'TCP 123.30.175.40:80: real server 10.0.1.2:80 DOWN (TCP_CHECK: connect ECONNREFUSED 10.0.1.2:80)' },
  ] };
}

test('rates are the counters\' differences per second; none without a previous reading, with no time, or across a counter that went down', (t) => {
  t.deepEqual(trafficRates(counters(100), counters(150), 2000), { connsPerSec: 25, inPktsPerSec: 250, outPktsPerSec: 225, inBytesPerSec: 37_500, outBytesPerSec: 75_000 });
  t.deepEqual(trafficRates(counters(100), counters(100), 500), { connsPerSec: 0, inPktsPerSec: 0, outPktsPerSec: 0, inBytesPerSec: 0, outBytesPerSec: 0 });
  t.is(trafficRates(undefined, counters(1), 1000), undefined);
  t.is(trafficRates(counters(1), counters(2), 0), undefined);
  t.is(trafficRates(counters(5), counters(2), 1000), undefined, 'the real server was re-created: its counters restarted');
  t.is(trafficRates(counters(5, 100), counters(6, 90), 1000), undefined, 'any counter going down');
});

test('the rates\' base: the earlier reading closest to a whole number of the kernel\'s 2 s counter periods, at least 0.9 of one; the most recent on a tie', (t) => {
  const at = (ms: number): TopSample => ({ atMs: ms, status: status({ rs1: 0, svc: 0 }), events: [] });
  const base = (history: number[], now: number): number | undefined => rateBase(history.map(at), at(now))?.atMs;
  t.is(base([], 1000), undefined);
  t.is(base([0], 1000), undefined, 'one second: the counters may not have moved yet');
  t.is(base([0, 1000], 2000), 0, 'every 1 s: over 2 s');
  t.is(base([0, 1000, 2000, 3000], 4000), 2000, 'the most recent of 2 s and 4 s');
  t.is(base([0, 1020, 2010], 3000), 1020, '1.98 s is as good as it gets');
  t.is(base([0, 500, 1000, 1500, 2000, 2500], 3000), 1000, 'every 500 ms: still over 2 s');
  t.is(base([0, 3000, 6000], 9000), 3000, 'every 3 s: over 6 s (3 periods), not 3 s (1.5)');
  t.is(base([0, 3000], 6000), 0);
  t.is(base([0], 3000), 0, 'no better one: 3 s');
});

test('the frame: each service and real server with its rates over the interval; the first sample has none', (t) => {
  const first = topFrame(sample(T0 - 2000, status({ rs1: 1000, svc: 1004 })));
  t.is(first.ratesOverMs, undefined);
  t.true(first.services[0]!.realServers.every((r) => r.rates === undefined));
  const frame = topFrame(sample(T0, status({ rs1: 1020, svc: 1024, reset: true })), sample(T0 - 2000, status({ rs1: 1000, svc: 1004 })));
  t.is(frame.ratesOverMs, 2000);
  const [rs1, rs2, rs3] = frame.services[0]!.realServers;
  t.like(rs1, { name: '10.0.1.1:80', health: 'UP', weight: 10, activeConns: 7, rates: { connsPerSec: 10, inPktsPerSec: 100, inBytesPerSec: 15_000, outBytesPerSec: 30_000 } });
  t.like(rs2, { name: '10.0.1.2:80', health: 'DOWN', weight: 0, why: 'TCP_CHECK: connect ECONNREFUSED 10.0.1.2:80', rates: { connsPerSec: 0 } });
  t.is(rs3?.name, '[2001:db8::9]:80');
  t.is(rs3?.health, undefined, 'no checks: no health');
  t.is(rs3?.rates, undefined, 'its counters restarted');
  t.like(frame.services[0], { rates: { connsPerSec: 10 } });
  t.is(whyDown({ downReason: { checker: 'shutdown' } }), 'shutdown', 'a reason with no checker of that key: as it is');
  t.is(whyDown({}), undefined);
  t.like(frame.services[1], { present: false, realServers: [{ name: '10.0.2.1:443', health: 'UP' }] });
  t.is(frame.services[1]!.realServers[0]!.weight, undefined);
  t.is(frame.bans, 1);
  t.is(JSON.parse(JSON.stringify(frame)).services[0].realServers[0].rates.connsPerSec, 10, 'the JSON frame carries the numbers');
});

test('the frame as text: instances, services and real servers in columns with health, why and rates, bans, events', (t) => {
  const frame = topFrame(sample(T0, status({ rs1: 1020, rs2: 4, svc: 1024 })), sample(T0 - 1000, status({ rs1: 1000, rs2: 4, svc: 1004 })));
  const lines = renderTop(frame);
  t.is(lines[0], `lvskit top  ${timeOfDay(T0)}  pid 4242  /etc/keepalived/keepalived.conf  up 2m5s  2 reload(s), 1 refused  rates over 1.0s`);
  const text = lines.join('\n');
  t.regex(text, /^ {2}VI_1 +MASTER +150 +51 +eth1 +\(this\) +123\.30\.175\.40 123\.30\.175\.41$/m);
  t.regex(text, /^ {2}VI_2 +BACKUP +100 +52 +eth1 +10\.1\.0\.2 \(150\) +123\.30\.175\.42$/m);
  t.regex(text, /^SERVICE \/ REAL SERVER +HEALTH +WEIGHT +ACTIVE +INACT +CPS +InPPS +OutPPS +InBPS +OutBPS +WHY$/m);
  t.regex(text, /^TCP 123\.30\.175\.40:80 rr +7 +32 +20 +200 +180 +30K +60K$/m, 'the service: connections summed, its own rates');
  t.regex(text, /^ {2}-> 10\.0\.1\.1:80 +UP +10 +7 +30 +20 +200 +180 +30K +60K$/m);
  t.regex(text, /^ {2}-> 10\.0\.1\.2:80 +DOWN +0 +0 +2 +0 +0 +0 +0 +0 +TCP_CHECK: connect ECONNREFUSED 10\.0\.1\.2:80$/m);
  t.regex(text, /^ {2}-> \[2001:db8::9\]:80 +- +1 +0 +0 +0 +0 +0 +0 +0$/m);
  t.regex(text, /^TCP 123\.30\.175\.42:443 +- +- +- +- +- +- +- +NOT IN THE KERNEL$/m);
  t.regex(text, /^ {2}-> 10\.0\.2\.1:443 +UP +\(absent\) +- +- +- +- +- +- +-$/m);
  t.regex(text, /^BANS 1 \(autoban: set lvskit_ban, procfs, threshold 100\)$/m);
  t.regex(text, new RegExp(`^EVENTS\\n {2}${timeOfDay(T0 - 60_000)} {2}info {3}vrrp {5}VI_1: BACKUP → MASTER .*\\n {2}${timeOfDay(T0 - 1000)} {2}warn {3}checks {3}TCP 123.*DOWN`, 'm'));
  // Columns line up: the CPS column ends at the same place on every service and real-server line.
  const rows = lines.filter((l) => /^(TCP|  ->)/.test(l));
  const header = lines.find((l) => l.startsWith('SERVICE'))!;
  const end = header.indexOf('CPS') + 3;
  t.true(rows.every((l) => l[end - 1] !== ' ' && l[end] === ' '), rows.join('\n'));
});

test('on a terminal: lines cut to its width; with little height the events give way, then the end is cut', (t) => {
  const frame = topFrame(sample(T0, status({ rs1: 1, svc: 1 })));
  const all = renderTop(frame);
  t.regex(renderTop(frame).join('\n'), /rates: after 2s/);
  const narrow = renderTop(frame, { width: 40 });
  t.true(narrow.every((l) => l.length <= 40));
  t.true(narrow.some((l) => l.length === 40 && l.endsWith('…')));
  const fits = renderTop(frame, { height: all.length - 1, hint: 'q quits' });
  t.is(fits.length, all.length - 1);
  t.true(fits[0]!.endsWith('q quits'));
  t.is(fits.filter((l) => l.startsWith('  ') && /info|warn/.test(l)).length, 1, 'only the newest event fits');
  t.regex(fits.at(-1)!, /DOWN \(TCP_CHECK/);
  const short = renderTop(frame, { height: 6 });
  t.is(short.length, 6);
  t.false(short.includes('EVENTS'));
  t.regex(short.at(-1)!, /^… \d+ more line\(s\)/);
  const failing = renderTop(frame, { problem: 'no answer' });
  t.is(failing[1], 'not updated: no answer');
});

test('rates in a few characters, K = 1000 as ipvsadm', (t) => {
  t.deepEqual([undefined, 0, 0.04, 0.5, 9.94, 12.4, 999, 999.6, 1234, 56_789, 1_500_000, 2e12].map(rateText),
    ['-', '0', '0.0', '0.5', '9.9', '12', '999', '1.0K', '1.2K', '57K', '1.5M', '2.0T']);
});
