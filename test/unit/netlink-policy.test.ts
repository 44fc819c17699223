// layer: unit tests (netlink codec)
// job: policy-driven parsing (typed results, multi, nesting, unknowns) and a mutation fuzz of all decoders.
import test from 'ava';
import { writeU16Host } from '../../src/bytes.js';
import {
  type Attr, AttrWriter, decodeAttrs,
} from '../../src/netlink/attr.js';
import { NLA_F_NET_BYTEORDER, NLM_F_ACK_TLVS, NLM_F_MULTI, NLMSG_ERROR, NLMSGERR_ATTR_MSG } from '../../src/netlink/constants.js';
import { NetlinkDecodeError } from '../../src/netlink/errors.js';
import { decodeDone, decodeError, decodeMessages, encodeHeader, encodeMessage } from '../../src/netlink/message.js';
import { parseAttrs, type Policy } from '../../src/netlink/policy.js';

const CACHEINFO = { 1: { name: 'preferred', kind: 'u32' }, 2: { name: 'valid', kind: 'u32' } } as const satisfies Policy;

const POLICY = {
  1: { name: 'address', kind: 'address' },
  2: { name: 'label', kind: 'string' },
  3: { name: 'flags', kind: 'u32' },
  4: { name: 'scope', kind: 'u8' },
  5: { name: 'proto', kind: 'u16' },
  6: { name: 'metric', kind: 's32' },
  7: { name: 'bytes', kind: 'u64' },
  8: { name: 'port', kind: 'be16' },
  9: { name: 'fwmark', kind: 'be32' },
  10: { name: 'cookie', kind: 'binary' },
  11: { name: 'permanent', kind: 'flag' },
  12: { name: 'cacheinfo', kind: 'nested', policy: CACHEINFO },
  13: { name: 'ports', kind: 'u16', multi: true },
  14: { name: 'entries', kind: 'nestedArray', policy: CACHEINFO },
} as const satisfies Policy;

function fullAttrs(): Buffer {
  return new AttrWriter()
    .address(1, '2001:db8::1')
    .string(2, 'eth1:2')
    .u32(3, 0x80)
    .u8(4, 253)
    .u16(5, 4)
    .s32(6, -7)
    .u64(7, 1n << 40n)
    .be16(8, 443)
    .be32(9, 0xdeadbeef)
    .bytes(10, Buffer.from([1, 2, 3]))
    .flag(11)
    .nest(12, (w) => w.u32(1, 100).u32(2, 200).u8(99, 1))
    .u16(13, 80).u16(13, 443).u16(13, 8080)
    .nest(14, (w) => w.nest(1, (e) => e.u32(2, 10)).nest(2, (e) => e.u32(1, 20).u32(2, 30)))
    .u32(42, 4242)
    .toBuffer();
}

test('parseAttrs decodes every kind into typed, named fields', (t) => {
  const r = parseAttrs(fullAttrs(), POLICY);
  t.is(r.address, '2001:db8::1');
  t.is(r.label, 'eth1:2');
  t.is(r.flags, 0x80);
  t.is(r.scope, 253);
  t.is(r.proto, 4);
  t.is(r.metric, -7);
  t.is(r.bytes, 1099511627776n);
  t.is(r.port, 443);
  t.is(r.fwmark, 0xdeadbeef);
  t.deepEqual([...(r.cookie ?? [])], [1, 2, 3]);
  t.is(r.permanent, true);
  t.is(r.cacheinfo?.preferred, 100);
  t.is(r.cacheinfo?.valid, 200);
  t.deepEqual(r.cacheinfo?.unknown.map((a) => a.type), [99]);
  t.deepEqual(r.ports, [80, 443, 8080]);
  t.deepEqual(r.entries?.map((e) => [e.preferred, e.valid]), [[undefined, 10], [20, 30]]);
  t.deepEqual(r.unknown.map((a) => a.type), [42]);
});

test('parseAttrs result types follow the policy (checked by tsc)', (t) => {
  const r = parseAttrs(fullAttrs(), POLICY);
  const address: string | undefined = r.address;
  const bytes: bigint | undefined = r.bytes;
  const ports: number[] | undefined = r.ports;
  const valid: number | undefined = r.cacheinfo?.valid;
  const entries: { valid?: number }[] | undefined = r.entries;
  const permanent: true | undefined = r.permanent;
  // @ts-expect-error an address is a string, not a number
  const wrong: number | undefined = r.address;
  // @ts-expect-error a field the policy does not name
  void r.nosuch;
  t.deepEqual([address, bytes, ports, valid, entries?.length, permanent, wrong],
    ['2001:db8::1', 1099511627776n, [80, 443, 8080], 200, 2, true, '2001:db8::1']);
});

test('parseAttrs: absent attributes are undefined; unknown ones are kept, not dropped', (t) => {
  const buf = new AttrWriter().u32(3, 1).bytes(77, Buffer.from([5])).u8(78, 6).toBuffer();
  const r = parseAttrs(buf, POLICY);
  t.is(r.flags, 1);
  t.is(r.address, undefined);
  t.is(r.permanent, undefined);
  t.false('ports' in r);
  t.deepEqual(r.unknown.map((a) => [a.type, [...a.value]]), [[77, [5]], [78, [6]]]);
});

test('parseAttrs: a repeated non-multi attribute keeps the last, like the kernel', (t) => {
  const r = parseAttrs(new AttrWriter().u32(3, 1).u32(3, 2).toBuffer(), POLICY);
  t.is(r.flags, 2);
});

test('parseAttrs accepts already decoded attributes', (t) => {
  const attrs: Attr[] = decodeAttrs(new AttrWriter().string(2, 'lo').toBuffer());
  t.is(parseAttrs(attrs, POLICY).label, 'lo');
});

test('parseAttrs: NLA_F_NET_BYTEORDER makes u16/u32/u64 read big-endian', (t) => {
  const policy = { 1: { name: 'timeout', kind: 'u32' }, 2: { name: 'packets', kind: 'u64' }, 3: { name: 'port', kind: 'u16' } } as const;
  const buf = new AttrWriter()
    .be32(1 | NLA_F_NET_BYTEORDER, 600)
    .bytes(2 | NLA_F_NET_BYTEORDER, Buffer.from([0, 0, 0, 0, 0, 0, 1, 0]))
    .be16(3 | NLA_F_NET_BYTEORDER, 8080)
    .toBuffer();
  const r = parseAttrs(buf, policy);
  t.is(r.timeout, 600);
  t.is(r.packets, 256n);
  t.is(r.port, 8080);
});

test('parseAttrs: a wrong-size attribute is a NetlinkDecodeError with type and sizes', (t) => {
  const err = t.throws(() => parseAttrs(new AttrWriter().u16(3, 1).toBuffer(), POLICY), { instanceOf: NetlinkDecodeError });
  t.is(err?.attrType, 3);
  t.is(err?.expected, 4);
  t.is(err?.actual, 2);
  t.throws(() => parseAttrs(new AttrWriter().u8(11, 1).toBuffer(), POLICY), { instanceOf: NetlinkDecodeError, message: /flag/ });
  t.throws(() => parseAttrs(new AttrWriter().u8(1, 1).toBuffer(), POLICY), { instanceOf: NetlinkDecodeError, message: /address/ });
});

test('parseAttrs: a wrong-size attribute inside a nest is a NetlinkDecodeError', (t) => {
  const buf = new AttrWriter().nest(12, (w) => w.u16(2, 1)).toBuffer();
  const err = t.throws(() => parseAttrs(buf, POLICY), { instanceOf: NetlinkDecodeError });
  t.is(err?.attrType, 2);
});

test('parseAttrs: a policy may not use the reserved name "unknown"', (t) => {
  const bad = { 1: { name: 'unknown', kind: 'u8' } } as const satisfies Policy;
  t.throws(() => parseAttrs(new AttrWriter().u8(1, 1).toBuffer(), bad), { instanceOf: TypeError });
});

// ---- mutation fuzz: malformed input only ever yields NetlinkDecodeError ---------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Buffer[] {
  const data = encodeMessage({ type: 0x20, flags: NLM_F_MULTI, seq: 9, pid: 42 }, fullAttrs());
  const errHead = Buffer.alloc(4);
  errHead.writeInt32LE(-22, 0);
  const tlvs = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'bad attribute').u32(2, 20).toBuffer();
  const err = encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_ACK_TLVS | 0x100, seq: 9, pid: 42 },
    [errHead, encodeHeader({ length: 40, type: 0x20, flags: 5, seq: 9, pid: 0 }), tlvs]);
  const done = encodeMessage({ type: 3, flags: NLM_F_MULTI | NLM_F_ACK_TLVS, seq: 9, pid: 42 }, [Buffer.alloc(4), tlvs]);
  return [data, Buffer.concat([data, data, done]), err, Buffer.concat([data, err])];
}

function mutate(src: Buffer, rand: () => number): Buffer {
  let buf = Buffer.from(src);
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * buf.length);
    switch (Math.floor(rand() * 5)) {
      case 0: buf[at] = Math.floor(rand() * 256); break;
      case 1: buf[at] = rand() < 0.5 ? 0 : 0xff; break;
      case 2: buf = buf.subarray(0, at); break;
      case 3: buf = Buffer.concat([buf, Buffer.from([Math.floor(rand() * 256), 0, 0, 0].slice(0, 1 + Math.floor(rand() * 4)))]); break;
      default: if (at + 2 <= buf.length) writeU16Host(buf, Math.floor(rand() * 64), at - (at % 4)); // a small length field
    }
  }
  return buf;
}

function decodeEverything(buf: Buffer): number {
  let decoded = 0;
  for (const msg of decodeMessages(buf)) {
    if (msg.header.type === NLMSG_ERROR) decodeError(msg.payload, msg.header.flags);
    else if (msg.header.type === 3) decodeDone(msg.payload, msg.header.flags);
    else parseAttrs(decodeAttrs(msg.payload), POLICY);
    decoded += 1;
  }
  return decoded;
}

test('mutation fuzz: 20000 mutated datagrams throw nothing but NetlinkDecodeError', (t) => {
  const rand = mulberry32(0x1f2e3d4c);
  const seeds = corpus();
  for (const s of seeds) t.true(decodeEverything(s) > 0); // the corpus itself is valid
  let ok = 0;
  let rejected = 0;
  const foreign: string[] = [];
  for (let i = 0; i < 20000; i++) {
    const buf = mutate(seeds[i % seeds.length] as Buffer, rand);
    try {
      decodeEverything(buf);
      ok += 1;
    } catch (err) {
      if (err instanceof NetlinkDecodeError) rejected += 1;
      else foreign.push(`${String(err)} on ${buf.toString('hex')}`);
    }
  }
  t.deepEqual(foreign.slice(0, 3), []);
  t.true(ok > 1000, `only ${ok} mutated buffers decoded`);
  t.true(rejected > 1000, `only ${rejected} mutated buffers were rejected`);
});
