// layer: unit tests (netlink codec)
// job: nlmsghdr golden bytes, round trips, NLMSG_ERROR/NLMSG_DONE payloads, and malformed datagrams.
import test from 'ava';
import { endianness } from 'node:os';
import { writeS32Host, writeU16Host, writeU32Host } from '../../src/bytes.js';
import {
  AttrWriter,
} from '../../src/netlink/attr.js';
import {
  NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE,
  NLMSG_ERROR, NLMSGERR_ATTR_COOKIE, NLMSGERR_ATTR_MISS_NEST, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from '../../src/netlink/constants.js';
import { NetlinkDecodeError } from '../../src/netlink/errors.js';
import {
  decodeDone, decodeError, decodeHeader, decodeMessages, encodeHeader, encodeMessage,
} from '../../src/netlink/message.js';

const le = endianness() === 'LE' ? test : test.skip; // golden vectors are written for little-endian hosts

const RTM_NEWADDR = 20;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;

/** `ip addr add 192.0.2.1/24 dev eth0 label eth0:1` (ifindex 2, seq 1) as iproute2 sends it. */
const NEWADDR_GOLDEN = Buffer.from([
  0x34, 0x00, 0x00, 0x00, // nlmsg_len 52
  0x14, 0x00, // nlmsg_type RTM_NEWADDR
  0x05, 0x06, // REQUEST|ACK|EXCL|CREATE
  0x01, 0x00, 0x00, 0x00, // seq 1
  0x00, 0x00, 0x00, 0x00, // pid 0
  0x02, 0x18, 0x00, 0x00, // ifaddrmsg: AF_INET, /24, flags 0, scope 0
  0x02, 0x00, 0x00, 0x00, // ifa_index 2
  0x08, 0x00, 0x02, 0x00, 0xc0, 0x00, 0x02, 0x01, // IFA_LOCAL 192.0.2.1
  0x0b, 0x00, 0x03, 0x00, 0x65, 0x74, 0x68, 0x30, 0x3a, 0x31, 0x00, 0x00, // IFA_LABEL "eth0:1\0" + pad
  0x08, 0x00, 0x01, 0x00, 0xc0, 0x00, 0x02, 0x01, // IFA_ADDRESS 192.0.2.1
]);

function newAddrParts(): Buffer[] {
  const ifaddrmsg = Buffer.from([2, 24, 0, 0, 2, 0, 0, 0]);
  const attrs = new AttrWriter().ipv4(IFA_LOCAL, '192.0.2.1').string(IFA_LABEL, 'eth0:1').ipv4(IFA_ADDRESS, '192.0.2.1');
  return [ifaddrmsg, attrs.toBuffer()];
}

le('encodeMessage writes an RTM_NEWADDR exactly as ip does', (t) => {
  const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
  const buf = encodeMessage({ type: RTM_NEWADDR, flags, seq: 1 }, newAddrParts());
  t.deepEqual([...buf], [...NEWADDR_GOLDEN]);
});

le('encodeHeader golden bytes: every field in host order', (t) => {
  const buf = encodeHeader({ length: 0x11223344, type: 0x5566, flags: 0x7788, seq: 0x99aabbcc, pid: 0xddeeff01 });
  t.is(buf.toString('hex'), '44332211' + '6655' + '8877' + 'ccbbaa99' + '01ffeedd');
});

test('decodeMessages reads back the golden message', (t) => {
  const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
  const [msg, ...rest] = decodeMessages(encodeMessage({ type: RTM_NEWADDR, flags, seq: 1 }, newAddrParts()));
  t.is(rest.length, 0);
  t.deepEqual(msg?.header, { length: 52, type: RTM_NEWADDR, flags: 0x605, seq: 1, pid: 0 });
  t.is(msg?.payload.length, 36);
  t.is(msg?.payload[1], 24);
});

test('encodeMessage pads to 4 bytes with zeros but nlmsg_len excludes the padding', (t) => {
  const buf = encodeMessage({ type: 0x20, flags: 1, seq: 7, pid: 99 }, Buffer.from([0xaa, 0xbb, 0xcc]));
  t.is(buf.length, 20);
  t.deepEqual([...buf.subarray(16)], [0xaa, 0xbb, 0xcc, 0]);
  t.deepEqual(decodeHeader(buf), { length: 19, type: 0x20, flags: 1, seq: 7, pid: 99 });
});

test('decodeMessages splits a multi-message datagram; payloads are views, not copies', (t) => {
  const a = encodeMessage({ type: 0x30, flags: NLM_F_MULTI, seq: 5, pid: 1 }, Buffer.from('abcde'));
  const b = encodeMessage({ type: 0x31, flags: NLM_F_MULTI, seq: 5, pid: 1 }, Buffer.alloc(0));
  const c = encodeMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 5, pid: 1 }, Buffer.alloc(4));
  const dgram = Buffer.concat([a, b, c]);
  const msgs = decodeMessages(dgram);
  t.deepEqual(msgs.map((m) => m.header.type), [0x30, 0x31, NLMSG_DONE]);
  t.is(msgs[0]?.payload.toString(), 'abcde');
  t.is(msgs[1]?.payload.length, 0);
  dgram[16] = 0x7a; // 'z'
  t.is(msgs[0]?.payload.toString(), 'zbcde');
});

test('decodeMessages accepts an unpadded last message and an empty datagram', (t) => {
  const msg = encodeMessage({ type: 0x30, flags: 0, seq: 1 }, Buffer.from([1, 2, 3]));
  t.is(decodeMessages(msg.subarray(0, 19))[0]?.payload.length, 3);
  t.deepEqual(decodeMessages(Buffer.alloc(0)), []);
});

test('decodeMessages: a datagram shorter than a header is a NetlinkDecodeError', (t) => {
  const err = t.throws(() => decodeMessages(Buffer.alloc(10)), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 0);
  t.is(err?.actual, 10);
});

test('decodeMessages: nlmsg_len < 16 is a NetlinkDecodeError', (t) => {
  const buf = encodeMessage({ type: 0x30, flags: 0, seq: 1 }, Buffer.alloc(4));
  writeU32Host(buf, 8, 0);
  const err = t.throws(() => decodeMessages(buf), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 0);
  t.regex(err?.message ?? '', /nlmsg_len \d+ < 16/);
});

test('decodeMessages: nlmsg_len past the end of the datagram names the offset', (t) => {
  const first = encodeMessage({ type: 0x30, flags: 0, seq: 1 }, Buffer.alloc(4));
  const second = encodeMessage({ type: 0x31, flags: 0, seq: 1 }, Buffer.alloc(8));
  const dgram = Buffer.concat([first, second.subarray(0, 20)]); // second claims 24 bytes, has 20
  const err = t.throws(() => decodeMessages(dgram), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 20);
  t.is(err?.expected, 24);
  t.is(err?.actual, 20);
});

test('decodeMessages: trailing bytes after the last message are a NetlinkDecodeError', (t) => {
  const dgram = Buffer.concat([encodeMessage({ type: 0x30, flags: 0, seq: 1 }), Buffer.alloc(6)]);
  const err = t.throws(() => decodeMessages(dgram), { instanceOf: NetlinkDecodeError });
  t.is(err?.offset, 16);
});

function errPayload(error: number, echoed: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  writeS32Host(head, error, 0);
  return Buffer.concat([head, echoed, tlvs]);
}

test('decodeError: capped ACK carries only the request header', (t) => {
  const req = { length: 52, type: RTM_NEWADDR, flags: 0x605, seq: 9, pid: 0 };
  const e = decodeError(errPayload(0, encodeHeader(req)), NLM_F_CAPPED);
  t.is(e.error, 0);
  t.deepEqual(e.request, req);
  t.is(e.requestPayload, undefined);
  t.deepEqual(e.extack, {});
});

test('decodeError: uncapped error echoes the request, then ext-ack TLVs', (t) => {
  const original = encodeMessage({ type: RTM_NEWADDR, flags: 0x605, seq: 3 }, Buffer.from([1, 2, 3, 4, 5]));
  const tlvs = new AttrWriter()
    .string(NLMSGERR_ATTR_MSG, 'Invalid prefix length')
    .u32(NLMSGERR_ATTR_OFFS, 17)
    .bytes(NLMSGERR_ATTR_COOKIE, Buffer.from([0xde, 0xad]))
    .u32(NLMSGERR_ATTR_MISS_TYPE, 4)
    .u32(NLMSGERR_ATTR_MISS_NEST, 24)
    .toBuffer();
  const e = decodeError(errPayload(-22, original, tlvs), NLM_F_ACK_TLVS);
  t.is(e.error, -22);
  t.is(e.request.seq, 3);
  t.is(e.request.length, 21);
  t.deepEqual([...(e.requestPayload ?? [])], [1, 2, 3, 4, 5]);
  t.is(e.extack.message, 'Invalid prefix length');
  t.is(e.extack.offset, 17);
  t.deepEqual([...(e.extack.cookie ?? [])], [0xde, 0xad]);
  t.is(e.extack.missingType, 4);
  t.is(e.extack.missingNest, 24);
});

test('decodeError: capped error with TLVs right after the header', (t) => {
  const req = { length: 100, type: 0x20, flags: 5, seq: 4, pid: 0 };
  const tlvs = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'nope').toBuffer();
  const e = decodeError(errPayload(-1, encodeHeader(req), tlvs), NLM_F_CAPPED | NLM_F_ACK_TLVS);
  t.is(e.extack.message, 'nope');
  t.is(e.request.length, 100);
});

test('decodeError: a payload shorter than nlmsgerr is a NetlinkDecodeError', (t) => {
  const err = t.throws(() => decodeError(Buffer.alloc(12)), { instanceOf: NetlinkDecodeError });
  t.is(err?.expected, 20);
  t.is(err?.actual, 12);
});

test('decodeError: malformed ext-ack TLVs are a NetlinkDecodeError', (t) => {
  const bad = Buffer.from([0, 0, 0, 0, 0x41, 0x00, 0x00, 0x00]);
  writeU16Host(bad, 32, 0); // nla_len 32 in 8 bytes
  writeU16Host(bad, NLMSGERR_ATTR_MSG, 2);
  const payload = errPayload(-1, encodeHeader({ length: 16, type: 0x20, flags: 5, seq: 4, pid: 0 }), bad);
  t.throws(() => decodeError(payload, NLM_F_CAPPED | NLM_F_ACK_TLVS), { instanceOf: NetlinkDecodeError });
});

test('decodeDone: error code and ext-ack message; empty payload is 0', (t) => {
  const head = Buffer.alloc(4);
  writeS32Host(head, -95, 0);
  const tlvs = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'dump not supported').toBuffer();
  const d = decodeDone(Buffer.concat([head, tlvs]), NLM_F_MULTI | NLM_F_ACK_TLVS);
  t.deepEqual(d, { error: -95, extack: { message: 'dump not supported' } });
  t.deepEqual(decodeDone(Buffer.alloc(4)), { error: 0, extack: {} });
  t.deepEqual(decodeDone(Buffer.alloc(0)), { error: 0, extack: {} });
  t.throws(() => decodeDone(Buffer.alloc(2)), { instanceOf: NetlinkDecodeError });
});

test('NLMSG_ERROR round trip through encodeMessage/decodeMessages/decodeError', (t) => {
  const req = { length: 16, type: 0x42, flags: 5, seq: 77, pid: 0 };
  const msg = encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED, seq: 77, pid: 4242 }, errPayload(-17, encodeHeader(req)));
  const [m] = decodeMessages(msg);
  t.is(m?.header.type, NLMSG_ERROR);
  t.is(decodeError(m?.payload ?? Buffer.alloc(0), m?.header.flags).error, -17);
});
