// layer: tests (IPVS tier)
// job: the autoban on a real table: a client crossing the threshold is banned in the ipset, a whitelisted one is not, bans expire (ipset is the oracle).
import test from 'ava';
import { AutobanRunner } from '../../src/autoban/runner.js';
import { IpsetBanSink } from '../../src/autoban/sink.js';
import { ProcfsCountSource, TrackerCountSource } from '../../src/autoban/sources.js';
import { LiveConnTable, encodeSyncMessages } from '../../src/conns/index.js';
import { connsFor } from '../helpers/conns-fixtures.js';
import { SyncLab, fillConnectionTable } from '../helpers/conns-lab.js';

// Serial: IPVS keeps one connection hash for all namespaces and /proc/net/ip_vs_conn resumes each read
// by position in it, so a table filling in another test's namespace makes rows repeat or vanish in
// `ipvsadm -lnc` and in the scanner alike (docs/conns.md).

async function members(lab: SyncLab, set: string): Promise<string[]> {
  const text = await lab.exec(lab.backup, ['ipset', 'list', set]);
  return text.split('\n').slice(text.split('\n').indexOf('Members:') + 1).filter(Boolean).map((l) => l.split(' ')[0] as string).sort();
}

const table = [
  { address: '198.18.0.1', states: { ESTABLISHED: 101 } }, // banned (crosses with its 101st)
  { address: '198.18.1.1', states: { ESTABLISHED: 200 } }, // whitelisted (198.18.1.0/24)
  { address: '198.18.0.2', states: { ESTABLISHED: 100, TIME_WAIT: 30 } }, // at the threshold
];

test.serial('sync source: the crossing client is banned in the ipset as its sync message arrives; the whitelisted one is not; the ban expires', async (t) => {
  const lab = await SyncLab.create({ syncId: 41 });
  t.teardown(() => lab.close());
  await lab.exec(lab.backup, ['ipset', 'create', 'autoban', 'hash:ip', 'timeout', '0']);
  const live = await LiveConnTable.open({ interface: lab.backupDevice, netns: lab.backup, roles: ['backup'], syncId: 41, threshold: 100 });
  t.teardown(() => live.close());
  const sink = await IpsetBanSink.open('autoban', { netns: lab.backup, banTimeoutSec: 3 });
  t.teardown(() => sink.close());
  const runner = new AutobanRunner({ policy: { threshold: 100, whitelist: ['198.18.1.0/24'], banTimeoutSec: 3 }, source: new TrackerCountSource(live.tracker), sink, intervalMs: 500 });
  const decisions: string[] = [];
  runner.on('decision', (e) => decisions.push(`${e.type} ${e.address}`));
  let applied = 0; // bans the kernel has accepted
  runner.on('ban', (e) => { if (!e.dryRun) applied++; });
  runner.on('error', (e) => t.fail(e.message));
  await runner.start();
  t.teardown(() => runner.stop());

  // Everything but the 101st connection of 198.18.0.1 first: nobody is over the threshold yet.
  const conns = connsFor(table, { timeoutSec: 3600 });
  const last = conns.findIndex((c) => c.clientAddress === '198.18.0.1' && c.clientPort === 1024 + 100);
  await fillConnectionTable(lab, conns.filter((_, i) => i !== last));
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.deepEqual(await members(lab, 'autoban'), []);
  t.deepEqual(decisions, ['whitelisted 198.18.1.1']);

  const banned = new Promise<number>((resolve) => runner.once('ban', (b) => resolve(b.atMs)));
  const sentAt = Date.now();
  await lab.send(encodeSyncMessages([conns[last] as (typeof conns)[number]], { syncId: 41 }));
  const latencyMs = (await banned) - sentAt;
  t.log(`sync message → ipset entry: ${latencyMs} ms`);
  t.deepEqual(await members(lab, 'autoban'), ['198.18.0.1']);
  t.deepEqual(decisions, ['whitelisted 198.18.1.1', 'ban 198.18.0.1']);

  // The client's connections start to close (synced as TIME_WAIT): it falls back to 100. The kernel
  // removes the entry after its 3 s timeout, and the runner, seeing the ban end, does not renew it.
  await lab.send(encodeSyncMessages([{ ...(conns[last] as (typeof conns)[number]), state: 5, timeoutSec: 120 }], { syncId: 41 }));
  await new Promise((resolve) => setTimeout(resolve, 3500));
  t.deepEqual(await members(lab, 'autoban'), []);
  await runner.runOnce();
  t.deepEqual(decisions, ['whitelisted 198.18.1.1', 'ban 198.18.0.1', 'expired 198.18.0.1']);
});

test.serial('a client still over the threshold when its ban ends is banned again at once', async (t) => {
  const lab = await SyncLab.create({ syncId: 43 });
  t.teardown(() => lab.close());
  await lab.exec(lab.backup, ['ipset', 'create', 'autoban', 'hash:ip', 'timeout', '0']);
  const live = await LiveConnTable.open({ interface: lab.backupDevice, netns: lab.backup, roles: ['backup'], syncId: 43, threshold: 100 });
  t.teardown(() => live.close());
  const sink = await IpsetBanSink.open('autoban', { netns: lab.backup, banTimeoutSec: 2 });
  t.teardown(() => sink.close());
  const runner = new AutobanRunner({ policy: { threshold: 100, banTimeoutSec: 2 }, source: new TrackerCountSource(live.tracker), sink, intervalMs: 500 });
  const decisions: string[] = [];
  runner.on('decision', (e) => decisions.push(`${e.type} ${e.address}`));
  let applied = 0; // bans the kernel has accepted
  runner.on('ban', (e) => { if (!e.dryRun) applied++; });
  await runner.start();
  t.teardown(() => runner.stop());
  await fillConnectionTable(lab, connsFor([{ address: '198.18.0.5', states: { ESTABLISHED: 120 } }], { timeoutSec: 3600 }));
  // Until the renewed ban is in the kernel (a fixed wait could land on its own expiry, 2 s later).
  const deadline = Date.now() + 10_000;
  while (applied < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(decisions.slice(0, 3), ['ban 198.18.0.5', 'expired 198.18.0.5', 'ban 198.18.0.5']);
  t.deepEqual(await members(lab, 'autoban'), ['198.18.0.5']);
});

test.serial('procfs source: the same decisions from a scan of the backup\'s table', async (t) => {
  const lab = await SyncLab.create({ syncId: 42 });
  t.teardown(() => lab.close());
  await lab.exec(lab.backup, ['ipset', 'create', 'autoban', 'hash:ip', 'timeout', '0']);
  await fillConnectionTable(lab, connsFor(table, { timeoutSec: 3600 }));
  const sink = await IpsetBanSink.open('autoban', { netns: lab.backup, banTimeoutSec: 60 });
  t.teardown(() => sink.close());
  const source = new ProcfsCountSource({ netns: lab.backup });
  const runner = new AutobanRunner({ policy: { threshold: 100, whitelist: ['198.18.1.0/24'], banTimeoutSec: 60 }, source, sink });
  const round = await runner.runOnce();
  t.deepEqual(round.banned, ['198.18.0.1']);
  t.deepEqual(round.observations.map((o) => o.address).sort(), ['198.18.0.1', '198.18.1.1']);
  t.deepEqual(await members(lab, 'autoban'), ['198.18.0.1']);
  t.is(source.lastScan?.rows, 431);
  t.like(runner.counters, { bans: 1, whitelisted: 1 });
});
