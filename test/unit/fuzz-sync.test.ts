// layer: tests (unit, fuzz)
// job: IPVS sync datagrams (v1 and v0) under fast-check: connections round-trip however they are split into datagrams,
//      those the kernel would skip come back as rejected; damaged datagrams give SyncDecodeError and nothing else.
import test from 'ava';
import fc from 'fast-check';
import { formatIPv6 } from '../../src/bytes.js';
import { IP_VS_CONN_F_HASHED, IP_VS_CONN_F_SEQ_MASK, IP_VS_CONN_F_TEMPLATE, stateCount } from '../../src/conns/constants.js';
import { decodeSyncMessage, encodeSyncMessages } from '../../src/conns/sync-codec.js';
import { SyncDecodeError, type SyncConn } from '../../src/conns/sync-message.js';
import { bytes, fuzz, garbage, ipv4Arb, onlyThrows, same } from '../helpers/fuzz.js';

const u32 = fc.nat({ max: 0xffffffff });
const port = fc.integer({ min: 0, max: 0xffff });
const seqArb = fc.record({ initSeq: u32, delta: u32, previousDelta: u32 });
const protocolArb = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(6, 17, 132, 50, 51) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });

/** A v1 connection or template of either family, sometimes with a state the kernel would refuse. */
const connV1Arb: fc.Arbitrary<SyncConn> = fc.boolean().chain((v6) => {
  const address = v6 ? bytes(16, 16).map(formatIPv6) : ipv4Arb;
  return fc.record({
    protocol: protocolArb, flags: u32.map((f) => (f & ~IP_VS_CONN_F_HASHED) >>> 0), stateSeed: fc.nat(),
    clientAddress: address, clientPort: port, virtualAddress: address, virtualPort: port, destAddress: address, destPort: port,
    fwmark: u32, timeoutSec: u32, seq: fc.option(fc.tuple(seqArb, seqArb), { nil: undefined }),
    pe: fc.option(fc.tuple(bytes(1, 255), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 16 })), { nil: undefined }),
  }).map(({ stateSeed, seq, pe, ...c }) => {
    const states = stateCount(c.protocol) ?? 1;
    const state = stateSeed % 8 === 0 ? stateSeed % 0x10000 : stateSeed % states; // now and then out of range
    const conn: SyncConn = { family: v6 ? 'inet6' : 'inet', state, ...c };
    if (seq) { conn.inSeq = seq[0]; conn.outSeq = seq[1]; }
    if (pe) { conn.peData = pe[0]; conn.peName = pe[1]; }
    return conn;
  });
});

/** A v0 connection: IPv4, 16 bits of flags, sequence data exactly when a sequence flag is set, no timeout or mark. */
const connV0Arb: fc.Arbitrary<SyncConn> = fc.record({
  protocol: protocolArb, flags: fc.integer({ min: 0, max: 0xffff }).map((f) => f & ~IP_VS_CONN_F_HASHED), state: fc.integer({ min: 0, max: 12 }),
  clientAddress: ipv4Arb, clientPort: port, virtualAddress: ipv4Arb, virtualPort: port, destAddress: ipv4Arb, destPort: port,
  seq: fc.tuple(seqArb, seqArb),
}).map(({ seq, ...c }) => {
  const conn: SyncConn = { family: 'inet', fwmark: 0, timeoutSec: 0, ...c };
  if (c.flags & IP_VS_CONN_F_SEQ_MASK) { conn.inSeq = seq[0]; conn.outSeq = seq[1]; }
  return conn;
});

/** Would the kernel apply this connection (ip_vs_proc_conn's checks)? */
function kernelTakes(c: SyncConn): boolean {
  if (!(c.flags & IP_VS_CONN_F_TEMPLATE)) {
    const states = stateCount(c.protocol);
    if (states === undefined || c.state >= states) return false;
  }
  return true;
}

function roundTrip(conns: SyncConn[], version: 0 | 1, syncId: number, maxBytes: number): void {
  const datagrams = encodeSyncMessages(conns, { version, syncId, maxBytes });
  const taken: SyncConn[] = [];
  let rejected = 0;
  for (const d of datagrams) {
    if (d.length > maxBytes) throw new Error(`datagram of ${d.length} bytes over ${maxBytes}`);
    const m = decodeSyncMessage(d, { syncId });
    if (m.version !== version || m.syncId !== syncId) throw new Error(`header: version ${m.version}, sync id ${m.syncId}`);
    taken.push(...m.conns);
    rejected += m.rejected.length;
  }
  same(taken, conns.filter(kernelTakes), 'connections applied');
  if (rejected !== conns.length - taken.length) throw new Error(`${rejected} rejected, ${conns.length - taken.length} refused`);
}

test('v1 round-trip: IPv4 and IPv6, templates, sequence and persistence-engine options, any split', (t) => {
  fuzz(t, 'sync.v1.roundtrip', [fc.array(connV1Arb, { maxLength: 5 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 400, max: 9000 })], (conns, syncId, maxBytes) => {
    roundTrip(conns, 1, syncId, maxBytes);
  });
});

test('v0 round-trip: 24-byte entries, with sequence data when flagged', (t) => {
  fuzz(t, 'sync.v0.roundtrip', [fc.array(connV0Arb, { maxLength: 10 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 60, max: 1472 })], (conns, syncId, maxBytes) => {
    roundTrip(conns, 0, syncId, maxBytes);
  });
});

test('garbage datagrams: SyncDecodeError with a reason and an offset inside the datagram, or a message, never another throw', (t) => {
  const valid = fc.oneof(
    fc.tuple(fc.array(connV1Arb, { minLength: 1, maxLength: 4 }), fc.nat(255)).map(([c, id]) => encodeSyncMessages(c, { syncId: id, maxBytes: 9000 })[0]!),
    fc.tuple(fc.array(connV0Arb, { minLength: 1, maxLength: 4 }), fc.nat(255)).map(([c, id]) => encodeSyncMessages(c, { version: 0, syncId: id })[0]!),
  );
  fuzz(t, 'sync.garbage', [garbage(valid), fc.option(fc.nat(255), { nil: undefined })], (buf, syncId) => {
    try {
      decodeSyncMessage(buf, syncId === undefined ? {} : { syncId });
    } catch (err) {
      onlyThrows(() => { throw err; }, SyncDecodeError);
      const e = err as SyncDecodeError;
      if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > buf.length) throw new Error(`offset ${e.offset} outside ${buf.length} bytes`);
    }
  }, {
    examples: [
      // Found by this target: a v1 message whose last connection's padding ended past the datagram named an offset past its end.
      [Buffer.from([0, 0, 0, 59, 2, 1, 0, 0, 0, 6, 0, 51, ...new Array<number>(32).fill(0), 2, 7, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0]) as Buffer, undefined],
    ],
  });
});
