// layer: tests (unit)
// job: the native procfs scanner on fixture files: every row form the kernel prints, malformed lines, files that end mid-row, grow while read or are missing.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConnScanAbortedError, ConnTableUnavailableError, readConnections, scanConnections } from '../../src/conns/index.js';
import { clientAddresses, connsFor, procRow, PROC_HEADER, referenceCounts } from '../helpers/conns-fixtures.js';

const fixtures = path.resolve('test/fixtures/conns');
const kernelTable = path.join(fixtures, 'kernel-6.1.176', 'ip_vs_conn.txt');
const rowForms = path.join(fixtures, 'row-forms.txt');
const malformed = path.join(fixtures, 'malformed.txt');

function scratch(t: { teardown(fn: () => void): void }, name: string, text: string | Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-conns-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test('the real kernel table: every protocol, state, family and template row is counted', async (t) => {
  const r = await scanConnections({ file: kernelTable, all: true, states: ['ESTABLISHED', 'ASSURED', 'ERR!'] });
  t.is(r.rows, 64);
  t.is(r.headerLines, 1);
  t.is(r.malformed.total, 0);
  t.false(r.truncated);
  t.is(r.ipv6Rows, 3);
  t.is(r.peRows, 1);
  t.is(r.clients, 64);
  // As captured: 7 ESTABLISHED rows (TCP and SCTP), 4 ASSURED templates, AH and ESP print ERR!.
  t.is(r.byState['ESTABLISHED'], 7);
  t.is(r.byState['ASSURED'], 4);
  t.is(r.byState['ERR!'], 2);
  t.is(r.byState['C-ECHOED'], 2);
  const v6 = r.all?.find((c) => c.address === '2001:db8:0:1:2:3:4:5');
  t.deepEqual(v6, { address: '2001:db8:0:1:2:3:4:5', family: 6, count: 0, states: { ESTABLISHED: 0, ASSURED: 0, 'ERR!': 0 }, total: 1 });
  t.is(r.all?.filter((c) => c.states['ESTABLISHED'] === 1).length, 7);
});

test('row forms: IPv4, IPv6, the destination of the other family, PE columns, IP_n, long expiry', async (t) => {
  const r = await scanConnections({ file: rowForms, all: true });
  t.is(r.rows, 14);
  t.is(r.malformed.total, 0, JSON.stringify(r.malformed));
  t.is(r.mixedFamilyRows, 2);
  t.is(r.ipv6Rows, 3);
  t.is(r.peRows, 1);
  const by = new Map(r.all?.map((c) => [c.address, c]));
  t.deepEqual(by.get('203.0.113.7'), { address: '203.0.113.7', family: 4, count: 3, states: { ESTABLISHED: 3 }, total: 4 });
  t.deepEqual(by.get('2001:db8::7'), { address: '2001:db8::7', family: 6, count: 2, states: { ESTABLISHED: 2 }, total: 2 });
  t.is(by.get('::ffff:192.0.2.1')?.total, 1);
  t.is(by.get('203.0.113.9')?.count, 1, 'SCTP ESTABLISHED counts as ESTABLISHED');
  t.is(by.get('203.0.113.13')?.count, 1, 'an expiry wider than %7u still parses');
  t.is(by.get('255.255.255.255')?.count, 1);
  t.deepEqual(r.byState, { ESTABLISHED: 8, TIME_WAIT: 1, SYN_RECV: 1, UDP: 1, NONE: 1, ASSURED: 1, 'ERR!': 1 });
});

test('IPv4 rows after IPv6 rows are keyed by their own 4 bytes (rows interleaved as the kernel hashes them)', async (t) => {
  const conns = connsFor([{ address: '198.18.0.1', states: { ESTABLISHED: 3 } }, { address: '2001:db8::1', states: { ESTABLISHED: 3 } }]);
  const interleaved = [0, 3, 1, 4, 2, 5].map((i) => conns[i] as (typeof conns)[number]);
  const r = await scanConnections({ file: scratch(t, 'mixed', PROC_HEADER + interleaved.map((c) => procRow(c, 900)).join('')), all: true });
  t.deepEqual(r.all?.map((c) => [c.address, c.count]), [['198.18.0.1', 3], ['2001:db8::1', 3]]);
});

test('malformed lines are counted by problem with line numbers, and the good rows around them still count', async (t) => {
  const r = await scanConnections({ file: malformed, all: true });
  t.is(r.rows, 3);
  t.deepEqual(r.all?.map((c) => c.address), ['203.0.113.7', '203.0.113.8', '203.0.113.9']);
  t.deepEqual(r.malformed.byProblem, { truncated: 1, 'too-long': 1, empty: 1, protocol: 2, address: 2, 'family-mismatch': 1, port: 1, state: 2, expires: 2 });
  t.is(r.malformed.total, 13);
  t.true(r.truncated);
  t.deepEqual(r.malformed.examples.slice(0, 4).map((e) => [e.line, e.problem, e.text]), [
    [3, 'empty', ''], [4, 'protocol', 'garbage'],
    [5, 'address', 'TCP CB00710Z C738 C6336450 0050 0A00000A 1F90 ESTABLISHED     899'],
    [6, 'family-mismatch', 'TCP CB007107 C738 2001:0db8:ffff:0000:0000:0000:0000:0080 0050 0A00000A 1F90 ESTABLISHED     899'],
  ]);
  t.deepEqual(r.malformed.examples.at(-1), { line: 17, problem: 'truncated', text: 'TCP CB00710A C738 C6336450 0050 0A00000A 1F90 ESTAB' });
});

test('threshold is "more than": a client at the threshold is not reported, one above is', async (t) => {
  const clients = [{ address: '198.18.0.1', states: { ESTABLISHED: 101 } }, { address: '198.18.0.2', states: { ESTABLISHED: 100, TIME_WAIT: 50 } },
    { address: '198.18.0.3', states: { ESTABLISHED: 99 } }, { address: '2001:db8::99', states: { ESTABLISHED: 150 } }];
  const file = scratch(t, 'table', PROC_HEADER + connsFor(clients).map((c) => procRow(c, 900)).join(''));
  const r = await scanConnections({ file, threshold: 100, limit: 2 });
  t.deepEqual(r.overThreshold.map((c) => [c.address, c.count, c.total]), [['2001:db8::99', 150, 150], ['198.18.0.1', 101, 101]]);
  t.deepEqual(r.top.map((c) => c.address), ['2001:db8::99', '198.18.0.1']);
  const r2 = await scanConnections({ file, limit: 10 });
  t.deepEqual(r2.top.map((c) => [c.address, c.count, c.total]), [['2001:db8::99', 150, 150], ['198.18.0.1', 101, 101], ['198.18.0.2', 100, 150], ['198.18.0.3', 99, 99]]);
  t.deepEqual(r2.overThreshold, []);
  const r3 = await scanConnections({ file, threshold: 149 });
  t.deepEqual(r3.overThreshold.map((c) => c.address), ['2001:db8::99']);
  t.deepEqual(r3.top, []);
});

test('per virtual service: one client counted separately on each service', async (t) => {
  const a = connsFor([{ address: '198.18.0.1', states: { ESTABLISHED: 60 } }], { virtualAddress: '198.51.100.1', virtualPort: 80 });
  const b = connsFor([{ address: '198.18.0.1', states: { ESTABLISHED: 70 } }], { virtualAddress: '198.51.100.1', virtualPort: 443, firstPort: 20000 });
  const file = scratch(t, 'table', PROC_HEADER + [...a, ...b].map((c) => procRow(c, 900)).join(''));
  const whole = await scanConnections({ file, threshold: 100 });
  t.deepEqual(whole.overThreshold.map((c) => [c.address, c.count]), [['198.18.0.1', 130]]);
  const split = await scanConnections({ file, threshold: 65, perService: true, all: true });
  t.deepEqual(split.overThreshold.map((c) => [c.address, c.count, c.service]), [['198.18.0.1', 70, { protocol: 'TCP', address: '198.51.100.1', port: 443 }]]);
  t.deepEqual(split.all?.map((c) => [c.count, c.service?.port]), [[70, 443], [60, 80]]);
});

test('counts agree with a reference count (what awk|sort|uniq -c computes) on 20,000 generated rows, across 4 KiB reads', async (t) => {
  const addresses = clientAddresses(500);
  const clients = addresses.map((address, i) => ({ address, states: { ESTABLISHED: (i * 37) % 97, TIME_WAIT: i % 5, SYN_RECV: i % 3 } }));
  const conns = connsFor(clients);
  const file = scratch(t, 'table', PROC_HEADER + conns.map((c, i) => procRow(c, i % 900)).join(''));
  const r = await scanConnections({ file, all: true, chunkBytes: 4096 });
  const reference = referenceCounts(conns.map((c) => ({ clientAddress: c.clientAddress, state: c.state === 1 ? 'ESTABLISHED' : 'x' })));
  t.is(r.rows, conns.length);
  t.is(r.clients, reference.size);
  for (const c of r.all ?? []) t.deepEqual({ count: c.count, total: c.total }, reference.get(c.address), c.address);
  t.true(r.reads > conns.length * 60 / 4096, `${r.reads} reads of 4 KiB`);
});

test('a table file is counted in tables sized from its size: a small file in small ones, and one with more clients than its size suggests in tables that grow, every count right', async (t) => {
  const small = scratch(t, 'small', PROC_HEADER + connsFor([{ address: '100.64.0.1', states: { ESTABLISHED: 2 } }]).map((c) => procRow(c, 60)).join(''));
  for (const perService of [false, true]) {
    const r = await scanConnections({ file: small, perService, all: true });
    t.is(r.all?.[0]?.count, 2);
    // Heap-sized tables: the IPv4 and general tables of 64 slots, not two 2 MiB mappings.
    t.true(r.memoryBytes < 64 << 10, `${r.memoryBytes} bytes of tables for one client (perService ${perService})`);
  }
  // One row per client: about 8 times the clients the file's size suggests, IPv4 and IPv6.
  const v4 = clientAddresses(6000).map((address, i) => ({ address, states: { [i % 3 === 0 ? 'TIME_WAIT' : 'ESTABLISHED']: 1 } }));
  const v6 = Array.from({ length: 3000 }, (_, i) => ({ address: `2001:db8::${(i + 1).toString(16)}`, states: { [i % 4 === 0 ? 'SYN_RECV' : 'ESTABLISHED']: 1 } }));
  const conns = connsFor([...v4, ...v6]);
  const file = scratch(t, 'many', PROC_HEADER + conns.map((c) => procRow(c, 60)).join(''));
  const r = await scanConnections({ file, all: true });
  const reference = referenceCounts(conns.map((c) => ({ clientAddress: c.clientAddress, state: c.state === 1 ? 'ESTABLISHED' : 'x' })));
  t.is(r.rows, conns.length);
  t.is(r.clients, 9000);
  t.is(r.all?.length, 9000);
  for (const c of r.all ?? []) t.deepEqual({ count: c.count, total: c.total }, reference.get(c.address), c.address);
});

test('a file of 16 MiB or more is read by two threads taking pieces of it in turn: the same counts, problems and line numbers as one pass', async (t) => {
  const clients = clientAddresses(3000).map((address, i) => ({ address, states: { ESTABLISHED: 60 + (i % 90), TIME_WAIT: i % 7 } }));
  const rows = connsFor([...clients, { address: '2001:db8::77', states: { ESTABLISHED: 2000 } }]).map((c, i) => procRow(c, i % 900));
  // A malformed line in each of about a dozen places, so in most of the (2 MiB) pieces.
  const every = Math.floor(rows.length / 12);
  for (let at = rows.length - 1000; at > 0; at -= every) rows.splice(at, 0, `garbage at ${at}\n`);
  rows.splice(10, 0, 'garbage near the start\n');
  const lines = [PROC_HEADER, ...rows];
  const garbage = lines.flatMap((l, i) => (l.startsWith('garbage') ? [[i + 1, l.trimEnd()]] : []));
  t.true(garbage.length >= 12 && garbage.length <= 16);
  const file = scratch(t, 'big', lines.join(''));
  t.true(fs.statSync(file).size >= 16 << 20, `${fs.statSync(file).size} bytes`);
  const one = await scanConnections({ file, all: true, threads: 1 });
  const progress = new BigUint64Array(1);
  const seen: number[] = [];
  const watch = setInterval(() => seen.push(Number(progress[0])), 1);
  const two = await scanConnections({ file, all: true, threads: 2, threshold: 140, progress });
  clearInterval(watch);
  t.is(Number(progress[0]), fs.statSync(file).size, 'both threads added every byte they read to the progress');
  t.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress only grows');
  t.is(two.rows, one.rows);
  t.deepEqual(two.all, one.all);
  t.deepEqual(two.byState, one.byState);
  t.deepEqual(two.malformed, one.malformed);
  t.deepEqual(two.malformed.examples.map((e) => [e.line, e.text]), garbage);
  t.is(two.overThreshold.length, clients.filter((c) => c.states.ESTABLISHED > 140).length + 1);
  t.is(two.headerLines, 1);
  t.is(two.bytesRead, fs.statSync(file).size);
  t.true(two.reads > one.reads / 2);
});

test('progress: every byte read is counted by the end; a progress that is not a BigUint64Array is refused', async (t) => {
  const conns = connsFor([{ address: '198.18.0.7', states: { ESTABLISHED: 300 } }, { address: '198.18.0.8', states: { TIME_WAIT: 50 } }]);
  const file = scratch(t, 'progress', PROC_HEADER + conns.map((c) => procRow(c, 900)).join(''));
  for (const threads of [1, 2] as const) {
    const progress = new BigUint64Array(1);
    const result = await scanConnections({ file, threshold: 100, threads, progress, chunkBytes: 4096 });
    t.is(Number(progress[0]), result.bytesRead);
    t.is(result.bytesRead, fs.statSync(file).size);
  }
  await t.throwsAsync(scanConnections({ file, progress: new Float64Array(1) as unknown as BigUint64Array }), { message: /options\.progress must be a BigUint64Array/ });
});

test('an empty table (header only) and an empty file are zero rows, not errors', async (t) => {
  const header = await scanConnections({ file: scratch(t, 'header', PROC_HEADER), limit: 5, threshold: 0 });
  t.like(header, { rows: 0, clients: 0, headerLines: 1, top: [], overThreshold: [], truncated: false });
  const empty = await scanConnections({ file: scratch(t, 'empty', '') });
  t.like(empty, { rows: 0, headerLines: 0, bytesRead: 0 });
  t.is(empty.malformed.total, 0);
});

test('a missing table file is ConnTableUnavailableError (ENOENT), naming the file and not blaming IPVS', async (t) => {
  const error = await t.throwsAsync(scanConnections({ file: '/nonexistent/ip_vs_conn' }), { instanceOf: ConnTableUnavailableError });
  t.is(error?.code, 'ENOENT');
  t.is(error?.errno, 2);
  t.regex(error?.message ?? '', /\/nonexistent\/ip_vs_conn: no such file/);
  t.notRegex(error?.message ?? '', /ip_vs module/);
  const dir = await t.throwsAsync(scanConnections({ file: os.tmpdir() }));
  t.is((dir as { code?: string } | undefined)?.code, 'EISDIR');
});

test('a file that grows while it is read (a FIFO written in pieces) is read to its end', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-fifo-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const conns = connsFor([{ address: '198.18.0.7', states: { ESTABLISHED: 300 } }]);
  const text = PROC_HEADER + conns.map((c) => procRow(c, 900)).join('');
  const scanning = scanConnections({ file: fifo, threshold: 100 });
  const writer = await fs.promises.open(fifo, 'w');
  // Pieces that end mid-row: the scanner must join them.
  for (let i = 0; i < text.length; i += 997) {
    await writer.write(text.slice(i, i + 997));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await writer.close();
  const r = await scanning;
  t.is(r.rows, 300);
  t.deepEqual(r.overThreshold.map((c) => [c.address, c.count]), [['198.18.0.7', 300]]);
  t.false(r.truncated);
});

test('a file cut inside a row (it shrank while read) reports the partial row and truncated', async (t) => {
  const text = PROC_HEADER + connsFor([{ address: '198.18.0.8', states: { ESTABLISHED: 3 } }]).map((c) => procRow(c, 900)).join('');
  const r = await scanConnections({ file: scratch(t, 'cut', text.slice(0, text.length - 20)) });
  t.is(r.rows, 2);
  t.true(r.truncated);
  t.deepEqual(r.malformed.byProblem, { truncated: 1 });
});

test('an aborted scan rejects with AbortError', async (t) => {
  const controller = new AbortController();
  controller.abort();
  await t.throwsAsync(scanConnections({ file: kernelTable, signal: controller.signal }), { instanceOf: ConnScanAbortedError, name: 'AbortError' });
});

test('random and mutated input never crashes: every line is a row, a header or a malformed line', async (t) => {
  const base = fs.readFileSync(rowForms);
  let seed = 12345;
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let round = 0; round < 200; round++) {
    const bytes = Buffer.from(base);
    for (let m = 0; m < 1 + random(20); m++) bytes[random(bytes.length)] = random(4) === 0 ? 0x0a : random(256);
    const cut = bytes.subarray(0, random(bytes.length + 1));
    const r = await scanConnections({ file: scratch(t, `m${round}`, cut), all: true, chunkBytes: 4096 });
    const lines = cut.length === 0 ? 0 : cut.toString('latin1').split('\n').length - (cut[cut.length - 1] === 0x0a ? 1 : 0);
    t.is(r.rows + r.headerLines + r.malformed.total, lines, `round ${round}`);
    t.is(r.all?.reduce((n, c) => n + c.total, 0), r.rows);
  }
  const noise = Buffer.alloc(1 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = random(256);
  const r = await scanConnections({ file: scratch(t, 'noise', noise) });
  t.is(r.rows, 0);
  t.true(r.malformed.total > 0);
});

test('every column of an IPv6 row (addresses as %pI6, ports as %04X): each byte value in each position is a digit of either case (or the colon) or makes the row malformed', async (t) => {
  const v6 = (last: string): string => `2001:0db8:0000:0000:0000:0000:0000:${last}`;
  const row = `TCP ${v6('0001')} C738 ${v6('0050')} 0050 ${v6('000a')} 1F90 ESTABLISHED     899`;
  const mixed = `UDP ${v6('0002')} C738 ${v6('0050')} 0035 0A00000A 0035 UDP             120`;
  const hex = new Set('0123456789abcdefABCDEF'.split('').map((c) => c.charCodeAt(0)));
  const lines: string[] = [PROC_HEADER.trimEnd()];
  const expectGood: boolean[] = [];
  const mutate = (text: string, at: number, good: (byte: number) => boolean): void => {
    for (let byte = 1; byte < 256; byte++) {
      if (byte === 10 || byte === 13) continue;
      const mutated = Buffer.from(text, 'latin1');
      mutated[at] = byte;
      lines.push(mutated.toString('latin1'));
      expectGood.push(good(byte));
    }
  };
  for (const [text, columns] of [[row, [[4, 39], [44, 4], [49, 39], [89, 4], [94, 39], [134, 4]]], [mixed, [[4, 39], [94, 8], [103, 4]]]] as const) {
    for (const [at, width] of columns) {
      for (let i = 0; i < width; i++) {
        const colon = width === 39 && i % 5 === 4;
        mutate(text, at + i, colon ? (b) => b === 0x3a : (b) => hex.has(b));
      }
    }
  }
  const r = await scanConnections({ file: scratch(t, 'hex6.txt', Buffer.from(`${lines.join('\n')}\n`, 'latin1')), all: true });
  t.is(r.rows, expectGood.filter(Boolean).length);
  t.is(r.malformed.total, expectGood.filter((g) => !g).length);
  t.is(r.mixedFamilyRows, expectGood.slice(-(39 + 8 + 4) * 253).filter(Boolean).length);
  // Upper-case digits in an address mean the same as the kernel's lower case: one client.
  const upper = await scanConnections({ file: scratch(t, 'upper6.txt', `${PROC_HEADER}${row}\n${row.replace('0db8', '0DB8')}\n`), all: true });
  t.deepEqual(upper.all?.map((c) => [c.address, c.count]), [['2001:db8::1', 2]]);
});

test('a newline anywhere inside a row of the common length splits it: two malformed lines, never one row (the scanner takes such rows without searching for the newline)', async (t) => {
  const row = 'TCP CB007107 C738 C6336450 0050 0A00000A 1F90 ESTABLISHED     899';
  t.is(row.length, 65);
  // Up to the expiry's last two digits: there the line before the newline is a row with a shorter expiry.
  const at = row.length - 2;
  const lines: string[] = [];
  for (let i = 0; i < at; i++) lines.push(`${row.slice(0, i)}\n${row.slice(i + 1)}`);
  const r = await scanConnections({ file: scratch(t, 'newlines.txt', `${PROC_HEADER}${lines.join('\n')}\n${row}\n`), all: true });
  t.is(r.rows, 1);
  t.is(r.malformed.total, 2 * at);
  t.deepEqual(r.byState, { ESTABLISHED: 1 });
});

test('a state column holding two words is malformed, as the tokenizer reads it, not a state cut at the space', async (t) => {
  const good = 'TCP CB007107 C738 C6336450 0050 0A00000A 1F90 ESTABLISHED     899';
  const twoWords = 'TCP CB007107 C739 C6336450 0050 0A00000A 1F90 AB CD           899';
  const r = await scanConnections({ file: scratch(t, 'words.txt', `${PROC_HEADER}${good}\n${twoWords}\n${good}\n`), all: true });
  t.is(r.rows, 2);
  t.deepEqual(r.malformed.byProblem, { expires: 1 });
  t.deepEqual(r.byState, { ESTABLISHED: 2 });
});

test('the scanner counts exactly the rows the row iterator reads, per client and state, on mutated input (the IPv4 lane and the general parser agree)', async (t) => {
  const addresses = clientAddresses(300);
  const generated = connsFor(addresses.map((address, i) => ({ address, states: { ESTABLISHED: i % 4, TIME_WAIT: i % 2 } })));
  const base = Buffer.concat([fs.readFileSync(rowForms), Buffer.from(generated.map((c, i) => procRow(c, i % 900)).join(''))]);
  let seed = 777;
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let round = 0; round < 60; round++) {
    const bytes = Buffer.from(base);
    for (let m = 0; m < 1 + random(12); m++) bytes[random(bytes.length)] = random(3) === 0 ? 0x20 : random(256);
    const file = scratch(t, `d${round}`, bytes);
    const expected = new Map<string, { total: number; established: number }>();
    for await (const row of readConnections({ file })) {
      const c = expected.get(row.clientAddress) ?? { total: 0, established: 0 };
      c.total++;
      if (row.state === 'ESTABLISHED') c.established++;
      expected.set(row.clientAddress, c);
    }
    const r = await scanConnections({ file, all: true, chunkBytes: 4096 });
    const got = new Map((r.all ?? []).map((c) => [c.address, { total: c.total, established: c.count }]));
    t.deepEqual([...got].sort(), [...expected].sort(), `round ${round}`);
  }
});

test('every hex column of an IPv4 row: each byte value in each position is a digit of either case or makes the row malformed', async (t) => {
  const row = 'TCP CB007107 C738 C6336450 0050 0A00000A 1F90 ESTABLISHED     899';
  const columns = [[4, 8], [13, 4], [18, 8], [27, 4], [32, 8], [41, 4]] as const;
  const hex = new Set('0123456789abcdefABCDEF'.split('').map((c) => c.charCodeAt(0)));
  const lines: string[] = [PROC_HEADER.trimEnd()];
  const expectGood: boolean[] = [];
  for (const [at, width] of columns) {
    for (let i = 0; i < width; i++) {
      for (let byte = 1; byte < 256; byte++) {
        if (byte === 10 || byte === 13) continue;  // a newline would split the row
        const mutated = Buffer.from(row, 'latin1');
        mutated[at + i] = byte;
        lines.push(mutated.toString('latin1'));
        expectGood.push(hex.has(byte));
      }
    }
  }
  const r = await scanConnections({ file: scratch(t, 'hex.txt', Buffer.from(`${lines.join('\n')}\n`, 'latin1')), all: true });
  t.is(r.rows, expectGood.filter(Boolean).length);
  t.is(r.malformed.total, expectGood.filter((g) => !g).length);
  // Lower-case digits mean the same as upper-case ones: the client CB007107 with a lower-case digit is the same client.
  const lower = await scanConnections({ file: scratch(t, 'lower.txt', `${PROC_HEADER}${row}\n${row.replace('CB007107', 'cb007107')}\n`), all: true });
  t.deepEqual(lower.all?.map((c) => [c.address, c.count]), [['203.0.113.7', 2]]);
});

test('every byte of a common IPv4 row: each value in each position counts for the client and state the row iterator reads, or is malformed as it finds (the whole-row lane parser agrees)', async (t) => {
  const rows = [
    'TCP CB007107 C738 C6336450 0050 0A00000A 1F90 ESTABLISHED     899',
    'UDP 0A000001 0035 0A000002 0035 0A000003 0035 UDP               7',
    'TCP 0A000009 9000 0A000002 01BB 0A000003 01BB TIME_WAIT   1234567',
  ];
  const lines: string[] = [PROC_HEADER.trimEnd()];
  for (const row of rows) {
    t.is(row.length, 65);
    for (let at = 0; at < row.length; at++) {
      for (let byte = 0; byte < 256; byte++) {
        if (byte === 10) continue;  // a newline splits the row: the test above
        const mutated = Buffer.from(row, 'latin1');
        mutated[at] = byte;
        lines.push(mutated.toString('latin1'));
      }
    }
  }
  // Mutated state columns make more state names than a table holds (250): past that, both read
  // such rows as malformed, in the same order.
  const file = scratch(t, 'every-byte.txt', Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
  const perClient = new Map<string, number>();
  const perState = new Map<string, number>();
  for await (const row of readConnections({ file })) {
    perClient.set(row.clientAddress, (perClient.get(row.clientAddress) ?? 0) + 1);
    perState.set(row.state, (perState.get(row.state) ?? 0) + 1);
  }
  const r = await scanConnections({ file, all: true });
  t.is(r.rows + r.malformed.total + r.headerLines, lines.length);
  const sorted = (entries: Iterable<[string, number]>): [string, number][] => [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  t.deepEqual(sorted((r.all ?? []).map((c) => [c.address, c.total])), sorted(perClient));
  t.deepEqual(sorted(Object.entries(r.byState)), sorted(perState));
  t.true(perClient.size > 3 && perState.size > 3);
});
