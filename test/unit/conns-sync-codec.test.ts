// layer: tests (unit)
// job: the IPVS sync codec: golden datagrams the real kernel accepted, what it skipped, round trips, and thousands of mutated datagrams.
import test from 'ava';
import {
  IP_VS_CONN_F_HASHED, SyncDecodeError, decodeSyncMessage, encodeConnV1, encodeSyncMessages, type SyncConn, type SyncMessage,
} from '../../src/conns/index.js';
import { readConnections } from '../../src/conns/rows.js';
import { CAPTURE_DIR, loadKernelCapture } from '../helpers/conns-kernel-capture.js';

const capture = loadKernelCapture();

/**
 * Written by hand from ip_vs_sync.c's layout (independently of the encoder) and accepted by a 6.1
 * backup (its table then held all eight). One connection per line.
 */
const HANDMADE_V1 = Buffer.from([
  '0005017a08010000', // reserved 0, sync id 5, size 378, 8 connections, version 1, spare 0
  '000600240000000000019c4000501f900000000000000384c0000201c63364010a000001', // TCP 192.0.2.1:40000 → 198.51.100.1:80 → 10.0.0.1:8080 ESTABLISHED, 900 s
  '000600240000000000059c4100501f900000000000000078c0000202c63364010a000001', // TIME_WAIT, 120 s
  '00110024000000000000003500350035000000000000012cc0000203c63364010a000002', // UDP, 300 s
  '010600480000000000019c4201bb01bb000000000000038420010db80000000000000000000000012001' +
    '0db8000100000000000000000080fd000000000000000000000000000010', // IPv6 [2001:db8::1]:40002 → [2001:db8:1::80]:443
  '00060024000010000001000000501f900000000000000168c0000204c63364010a000001', // template (flags 0x1000) ASSURED, 360 s
  '008400240000000000071388138813880000000000000384c0000205c63364020a000003', // SCTP state 7
  '00110038000010000000000013c413c40000000000000384c0000206c63364030a000004' +
    '020d63616c6c2d69642d31323340780303736970', // UDP template with PE data "call-id-123@x" and PE name "sip"
  '0006003e0000010000019c4300501f900000000000000384c0000207c63364010a000001' +
    '0118' + '01'.repeat(24), // INACTIVE (0x100) with a sequence option
].join(''), 'hex');

test('a handmade v1 datagram decodes field by field, and the encoder writes the same bytes back', (t) => {
  const m = decodeSyncMessage(HANDMADE_V1);
  t.like(m, { version: 1, syncId: 5, rejected: [], skippedOptions: 0 });
  t.is(m.conns.length, 8);
  t.deepEqual(m.conns[0], {
    family: 'inet', protocol: 6, flags: 0, state: 1, clientAddress: '192.0.2.1', clientPort: 40000, virtualAddress: '198.51.100.1', virtualPort: 80,
    destAddress: '10.0.0.1', destPort: 8080, fwmark: 0, timeoutSec: 900,
  });
  t.like(m.conns[3], { family: 'inet6', clientAddress: '2001:db8::1', virtualAddress: '2001:db8:1::80', destAddress: 'fd00::10', clientPort: 40002, virtualPort: 443 });
  t.like(m.conns[4], { flags: 0x1000, state: 1, clientPort: 0, timeoutSec: 360 });
  t.like(m.conns[5], { protocol: 132, state: 7 });
  t.is(m.conns[6]?.peName, 'sip');
  t.is(m.conns[6]?.peData?.toString(), 'call-id-123@x');
  t.deepEqual([m.conns[7]?.flags, m.conns[7]?.inSeq, m.conns[7]?.outSeq], [0x100, { initSeq: 0x01010101, delta: 0x01010101, previousDelta: 0x01010101 }, { initSeq: 0x01010101, delta: 0x01010101, previousDelta: 0x01010101 }]);
  t.deepEqual(encodeSyncMessages(m.conns, { syncId: 5 }), [HANDMADE_V1]);
});

test('a handmade v0 datagram: 24-byte entries, no timeout, and the encoder agrees', (t) => {
  const v0 = Buffer.from('0105001c' + '0006a0280050' + '1f90c0000208c63364010a000001' + '00000001', 'hex');
  const m = decodeSyncMessage(v0);
  t.deepEqual(m, { version: 0, syncId: 5, rejected: [], skippedOptions: 0, conns: [{
    family: 'inet', protocol: 6, clientAddress: '192.0.2.8', clientPort: 41000, virtualAddress: '198.51.100.1', virtualPort: 80,
    destAddress: '10.0.0.1', destPort: 8080, flags: 0, state: 1, fwmark: 0, timeoutSec: 0,
  }] });
  t.deepEqual(encodeSyncMessages(m.conns, { syncId: 5, version: 0 }), [v0]);
});

test('the captured datagrams decode to what was sent; what the decoder skips is exactly what the kernel left out of its table', async (t) => {
  const decoded: SyncMessage[] = [];
  const dropped: string[] = [];
  for (const d of capture.datagrams) {
    try {
      decoded.push(decodeSyncMessage(d, { syncId: capture.syncId }));
    } catch (error) {
      dropped.push((error as SyncDecodeError).reason);
    }
  }
  t.deepEqual(dropped, ['sync-id']);
  const accepted = decoded.flatMap((m) => m.conns);
  const rejected = decoded.flatMap((m) => m.rejected.map((r) => r.reason)).sort();
  t.deepEqual(rejected, ['bad-state', 'bad-state', 'bad-state', 'unknown-mandatory-option', 'unsupported-protocol']);
  t.is(decoded.reduce((n, m) => n + m.skippedOptions, 0), 1);
  const inTable = new Set<string>();
  for await (const row of readConnections({ file: `${CAPTURE_DIR}/ip_vs_conn.txt` })) inTable.add(row.clientAddress);
  t.deepEqual(accepted.map((c) => c.clientAddress).sort(), [...inTable].sort());
  const sent = new Map([...capture.v1, ...capture.v0, capture.optionalUnknown].map((c) => [c.clientAddress, c]));
  for (const conn of accepted) t.deepEqual(conn, sent.get(conn.clientAddress), conn.clientAddress);
});

function randomConn(random: (n: number) => number): SyncConn {
  const v6 = random(3) === 0;
  const addr = (): string => (v6 ? `2001:db8:${random(65536).toString(16)}::${random(65536).toString(16)}` : `${random(256)}.${random(256)}.${random(256)}.${random(256)}`);
  const conn: SyncConn = {
    family: v6 ? 'inet6' : 'inet', protocol: [6, 17, 132][random(3)] as number, flags: random(2) ? 0x1000 : random(0x2000) & ~IP_VS_CONN_F_HASHED & ~0x1000,
    state: 0, clientAddress: addr(), clientPort: random(65536), virtualAddress: addr(), virtualPort: random(65536),
    destAddress: addr(), destPort: random(65536), fwmark: random(2) ? 0 : random(2 ** 31), timeoutSec: random(100000),
  };
  conn.state = conn.protocol === 17 ? 0 : random(conn.protocol === 6 ? 11 : 14);
  if (random(4) === 0) {
    conn.inSeq = { initSeq: random(2 ** 31), delta: random(1000), previousDelta: random(1000) };
    conn.outSeq = { initSeq: random(2 ** 31), delta: random(1000), previousDelta: random(1000) };
  }
  if (random(5) === 0) {
    conn.peData = Buffer.from(Array.from({ length: 1 + random(255) }, () => random(256)));
    conn.peName = 'sip';
  }
  return conn;
}

test('round trip: 2,000 random connections (IPv4, IPv6, templates, options) encode and decode unchanged, split at 1472 bytes', (t) => {
  let seed = 99;
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return Math.floor((seed / 2 ** 32) * n); };
  const conns = Array.from({ length: 2000 }, () => randomConn(random));
  const datagrams = encodeSyncMessages(conns, { syncId: 200 });
  t.true(datagrams.every((d) => d.length <= 1472 && d[4] as number <= 255));
  const back = datagrams.flatMap((d) => decodeSyncMessage(d, { syncId: 200 }).conns);
  t.deepEqual(back, conns);
  const v4only = conns.filter((c) => c.family === 'inet').map((c) => ({ ...c, flags: c.flags & 0xffff, fwmark: 0, timeoutSec: 0 }));
  const v0 = encodeSyncMessages(v4only.map(({ peData: _d, peName: _n, ...c }) => c), { version: 0, syncId: 3 });
  const v0back = v0.flatMap((d) => decodeSyncMessage(d).conns);
  t.is(v0back.length, v4only.length);
  t.deepEqual(v0back.map((c) => [c.clientAddress, c.clientPort, c.state, c.flags]), v4only.map((c) => [c.clientAddress, c.clientPort, c.state, c.flags]));
});

function reasonOf(buf: Buffer, syncId?: number): string {
  try {
    decodeSyncMessage(buf, syncId === undefined ? {} : { syncId });
    return 'ok';
  } catch (error) {
    if (!(error instanceof SyncDecodeError)) throw error;
    return error.reason;
  }
}

test('every truncation is dropped as truncated; trailing bytes as length-mismatch', (t) => {
  for (let n = 0; n < HANDMADE_V1.length; n++) t.is(reasonOf(HANDMADE_V1.subarray(0, n)), 'truncated', `cut at ${n}`);
  t.is(reasonOf(Buffer.concat([HANDMADE_V1, Buffer.alloc(1)])), 'length-mismatch');
});

test('wrong versions, lengths past the end, bad options, unknown options, conn types and sync ids', (t) => {
  const patched = (at: number, bytes: number[]): Buffer => {
    const b = Buffer.from(HANDMADE_V1);
    Buffer.from(bytes).copy(b, at);
    return b;
  };
  t.is(reasonOf(patched(5, [2])), 'wrong-version', 'header version 2');
  t.is(reasonOf(patched(6, [0, 1])), 'wrong-version', 'spare bytes set');
  t.is(reasonOf(patched(8 + 2, [0x10, 0x24])), 'wrong-version', 'connection version 1');
  t.is(reasonOf(patched(8 + 2, [0x0f, 0xff])), 'length-past-end', 'connection size 4095');
  t.is(reasonOf(patched(8 + 2, [0x00, 0x20])), 'length-past-end', 'connection shorter than its body');
  t.is(reasonOf(patched(8, [2])), 'bad-conn-type', 'type 2');
  const pe = HANDMADE_V1.indexOf(Buffer.from('020d', 'hex'));
  t.is(reasonOf(patched(pe + 1, [0xff])), 'length-past-end', 'option past the end');
  t.is(reasonOf(patched(pe + 1, [0])), 'length-past-end', 'option of length 0');
  const seq = HANDMADE_V1.length - 26;
  t.is(reasonOf(patched(seq, [1, 23])), 'bad-option', 'sequence option of 23 bytes');
  t.is(reasonOf(patched(seq, [1, 25])), 'length-past-end', 'sequence option reaching one byte past the end');
  const withShortSeq = encodeConnV1({ family: 'inet', protocol: 6, flags: 0, state: 1, clientAddress: '1.2.3.4', clientPort: 1, virtualAddress: '5.6.7.8', virtualPort: 2, destAddress: '9.9.9.9', destPort: 3, fwmark: 0, timeoutSec: 9 });
  const message = (body: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 8 + body.length, 1, 1, 0, 0]), body]);
  const option = (type: number, data: number[]): Buffer => {
    const b = Buffer.concat([withShortSeq, Buffer.from([type, data.length, ...data])]);
    b.writeUInt16BE(b.length, 2);
    return message(b);
  };
  t.is(reasonOf(option(1, [1, 2, 3])), 'bad-option', 'sequence option of 3 bytes');
  t.deepEqual(decodeSyncMessage(option(0x40 | 9, [1, 2, 3])).skippedOptions, 1);
  t.deepEqual(decodeSyncMessage(option(9, [1, 2, 3])).rejected, [{ index: 0, reason: 'unknown-mandatory-option' }]);
  t.deepEqual(decodeSyncMessage(option(2, [1, 2, 3])).rejected, [{ index: 0, reason: 'pe-data-without-name' }]);
  t.is(reasonOf(option(3, Array(17).fill(65))), 'bad-option', 'PE name longer than 16');
  t.is(reasonOf(HANDMADE_V1, 5), 'ok');
  t.is(reasonOf(HANDMADE_V1, 0), 'ok', 'sync id 0 takes any');
  t.is(reasonOf(HANDMADE_V1, 6), 'sync-id');
  const v0 = Buffer.from('0305001c' + '00'.repeat(24), 'hex');
  t.is(reasonOf(v0), 'truncated', 'v0 announcing 3 entries, holding 1');
});

test('5,000 mutated datagrams: each decodes or is dropped with a reason; nothing else is ever thrown', (t) => {
  let seed = 7;
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return Math.floor((seed / 2 ** 32) * n); };
  const sources = [HANDMADE_V1, ...capture.datagrams];
  const reasons = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    const source = sources[random(sources.length)] as Buffer;
    let b = Buffer.from(source);
    const kind = random(4);
    if (kind === 0) b = b.subarray(0, random(b.length));
    else if (kind === 1) for (let m = 0; m < 1 + random(8); m++) b[random(b.length)] = random(256);
    else if (kind === 2) b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + random(64) }, () => random(256)))]);
    // Keep the header's size right half the time, so the mutation reaches the connections.
    if (b.length >= 4 && random(2) === 0) b.writeUInt16BE(b.length & 0xffff, 2);
    const reason = reasonOf(b);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  t.log(Object.fromEntries(reasons));
  for (const expected of ['ok', 'truncated', 'length-mismatch', 'length-past-end', 'wrong-version']) t.true((reasons.get(expected) ?? 0) > 0, expected);
});
