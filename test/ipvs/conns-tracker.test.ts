// layer: tests (IPVS tier)
// job: the tracker fed by live sync streams agrees with the procfs scanner: a master daemon driven by real TCP traffic, and a backup filled with 20,000 entries.
import test from 'ava';
import { ConnTracker, LiveConnTable, scanConnections, SyncReceiver, type ClientCount } from '../../src/conns/index.js';
import { clientAddresses, connsFor } from '../helpers/conns-fixtures.js';
import { SyncLab, fillConnectionTable } from '../helpers/conns-lab.js';
import { MasterLab } from '../helpers/conns-master-lab.js';

// Serial: IPVS keeps one connection hash for all namespaces and /proc/net/ip_vs_conn resumes each read
// by position in it, so a table filling in another test's namespace makes rows repeat or vanish in
// `ipvsadm -lnc` and in the scanner alike (docs/conns.md).

const counts = (clients: ClientCount[]): Record<string, number> => Object.fromEntries(clients.filter((c) => c.count > 0).map((c) => [c.address, c.count]));

/** Poll `probe` until it returns true (the master flushes its sync buffer within about 2 s), at most `ms`. */
async function eventually(probe: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return probe();
}

test.serial('a master daemon\'s stream, captured on the master and received on the backup, agrees with both kernels\' tables', async (t) => {
  const lab = await MasterLab.create();
  t.teardown(() => lab.close());
  const master = await LiveConnTable.open({ interface: 'ms', netns: lab.master, roles: ['master'], syncId: lab.syncId, threshold: 10 });
  t.teardown(() => master.close());
  const backup = await LiveConnTable.open({ interface: 'bs', netns: lab.backup, roles: ['backup'], syncId: lab.syncId, threshold: 10 });
  t.teardown(() => backup.close());
  const crossings: string[] = [];
  master.tracker.on('over', (c) => crossings.push(c.address));

  const clients = await lab.connect({ '10.1.0.10': 12, '10.1.0.11': 5, '10.1.0.12': 1 });
  t.teardown(() => clients.stop());
  const expected = { '10.1.0.10': 12, '10.1.0.11': 5, '10.1.0.12': 1 };
  const agree = async (want: Record<string, number>): Promise<boolean> => {
    const [m, b] = await Promise.all([scanConnections({ netns: lab.master, all: true }), scanConnections({ netns: lab.backup, all: true })]);
    const views = [counts(m.all ?? []), counts(b.all ?? []), counts(master.tracker.all()), counts(backup.tracker.all())];
    return views.every((v) => JSON.stringify(v) === JSON.stringify(want));
  };
  t.true(await eventually(() => agree(expected)), JSON.stringify({ master: counts(master.tracker.all()), backup: counts(backup.tracker.all()) }));
  t.deepEqual(crossings, ['10.1.0.10']);
  t.deepEqual(master.tracker.overThreshold().map((c) => [c.address, c.count]), [['10.1.0.10', 12]]);

  // Closing connections moves them out of ESTABLISHED on every side (FIN_WAIT, TIME_WAIT… are synced at once).
  await clients.close('10.1.0.10', 5);
  await clients.close('10.1.0.12', 1);
  const after = { '10.1.0.10': 7, '10.1.0.11': 5 };
  t.true(await eventually(() => agree(after)), JSON.stringify({ master: counts(master.tracker.all()), backup: counts(backup.tracker.all()) }));
  t.deepEqual(backup.tracker.overThreshold(), [], 'back under the threshold of 10');
  const streams = [...master.streams.values(), ...backup.streams.values()];
  t.true(streams.every((s) => s.droppedTotal === 0 && s.counters.messages > 0), JSON.stringify(streams.map((s) => s.counters)));
});

test.serial('a backup tracker fed while 20,000 entries are synced holds the same per-client counts and totals as the kernel\'s table', async (t) => {
  const lab = await SyncLab.create({ syncId: 31 });
  t.teardown(() => lab.close());
  const receiver = await SyncReceiver.open({ interface: lab.backupDevice, netns: lab.backup, syncId: 31 });
  t.teardown(() => receiver.close());
  const tracker = new ConnTracker({ threshold: 100 });
  receiver.on('message', (m, info) => tracker.apply(m, info.receivedAtMs));
  const clients = clientAddresses(400).map((address, i) => ({ address, states: { ESTABLISHED: (i * 13) % 101 + (i % 50 === 0 ? 100 : 0), TIME_WAIT: i % 3 } }));
  const conns = connsFor(clients, { timeoutSec: 3600 });
  t.true(conns.length > 20_000, `${conns.length} entries`);
  await fillConnectionTable(lab, conns);
  await eventually(async () => receiver.counters.conns >= conns.length, 10_000);
  const scan = await scanConnections({ netns: lab.backup, all: true, threshold: 100 });
  t.is(scan.rows, conns.length);
  t.is(tracker.size, conns.length);
  const fromTable = new Map((scan.all ?? []).map((c) => [c.address, [c.count, c.total]]));
  const fromTracker = new Map(tracker.all().map((c) => [c.address, [c.count, c.total]]));
  t.deepEqual(fromTracker, fromTable);
  t.deepEqual(tracker.overThreshold().map((c) => c.address), scan.overThreshold.map((c) => c.address));
  t.deepEqual(receiver.counters.dropped, {});
});
