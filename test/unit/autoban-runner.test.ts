// layer: tests (unit)
// job: the autoban runner with a fake source, sink, files and clock: bans reach the sink, refusals are retried, static_blacklist follows, restarts restore.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { AutobanRunner, formatBanLine, parseBanLines, renderBlacklist, type BanSink, type BlacklistFiles, type CountSource, type Observation } from '../../src/autoban/index.js';
import { ConnTracker } from '../../src/conns/tracker.js';
import { TrackerCountSource } from '../../src/autoban/sources.js';
import { parseBlacklist } from '../../src/ipset/blacklist-file.js';
import { connsFor } from '../helpers/conns-fixtures.js';
import { SafeWriteError } from '../../src/safe-file.js';

const T0 = Date.UTC(2026, 0, 1, 12);

class FakeSource extends EventEmitter implements CountSource {
  readonly kind = 'procfs' as const;
  counts: Observation[] = [];
  async overThreshold(threshold: number): Promise<Observation[]> { return this.counts.filter((c) => c.count > threshold); }
}

class FakeSink implements BanSink {
  readonly bans: [string, number][] = [];
  refuse = new Set<string>();
  async ban(address: string, timeoutSec: number): Promise<void> {
    if (this.refuse.has(address)) throw new Error(`set refused ${address}`);
    this.bans.push([address, timeoutSec]);
  }
  close(): void {}
}

class FakeFiles implements BlacklistFiles {
  readonly files = new Map<string, string>();
  writes = 0;
  async read(file: string): Promise<string> { return this.files.get(file) ?? ''; }
  /** The next writes fail as a full disk does. */
  full = 0;
  /** The next writes fail as the default writer (src/safe-file.ts) fails on a full disk. */
  fullSafe = 0;
  async write(file: string, text: string): Promise<void> {
    if (this.fullSafe > 0) {
      this.fullSafe--;
      throw new SafeWriteError(-28, 'write', file, 'not written: ENOSPC');
    }
    if (this.full > 0) {
      this.full--;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }
    this.files.set(file, text);
    this.writes++;
  }
}

function setUp(policy: ConstructorParameters<typeof AutobanRunner>[0]['policy'] = {}) {
  let now = T0;
  const source = new FakeSource();
  const sink = new FakeSink();
  const files = new FakeFiles();
  files.files.set('/etc/itim/firewall/static_blacklist', '# operator list\n203.0.113.66\n');
  const runner = new AutobanRunner({ policy: { threshold: 100, ...policy }, source, sink, files, clock: () => now, staticBlacklist: '/etc/itim/firewall/static_blacklist' });
  const errors: Error[] = [];
  runner.on('error', (e) => errors.push(e));
  return { runner, source, sink, files, errors, advance: (ms: number) => { now += ms; } };
}

test('a round bans the clients over the threshold into the sink and appends them to static_blacklist, keeping the operator\'s lines', async (t) => {
  const { runner, source, sink, files } = setUp({ banTimeoutSec: 600 });
  source.counts = [{ address: '198.18.0.1', count: 150 }, { address: '198.18.0.2', count: 100 }];
  const round = await runner.runOnce();
  t.deepEqual(round.banned, ['198.18.0.1']);
  t.deepEqual(sink.bans, [['198.18.0.1', 600]]);
  const text = files.files.get('/etc/itim/firewall/static_blacklist') ?? '';
  t.is(text, `# operator list\n203.0.113.66\n198.18.0.1 # lvskit-autoban until=${new Date(T0 + 600_000).toISOString()} count=150\n`);
  // What the firewall's loader reads from it: both addresses.
  t.deepEqual(parseBlacklist(text).entries.map((e) => e.address), ['203.0.113.66', '198.18.0.1']);
  t.like(runner.counters, { rounds: 1, bans: 1, blacklistWrites: 1 });
});

test('when the ban ends its line leaves static_blacklist; the operator\'s lines stay', async (t) => {
  const { runner, source, files, advance } = setUp({ banTimeoutSec: 60 });
  source.counts = [{ address: '198.18.0.1', count: 150 }];
  await runner.runOnce();
  source.counts = [];
  advance(60_000);
  await runner.runOnce();
  t.is(files.files.get('/etc/itim/firewall/static_blacklist'), '# operator list\n203.0.113.66\n');
  t.is(runner.counters.expired, 1);
});

test('a ban the sink refuses is reported and tried again next round', async (t) => {
  const { runner, source, sink, errors, files } = setUp();
  source.counts = [{ address: '198.18.0.1', count: 150 }];
  sink.refuse.add('198.18.0.1');
  const first = await runner.runOnce();
  t.deepEqual(first.banned, []);
  t.is(errors[0]?.message, 'set refused 198.18.0.1');
  t.is(files.writes, 0);
  sink.refuse.clear();
  const second = await runner.runOnce();
  t.deepEqual(second.banned, ['198.18.0.1']);
  t.like(runner.counters, { bans: 1, banFailures: 1 });
});

test('static_blacklist on a full disk: the error names the file and ENOSPC, the ban stays, the file is as it was until a later round writes it', async (t) => {
  const { runner, source, sink, files, errors } = setUp({ banTimeoutSec: 600 });
  const recovered: unknown[] = [];
  runner.on('blacklist-recovered', (e) => recovered.push(e));
  files.full = 2;
  source.counts = [{ address: '198.18.0.1', count: 150 }];
  t.deepEqual((await runner.runOnce()).banned, ['198.18.0.1']);
  t.deepEqual(sink.bans, [['198.18.0.1', 600]]);
  t.is(files.files.get('/etc/itim/firewall/static_blacklist'), '# operator list\n203.0.113.66\n');
  t.like(errors[0], { code: 'ENOSPC', errno: 28, path: '/etc/itim/firewall/static_blacklist' });
  t.regex(errors[0]?.message ?? '', /^static_blacklist \/etc\/itim\/firewall\/static_blacklist not written \(ENOSPC: no space left on device, write\); it is as it was, the bans in force \(1\) stay/);
  await runner.runOnce(); // nothing new to ban: the write is tried again, and fails again
  t.is(errors.length, 2);
  t.deepEqual(recovered, []);
  await runner.runOnce();
  t.is(errors.length, 2);
  t.deepEqual(parseBanLines(files.files.get('/etc/itim/firewall/static_blacklist') ?? '').map((b) => b.address), ['198.18.0.1']);
  t.deepEqual(recovered, [{ file: '/etc/itim/firewall/static_blacklist', bans: 1, failedWrites: 2 }]);
  await runner.runOnce();
  t.is(files.writes, 1, 'written once it could be; not again while nothing changed');
});

test('dry run: the sink and the file are never touched', async (t) => {
  const { runner, source, sink, files } = setUp({ dryRun: true });
  const bans: string[] = [];
  runner.on('ban', (b) => bans.push(`${b.address} ${b.dryRun}`));
  source.counts = [{ address: '198.18.0.1', count: 150 }];
  await runner.runOnce();
  t.deepEqual(bans, ['198.18.0.1 true']);
  t.deepEqual(sink.bans, []);
  t.is(files.writes, 0);
  t.is(runner.counters.dryRunBans, 1);
});

test('a restart restores the bans of static_blacklist: still-running ones go back into the set with their time left, ended ones leave the file', async (t) => {
  const { runner, sink, files } = setUp();
  files.files.set('/etc/itim/firewall/static_blacklist', [
    '203.0.113.66',
    formatBanLine({ address: '198.18.0.1', count: 150, sinceMs: 0, untilMs: T0 + 90_500, dryRun: false }),
    formatBanLine({ address: '198.18.0.2', count: 120, sinceMs: 0, untilMs: T0 - 1, dryRun: false }),
    formatBanLine({ address: '2001:db8::9', count: 300, sinceMs: 0, untilMs: undefined, dryRun: false }),
  ].join('\n'));
  await runner.start();
  await runner.stop();
  t.deepEqual(sink.bans, [['198.18.0.1', 91], ['2001:db8::9', 0]]);
  t.deepEqual([...runner.state.bans.keys()], ['198.18.0.1', '2001:db8::9']);
  t.deepEqual(parseBanLines(files.files.get('/etc/itim/firewall/static_blacklist') ?? '').map((b) => b.address), ['198.18.0.1', '2001:db8::9']);
});

test('with the tracker, a client crossing the threshold is banned at once, without waiting for the interval', async (t) => {
  let now = T0;
  const tracker = new ConnTracker({ threshold: 3, clock: () => 0 });
  const sink = new FakeSink();
  const runner = new AutobanRunner({ policy: { threshold: 3 }, source: new TrackerCountSource(tracker), sink, clock: () => now, intervalMs: 3_600_000 });
  await runner.start();
  const banned = new Promise<string>((resolve) => runner.once('ban', (b) => resolve(b.address)));
  for (const conn of connsFor([{ address: '198.18.0.7', states: { ESTABLISHED: 4 } }])) tracker.update(conn, 0);
  now += 5;
  t.is(await banned, '198.18.0.7');
  t.deepEqual(sink.bans, [['198.18.0.7', 0]]);
  await runner.stop();
});

test('the tracker source refuses a threshold other than its own', async (t) => {
  t.throws(() => new TrackerCountSource(new ConnTracker()), { instanceOf: RangeError });
  await t.throwsAsync(new TrackerCountSource(new ConnTracker({ threshold: 5 })).overThreshold(6), { instanceOf: RangeError });
});

test('renderBlacklist: marked lines replaced in address order, dry-run bans never written, empty stays empty', (t) => {
  const ban = (address: string, dryRun = false) => ({ address, count: 1, sinceMs: 0, untilMs: undefined, dryRun });
  t.is(renderBlacklist('', []), '');
  t.is(renderBlacklist('', [ban('198.18.0.9'), ban('198.18.0.10'), ban('198.18.0.11', true)]),
    '198.18.0.10 # lvskit-autoban until=never count=1\n198.18.0.9 # lvskit-autoban until=never count=1\n');
  t.is(renderBlacklist('1.2.3.4\n198.18.0.9 # lvskit-autoban until=never count=1\n\n', []), '1.2.3.4\n');
});

test('close() and [Symbol.asyncDispose] end the rounds: a crossing after it bans nobody', async (t) => {
  const tracker = new ConnTracker({ threshold: 3, clock: () => 0 });
  const sink = new FakeSink();
  const runner = new AutobanRunner({ policy: { threshold: 3 }, source: new TrackerCountSource(tracker), sink, clock: () => T0, intervalMs: 3_600_000 });
  await runner.start();
  await runner[Symbol.asyncDispose]();
  await runner.close();
  for (const conn of connsFor([{ address: '198.18.0.8', states: { ESTABLISHED: 4 } }])) tracker.update(conn, 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(sink.bans, []);
});

test('static_blacklist on a full disk through the default writer: the line names the file once, with ENOSPC and the call', async (t) => {
  const { runner, source, files, errors } = setUp({ banTimeoutSec: 600 });
  files.fullSafe = 1;
  source.counts = [{ address: '198.18.0.1', count: 150 }];
  t.deepEqual((await runner.runOnce()).banned, ['198.18.0.1']);
  t.like(errors[0], { code: 'ENOSPC', errno: 28, path: '/etc/itim/firewall/static_blacklist' });
  t.is(errors[0]?.message, 'static_blacklist /etc/itim/firewall/static_blacklist not written (ENOSPC, write); it is as it was, the bans in force (1) stay in the set, and the write is tried again next round');
});
