// layer: unit tests (netlink codec)
// job: attribute writer golden bytes, round trips for every writer/getter kind, strict decoding.
import test from 'ava';
import { endianness } from 'node:os';
import { SocketAddress } from 'node:net';
import { encodeIPv6, formatIPv6, writeU16Host } from '../../src/bytes.js';
import {
  type Attr, AttrWriter, attrAddress, attrBe16, attrBe32, attrBytes, attrFlag, attrIPv4, attrIPv6, attrNested, attrS32, attrString, attrU16, attrU32, attrU64, attrU8, decodeAttrs,
} from '../../src/netlink/attr.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER } from '../../src/netlink/constants.js';
import { NetlinkDecodeError } from '../../src/netlink/errors.js';

const le = endianness() === 'LE' ? test : test.skip; // golden vectors are written for little-endian hosts

// IPVS (linux/ip_vs.h): IPVS_CMD_ATTR_SERVICE and IPVS_SVC_ATTR_*.
const IPVS_CMD_ATTR_SERVICE = 1;
const IPVS_SVC_ATTR_AF = 1;
const IPVS_SVC_ATTR_PROTOCOL = 2;
const IPVS_SVC_ATTR_ADDR = 3;
const IPVS_SVC_ATTR_PORT = 4;
const IPVS_SVC_ATTR_SCHED_NAME = 6;

function one(buf: Buffer): Attr {
  const attrs = decodeAttrs(buf);
  if (attrs.length !== 1 || !attrs[0]) throw new Error(`expected one attribute, got ${attrs.length}`);
  return attrs[0];
}

le('nested attribute golden bytes: an IPVS service as ipvsadm -A -t 192.0.2.10:80 -s rr', (t) => {
  const buf = new AttrWriter().nest(IPVS_CMD_ATTR_SERVICE, (w) => w
    .u16(IPVS_SVC_ATTR_AF, 2)
    .u16(IPVS_SVC_ATTR_PROTOCOL, 6)
    .ipv4(IPVS_SVC_ATTR_ADDR, '192.0.2.10')
    .be16(IPVS_SVC_ATTR_PORT, 80)
    .string(IPVS_SVC_ATTR_SCHED_NAME, 'rr')).toBuffer();
  t.deepEqual([...buf], [
    0x2c, 0x00, 0x01, 0x80, // nla_len 44, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
    0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, // AF = AF_INET (u16 host) + pad
    0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, // PROTOCOL = IPPROTO_TCP + pad
    0x08, 0x00, 0x03, 0x00, 0xc0, 0x00, 0x02, 0x0a, // ADDR = 192.0.2.10
    0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00, // PORT = 80, network order + pad
    0x07, 0x00, 0x06, 0x00, 0x72, 0x72, 0x00, 0x00, // SCHED_NAME = "rr\0" + pad
  ]);
});

le('two-level nesting golden bytes, with NET_BYTEORDER passed by the caller', (t) => {
  const buf = new AttrWriter()
    .nest(7, (w) => w.nest(1, (w2) => w2.be32(2 | NLA_F_NET_BYTEORDER, 0x0a000001)).flag(3))
    .u8(9, 0xff)
    .toBuffer();
  t.deepEqual([...buf], [
    0x14, 0x00, 0x07, 0x80, // outer nest, 20 bytes
    0x0c, 0x00, 0x01, 0x80, // inner nest, 12 bytes
    0x08, 0x00, 0x02, 0x40, 0x0a, 0x00, 0x00, 0x01, // be32 with NLA_F_NET_BYTEORDER
    0x04, 0x00, 0x03, 0x00, // flag
    0x05, 0x00, 0x09, 0x00, 0xff, 0x00, 0x00, 0x00, // u8 + zero pad
  ]);
});

test('decodeAttrs reads back the nested service with flags separated from the type', (t) => {
  const buf = new AttrWriter().nest(IPVS_CMD_ATTR_SERVICE, (w) => w
    .u16(IPVS_SVC_ATTR_AF, 2).ipv4(IPVS_SVC_ATTR_ADDR, '192.0.2.10').be16(IPVS_SVC_ATTR_PORT, 80)).toBuffer();
  const svc = one(buf);
  t.is(svc.type, IPVS_CMD_ATTR_SERVICE);
  t.true(svc.nested);
  t.false(svc.netByteOrder);
  const inner = attrNested(svc);
  t.deepEqual(inner.map((a) => a.type), [IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_PORT]);
  t.deepEqual(inner.map((a) => a.offset), [0, 8, 16]);
  t.is(attrU16(inner[0] as Attr), 2);
  t.is(attrIPv4(inner[1] as Attr), '192.0.2.10');
  t.is(attrBe16(inner[2] as Attr), 80);
});

test('round trip: integers at their limits', (t) => {
  t.is(attrU8(one(new AttrWriter().u8(1, 0).toBuffer())), 0);
  t.is(attrU8(one(new AttrWriter().u8(1, 255).toBuffer())), 255);
  t.is(attrU16(one(new AttrWriter().u16(1, 0xfffe).toBuffer())), 0xfffe);
  t.is(attrU32(one(new AttrWriter().u32(1, 0xfffffffe).toBuffer())), 0xfffffffe);
  t.is(attrS32(one(new AttrWriter().s32(1, -2147483648).toBuffer())), -2147483648);
  t.is(attrS32(one(new AttrWriter().s32(1, -1).toBuffer())), -1);
  t.is(attrU64(one(new AttrWriter().u64(1, 0xffffffffffffffffn).toBuffer())), 0xffffffffffffffffn);
  t.is(attrU64(one(new AttrWriter().u64(1, Number.MAX_SAFE_INTEGER).toBuffer())), 9007199254740991n);
  t.is(attrBe16(one(new AttrWriter().be16(1, 0x1234).toBuffer())), 0x1234);
  t.is(attrBe32(one(new AttrWriter().be32(1, 0xc0000201).toBuffer())), 0xc0000201);
});

test('be16/be32 are big-endian on the wire, u16/u32 host order', (t) => {
  t.deepEqual([...one(new AttrWriter().be16(1, 0x1234).toBuffer()).value], [0x12, 0x34]);
  t.deepEqual([...one(new AttrWriter().be32(1, 0x01020304).toBuffer()).value], [1, 2, 3, 4]);
  const host = [...one(new AttrWriter().u32(1, 0x01020304).toBuffer()).value];
  t.deepEqual(host, endianness() === 'LE' ? [4, 3, 2, 1] : [1, 2, 3, 4]);
});

test('writers reject values that do not fit', (t) => {
  t.throws(() => new AttrWriter().u8(1, 256), { instanceOf: RangeError });
  t.throws(() => new AttrWriter().u16(1, -1), { instanceOf: RangeError });
  t.throws(() => new AttrWriter().u64(1, 2 ** 60), { instanceOf: RangeError });
  t.throws(() => new AttrWriter().u64(1, -1n), { instanceOf: RangeError });
  t.throws(() => new AttrWriter().u32(0x10000, 1), { instanceOf: RangeError });
  t.throws(() => new AttrWriter().bytes(1, Buffer.alloc(0xfffc)), { instanceOf: RangeError });
  t.throws(() => new AttrWriter().ipv4(1, '300.1.1.1'), { instanceOf: TypeError });
  t.throws(() => new AttrWriter().ipv6(1, 'fe80::1%eth0'), { instanceOf: TypeError });
});

test('round trip: strings, bytes, flags', (t) => {
  const buf = new AttrWriter().string(1, 'eth0:2').string(2, '').string(3, 'grüße').bytes(4, Buffer.from([9, 8, 7]))
    .flag(5).toBuffer();
  const [a, b, c, d, e] = decodeAttrs(buf) as [Attr, Attr, Attr, Attr, Attr];
  t.is(attrString(a), 'eth0:2');
  t.is(a.value.length, 7); // NUL included on the wire
  t.is(attrString(b), '');
  t.is(attrString(c), 'grüße');
  t.deepEqual([...attrBytes(d)], [9, 8, 7]);
  t.is(attrFlag(e), true);
  t.is(e.value.length, 0);
});

test('attrString accepts a missing NUL and stops at the first NUL', (t) => {
  const noNul = Buffer.from([0, 0, 1, 0, 0x6c, 0x6f]);
  writeU16Host(noNul, 6, 0);
  t.is(attrString(one(noNul)), 'lo');
  t.is(attrString(one(new AttrWriter().bytes(1, Buffer.from('eth0\0\0\0\0')).toBuffer())), 'eth0');
});

test('round trip: addresses', (t) => {
  const w = new AttrWriter().ipv4(1, '123.30.175.40').ipv6(2, '2001:DB8:0:0:0:0:2:1').address(3, '10.0.0.1')
    .address(4, '::ffff:192.0.2.1').address(5, '::');
  const [a, b, c, d, e] = decodeAttrs(w.toBuffer()) as [Attr, Attr, Attr, Attr, Attr];
  t.is(attrIPv4(a), '123.30.175.40');
  t.is(attrIPv6(b), '2001:db8::2:1');
  t.is(c.value.length, 4);
  t.is(attrAddress(c), '10.0.0.1');
  t.is(d.value.length, 16);
  t.is(attrAddress(d), '::ffff:192.0.2.1');
  t.is(attrAddress(e), '::');
});

test('formatIPv6 follows RFC 5952', (t) => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs
    ['2001:DB8::AAAA', '2001:db8::aaaa'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0:0:0:0:0:0:0001', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
  ];
  for (const [input, expected] of cases) t.is(formatIPv6(encodeIPv6(input)), expected, input);
});

test('formatIPv6 agrees with node:net on random addresses', (t) => {
  let seed = 12345;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.alloc(16);
    for (let g = 0; g < 8; g++) bytes.writeUInt16BE(rand() % 4 === 0 ? 0 : rand(), g * 2); // many zero runs
    if (bytes.subarray(0, 10).every((b) => b === 0)) bytes[0] = 0x20; // skip ::/80 mixed-notation corner cases
    const text = formatIPv6(bytes);
    t.is(text, new SocketAddress({ address: text, family: 'ipv6' }).address);
    t.deepEqual(encodeIPv6(text), bytes);
  }
});

test('a nest whose builder throws leaves the writer as it was', (t) => {
  const w = new AttrWriter().u8(1, 1);
  t.throws(() => w.nest(2, (inner) => { inner.u32(3, 1); throw new Error('boom'); }), { message: 'boom' });
  w.u8(4, 2);
  t.deepEqual(decodeAttrs(w.toBuffer()).map((a) => a.type), [1, 4]);
});

test('the writer grows past its initial capacity', (t) => {
  const w = new AttrWriter(16);
  for (let i = 0; i < 100; i++) w.u32(i + 1, i);
  const attrs = decodeAttrs(w.toBuffer());
  t.is(attrs.length, 100);
  t.is(attrU32(attrs[99] as Attr), 99);
  t.is(w.length, 800);
});

test('decodeAttrs: nla_len < 4 names the offset and type', (t) => {
  const buf = Buffer.concat([new AttrWriter().u32(1, 5).toBuffer(), Buffer.alloc(4)]);
  writeU16Host(buf, 2, 8);
  writeU16Host(buf, 6, 10);
  const err = t.throws(() => decodeAttrs(buf), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 8);
  t.is(err?.attrType, 6);
  t.regex(err?.message ?? '', /attribute type 6 has nla_len 2 < 4/);
});

test('decodeAttrs: an attribute running past the end names the offset and type', (t) => {
  const buf = new AttrWriter().u8(1, 1).u32(2 | NLA_F_NESTED, 5).toBuffer().subarray(0, 14);
  const err = t.throws(() => decodeAttrs(buf), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 8);
  t.is(err?.attrType, 2);
  t.is(err?.expected, 8);
  t.is(err?.actual, 6);
});

test('decodeAttrs: a partial header at the end is a NetlinkDecodeError; ranges are honoured', (t) => {
  const buf = Buffer.concat([new AttrWriter().u16(1, 7).toBuffer(), Buffer.from([1, 2])]);
  t.is(t.throws(() => decodeAttrs(buf), { instanceOf: NetlinkDecodeError })?.offset, 8);
  t.is(decodeAttrs(buf, 0, 8).length, 1);
  t.deepEqual(decodeAttrs(buf, 8, 8), []);
  t.throws(() => decodeAttrs(buf, 0, 11), { instanceOf: RangeError });
});

test('attrNested: a truncated nested attribute is a NetlinkDecodeError naming the nest', (t) => {
  const buf = new AttrWriter().nest(5, (w) => w.u32(1, 1).u32(2, 2)).toBuffer();
  writeU16Host(buf, 24, 12); // inner attribute type 2 now claims 24 bytes
  const outer = one(buf);
  const err = t.throws(() => attrNested(outer), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 8);
  t.is(err?.attrType, 2);
  t.regex(err?.message ?? '', /in nested attribute type 5/);
});

test('checked getters: wrong sizes name the type and expected vs actual length', (t) => {
  const short = one(new AttrWriter().u16(9, 1).toBuffer());
  const err = t.throws(() => attrU32(short), { instanceOf: NetlinkDecodeError });
  t.is(err?.attrType, 9);
  t.is(err?.expected, 4);
  t.is(err?.actual, 2);
  t.regex(err?.message ?? '', /attribute type 9: expected 4 bytes for u32, got 2/);
  t.throws(() => attrU8(short), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrU64(short), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrBe32(short), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrS32(short), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrIPv4(short), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrIPv6(short), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrFlag(short), { instanceOf: NetlinkDecodeError });
  const five = one(new AttrWriter().bytes(3, Buffer.alloc(5)).toBuffer());
  t.regex(t.throws(() => attrAddress(five))?.message ?? '', /expected 4 or 16 bytes for address, got 5/);
  t.throws(() => attrBe16(five), { instanceOf: NetlinkDecodeError });
  t.throws(() => attrU16(five), { instanceOf: NetlinkDecodeError });
});
