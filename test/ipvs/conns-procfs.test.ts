// layer: tests (IPVS tier)
// job: the procfs scanner and row iterator on a real kernel table filled through a backup sync daemon; ipvsadm -lnc is the reference.
import test from 'ava';
import { readConnections, scanConnections } from '../../src/conns/index.js';
import { clientAddresses, connsFor, parseIpvsadmList, referenceCounts, type ClientSpec } from '../helpers/conns-fixtures.js';
import { SyncLab, fillConnectionTable } from '../helpers/conns-lab.js';

// Serial: IPVS keeps one connection hash for all namespaces and /proc/net/ip_vs_conn resumes each read
// by position in it, so a table filling in another test's namespace makes rows repeat or vanish in
// `ipvsadm -lnc` and in the scanner alike (docs/conns.md).

/** 60 IPv4 clients with 0…177 ESTABLISHED and a few other states, 3 IPv6 clients. */
function mixedClients(): ClientSpec[] {
  const v4 = clientAddresses(60).map((address, i) => ({ address, states: { ESTABLISHED: (i * 37) % 178, TIME_WAIT: i % 4, SYN_RECV: i % 3, FIN_WAIT: i % 2 } }));
  const v6 = ['2001:db8::a', '2001:db8::b', '2001:db8:0:1::c'].map((address, i) => ({ address, states: { ESTABLISHED: 50 * (i + 1), CLOSE_WAIT: 2 } }));
  return [...v4, ...v6];
}

test.serial('per-client counts of the scanner equal a reference count of ipvsadm -lnc on a real table', async (t) => {
  const lab = await SyncLab.create({ syncId: 21 });
  t.teardown(() => lab.close());
  const conns = connsFor(mixedClients(), { timeoutSec: 3600 });
  const fill = await fillConnectionTable(lab, conns);
  t.log(`${conns.length} connections in ${fill.datagrams} datagrams, ${fill.ms} ms`);
  const scan = await scanConnections({ netns: lab.backup, all: true, threshold: 100 });
  const listed = parseIpvsadmList(await lab.exec(lab.backup, ['ipvsadm', '-lnc']));
  t.is(listed.length, conns.length, 'ipvsadm lists every connection sent');
  t.is(scan.rows, conns.length);
  t.is(scan.malformed.total, 0);
  t.is(scan.ipv6Rows, 3 * 2 + 50 + 100 + 150);
  const reference = referenceCounts(listed);
  t.is(scan.clients, reference.size);
  for (const c of scan.all ?? []) t.deepEqual({ count: c.count, total: c.total }, reference.get(c.address), c.address);
  const over = [...reference].filter(([, c]) => c.count > 100).map(([a]) => a).sort();
  t.deepEqual(scan.overThreshold.map((c) => c.address).sort(), over);
  const states = new Map<string, number>();
  for (const l of listed) states.set(l.state, (states.get(l.state) ?? 0) + 1);
  t.deepEqual(scan.byState, Object.fromEntries(states));
});

test.serial('the row iterator reads the same rows as ipvsadm -lnc, every field', async (t) => {
  const lab = await SyncLab.create({ syncId: 22 });
  t.teardown(() => lab.close());
  const conns = connsFor([{ address: '198.18.0.1', states: { ESTABLISHED: 30, TIME_WAIT: 5 } }, { address: '2001:db8::1', states: { SYN_RECV: 4 } }], { timeoutSec: 3600 });
  await fillConnectionTable(lab, conns);
  const rows = [];
  for await (const row of readConnections({ netns: lab.backup, batchRows: 8 })) rows.push(row);
  const hostPort = (family: number, a: string, p: number): string => (family === 6 ? `[${a}]:${p}` : `${a}:${p}`);
  t.is(rows.length, conns.length);
  const text = await lab.exec(lab.backup, ['ipvsadm', '-lnc']);
  t.is(parseIpvsadmList(text).length, rows.length);
  for (const r of rows) {
    const line = [r.protocol, r.state, hostPort(r.family, r.clientAddress, r.clientPort), hostPort(r.family, r.virtualAddress, r.virtualPort), hostPort(r.destFamily, r.destAddress, r.destPort)];
    const [protocol, state, source, virtual, dest] = line.map(escape);
    t.regex(text, new RegExp(`^${protocol} +\\S+ +${state} +${source} +${virtual} +${dest}$`, 'm'), line.join(' '));
  }
  t.true(rows.every((r) => r.expiresSec > 3500 && r.expiresSec <= 3600));
});

function escape(text: string | undefined): string {
  return (text ?? '').replace(/[[\]().*+?^$|\\]/g, '\\$&');
}

test.serial('each namespace has its own table: the sender\'s is empty while the backup\'s is full', async (t) => {
  const lab = await SyncLab.create({ syncId: 23 });
  t.teardown(() => lab.close());
  await fillConnectionTable(lab, connsFor([{ address: '198.18.0.9', states: { ESTABLISHED: 20 } }]));
  const backup = await scanConnections({ netns: lab.backup, limit: 1 });
  const sender = await scanConnections({ netns: lab.sender, limit: 1 });
  t.deepEqual(backup.top.map((c) => [c.address, c.count]), [['198.18.0.9', 20]]);
  t.like(sender, { rows: 0, headerLines: 1, top: [] });
});
