// layer: tests (unit)
// job: the native row iterator: every field of the kernel's rows decoded, against the connections that made them; batches; the printer helper.
import test from 'ava';
import path from 'node:path';
import { ConnTableUnavailableError, IP_VS_CONN_F_TEMPLATE, defaultTimeoutSec, readConnections, stateName, type ConnTableRow } from '../../src/conns/index.js';
import { parseIpvsadmList, procRow, PROC_HEADER } from '../helpers/conns-fixtures.js';
import { CAPTURE_DIR, loadKernelCapture } from '../helpers/conns-kernel-capture.js';

const capture = loadKernelCapture();
const kernelTable = path.join(CAPTURE_DIR, 'ip_vs_conn.txt');

async function allRows(file: string, batchRows?: number): Promise<ConnTableRow[]> {
  const rows: ConnTableRow[] = [];
  for await (const row of readConnections({ file, ...(batchRows === undefined ? {} : { batchRows }) })) rows.push(row);
  return rows;
}

test('each kernel row decodes to the connection that was synced, with the state name and the timeout the kernel applied', async (t) => {
  const rows = await allRows(kernelTable, 7);
  t.is(rows.length, 64);
  const sent = [...capture.v1, ...capture.v0, capture.optionalUnknown];
  for (const row of rows) {
    const conn = sent.find((c) => c.clientAddress === row.clientAddress);
    if (!conn) return t.fail(`row for ${row.clientAddress} matches no connection sent`);
    const template = (conn.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
    t.like(row, {
      protocolNumber: conn.protocol, family: conn.family === 'inet' ? 4 : 6, clientPort: conn.clientPort,
      virtualAddress: conn.virtualAddress, virtualPort: conn.virtualPort, destAddress: conn.destAddress, destPort: conn.destPort,
      state: stateName(conn.protocol, conn.state, template),
    }, row.clientAddress);
    // The kernel printed the seconds left a moment after applying the timeout (v0: its default for the state).
    const timeout = conn.timeoutSec || defaultTimeoutSec(conn.protocol, conn.state, template);
    t.true(row.expiresSec <= timeout && row.expiresSec >= timeout - 3, `${row.clientAddress} ${row.state}: expires ${row.expiresSec}, timeout ${timeout}`);
  }
  const sip = rows.find((r) => r.peName !== undefined);
  t.deepEqual([sip?.peName, sip?.peData, sip?.protocol, sip?.state], ['sip', 'a84b4c76e66710@pc33.example.com', 'UDP', 'NONE']);
  t.deepEqual(rows.filter((r) => r.protocol.startsWith('IP')).map((r) => [r.protocol, r.state]).sort(), [['IP', 'ASSURED'], ['IP_50', 'ERR!'], ['IP_51', 'ERR!']]);
});

test('the rows agree with ipvsadm -lnc of the same table', async (t) => {
  const rows = await allRows(kernelTable);
  const listed = parseIpvsadmList(capture.ipvsadm);
  t.is(listed.length, rows.length);
  const key = (protocol: string, client: string, state: string): string => `${protocol} ${client} ${state}`;
  t.deepEqual(rows.map((r) => key(r.protocol, r.clientAddress, r.state)).sort(), listed.map((l) => key(l.protocol, l.clientAddress, l.state)).sort());
});

test('the test printer prints rows exactly as the kernel did (so generated tables are faithful)', (t) => {
  const lines = capture.table.split('\n');
  t.is(`${lines[0]}\n`, PROC_HEADER);
  const sent = [...capture.v1, ...capture.v0, capture.optionalUnknown];
  let checked = 0;
  for (const line of lines.slice(1).filter(Boolean)) {
    const tokens = line.split(/\s+/);
    const conn = sent.find((c) => procRow(c, 0).split(/\s+/)[1] === tokens[1]);
    if (!conn) return t.fail(`no connection for ${line}`);
    t.is(procRow(conn, Number(tokens[8])), `${line}\n`, conn.clientAddress);
    checked++;
  }
  t.is(checked, 64);
});

test('batches: a reader hands out batchRows at a time and ends; malformed lines are tallied', async (t) => {
  const reader = readConnections({ file: path.resolve('test/fixtures/conns/malformed.txt'), batchRows: 2 });
  const sizes: number[] = [];
  for (let batch = await reader.nextBatch(); batch.length > 0; batch = await reader.nextBatch()) sizes.push(batch.length);
  t.deepEqual(sizes, [2, 1]);
  t.is(reader.malformed.total, 13);
  t.is(reader.headerLines, 1);
  t.deepEqual(await reader.nextBatch(), []);
});

test('a missing table rejects the first batch with ConnTableUnavailableError', async (t) => {
  await t.throwsAsync(allRows('/nonexistent/ip_vs_conn'), { instanceOf: ConnTableUnavailableError });
});

test('breaking out of the loop closes the reader', async (t) => {
  const reader = readConnections({ file: kernelTable, batchRows: 4 });
  let n = 0;
  for await (const row of reader) {
    t.truthy(row.clientAddress);
    if (++n === 5) break;
  }
  t.deepEqual(await reader.nextBatch(), []);
});
