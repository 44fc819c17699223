// layer: tests (unit, fuzz)
// job: netlink attributes, messages, NLMSG_ERROR/DONE, policies, genetlink headers and family replies, and the address
//      codec under fast-check: valid values round-trip, damaged bytes give NetlinkDecodeError and nothing else.
import test from 'ava';
import fc from 'fast-check';
import { encodeIPv6, formatIPv6 } from '../../src/bytes.js';
import {
  AttrWriter, NetlinkDecodeError, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_HDRLEN, attrAddress, attrBe16, attrBe32, attrBytes,
  attrFlag, attrIPv4, attrIPv6, attrNested, attrS32, attrString, attrU16, attrU32, attrU64, attrU8, decodeAttrs, decodeDone,
  decodeError, decodeExtAck, decodeMessages, encodeHeader, encodeMessage, parseAttrs, type Attr, type Policy,
} from '../../src/netlink/index.js';
import { decodeFamily, decodeGenl, encodeGenl, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_HDRSIZE, CTRL_ATTR_MAXATTR, CTRL_ATTR_MCAST_GROUPS, CTRL_ATTR_OPS, CTRL_ATTR_VERSION } from '../../src/genl/codec.js';
import { bytes, fuzz, garbage, ipv4Arb, nulFreeString, onlyThrows, same } from '../helpers/fuzz.js';

// ---- attributes ------------------------------------------------------------------------------------

/** One attribute to write, and what reading it back must give. */
type AttrCase =
  | { kind: 'u8' | 'u16' | 'u32' | 'be16' | 'be32' | 's32'; type: number; value: number }
  | { kind: 'u64'; type: number; value: bigint }
  | { kind: 'string'; type: number; value: string }
  | { kind: 'bytes'; type: number; value: Buffer }
  | { kind: 'flag'; type: number }
  | { kind: 'ipv4' | 'ipv6'; type: number; value: string }
  | { kind: 'nest'; type: number; children: AttrCase[] };

const typeArb = fc.integer({ min: 0, max: 0x3fff });
const leafArb: fc.Arbitrary<AttrCase> = fc.oneof(
  fc.record({ kind: fc.constant('u8' as const), type: typeArb, value: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ kind: fc.constantFrom('u16' as const, 'be16' as const), type: typeArb, value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constantFrom('u32' as const, 'be32' as const), type: typeArb, value: fc.nat({ max: 0xffffffff }) }),
  fc.record({ kind: fc.constant('s32' as const), type: typeArb, value: fc.integer({ min: -0x80000000, max: 0x7fffffff }) }),
  fc.record({ kind: fc.constant('u64' as const), type: typeArb, value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ kind: fc.constant('string' as const), type: typeArb, value: nulFreeString(40) }),
  fc.record({ kind: fc.constant('bytes' as const), type: typeArb, value: bytes(0, 40) }),
  fc.record({ kind: fc.constant('flag' as const), type: typeArb }),
  fc.record({ kind: fc.constant('ipv4' as const), type: typeArb, value: ipv4Arb }),
  fc.record({ kind: fc.constant('ipv6' as const), type: typeArb, value: bytes(16, 16).map(formatIPv6) }),
);
const { attrs: attrsArb } = fc.letrec<{ attr: AttrCase; attrs: AttrCase[] }>((tie) => ({
  attr: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb,
    fc.record({ kind: fc.constant('nest' as const), type: typeArb, children: tie('attrs') })),
  attrs: fc.array(tie('attr'), { maxLength: 5 }),
}));

function write(w: AttrWriter, c: AttrCase): void {
  switch (c.kind) {
    case 'u8': w.u8(c.type, c.value); break;
    case 'u16': w.u16(c.type, c.value); break;
    case 'u32': w.u32(c.type, c.value); break;
    case 'be16': w.be16(c.type, c.value); break;
    case 'be32': w.be32(c.type, c.value); break;
    case 's32': w.s32(c.type, c.value); break;
    case 'u64': w.u64(c.type, c.value); break;
    case 'string': w.string(c.type, c.value); break;
    case 'bytes': w.bytes(c.type, c.value); break;
    case 'flag': w.flag(c.type); break;
    case 'ipv4': w.ipv4(c.type, c.value); break;
    case 'ipv6': w.ipv6(c.type, c.value); break;
    case 'nest': w.nest(c.type, () => c.children.forEach((child) => write(w, child))); break;
  }
}

function read(a: Attr, c: AttrCase): unknown {
  if (a.type !== c.type) throw new Error(`type ${a.type}, wrote ${c.type}`);
  switch (c.kind) {
    case 'u8': return attrU8(a);
    case 'u16': return attrU16(a);
    case 'u32': return attrU32(a);
    case 'be16': return attrBe16(a);
    case 'be32': return attrBe32(a);
    case 's32': return attrS32(a);
    case 'u64': return attrU64(a);
    case 'string': return attrString(a);
    case 'bytes': return Buffer.from(attrBytes(a));
    case 'flag': return attrFlag(a);
    case 'ipv4': return attrIPv4(a);
    case 'ipv6': return attrIPv6(a);
    case 'nest': {
      if (!a.nested) throw new Error(`nest type ${c.type} without NLA_F_NESTED`);
      const children = attrNested(a);
      if (children.length !== c.children.length) throw new Error(`nest type ${c.type}: ${children.length} children, wrote ${c.children.length}`);
      return children.map((child, i) => read(child, c.children[i]!));
    }
  }
}

function expected(c: AttrCase): unknown {
  switch (c.kind) {
    case 'flag': return true;
    case 'nest': return c.children.map(expected);
    default: return c.value;
  }
}

function encodeAttrs(cases: AttrCase[]): Buffer {
  const w = new AttrWriter(16);
  for (const c of cases) write(w, c);
  return w.toBuffer();
}

test('attributes round-trip: every kind, nested, through the writer and the checked getters', (t) => {
  fuzz(t, 'netlink.attrs.roundtrip', [attrsArb], (cases) => {
    const buf = encodeAttrs(cases);
    if (buf.length % 4 !== 0) throw new Error(`writer length ${buf.length} not aligned`);
    const decoded = decodeAttrs(buf);
    if (decoded.length !== cases.length) throw new Error(`${decoded.length} attributes, wrote ${cases.length}`);
    const got = decoded.map((a, i) => read(a, cases[i]!));
    same(got, cases.map(expected), 'attributes read back');
  });
});

/** A policy with one attribute type of every kind, nested policies included: what families declare. */
const everyKind = {
  1: { name: 'u8', kind: 'u8' }, 2: { name: 'u16', kind: 'u16' }, 3: { name: 'u32', kind: 'u32' }, 4: { name: 's32', kind: 's32' },
  5: { name: 'u64', kind: 'u64' }, 6: { name: 'be16', kind: 'be16' }, 7: { name: 'be32', kind: 'be32' },
  8: { name: 'string', kind: 'string' }, 9: { name: 'binary', kind: 'binary' }, 10: { name: 'flag', kind: 'flag' },
  11: { name: 'address', kind: 'address' }, 12: { name: 'multi', kind: 'u32', multi: true },
  13: { name: 'nested', kind: 'nested', policy: { 1: { name: 'a', kind: 'u32' }, 2: { name: 'b', kind: 'string' } } },
  14: { name: 'array', kind: 'nestedArray', policy: { 1: { name: 'id', kind: 'u16' }, 2: { name: 'addr', kind: 'address' } } },
} as const satisfies Policy;

/** Valid runs of attributes whose types fall in the policy above (values of any size: the policy must check). */
const policyBytesArb = attrsArb.map((cases) => encodeAttrs(cases.map((c) => ({ ...c, type: (c.type % 15) }))));

test('garbage attributes: decodeAttrs, every getter, attrNested and parseAttrs throw NetlinkDecodeError or nothing', (t) => {
  const getters = [attrU8, attrU16, attrU32, attrS32, attrU64, attrBe16, attrBe32, attrString, attrBytes, attrFlag, attrIPv4, attrIPv6, attrAddress, attrNested];
  fuzz(t, 'netlink.attrs.garbage', [garbage(policyBytesArb)], (buf) => {
    const attrs = onlyThrows(() => decodeAttrs(buf), NetlinkDecodeError);
    for (const a of attrs ?? []) {
      if (a.offset < 0 || a.offset + 4 + a.value.length > buf.length) throw new Error(`attribute at ${a.offset} outside the buffer`);
      for (const get of getters) onlyThrows(() => get(a), NetlinkDecodeError);
    }
    const err = (() => { try { parseAttrs(buf, everyKind); return undefined; } catch (e) { return e; } })();
    if (err !== undefined && !(err instanceof NetlinkDecodeError)) onlyThrows(() => { throw err; }, NetlinkDecodeError);
    if (err instanceof NetlinkDecodeError && !(Number.isInteger(err.offset) && err.offset >= 0 && err.offset <= buf.length)) {
      throw new Error(`error offset ${err.offset} outside a buffer of ${buf.length} bytes`);
    }
  });
});

// ---- messages --------------------------------------------------------------------------------------

const headerArb = fc.record({
  type: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.nat({ max: 0xffffffff }), pid: fc.nat({ max: 0xffffffff }),
});
const messageArb = fc.record({ header: headerArb, payload: bytes(0, 48) });

test('messages round-trip: several per datagram, any header, payloads of any length', (t) => {
  fuzz(t, 'netlink.messages.roundtrip', [fc.array(messageArb, { maxLength: 6 })], (messages) => {
    const datagram = Buffer.concat(messages.map((m) => encodeMessage(m.header, m.payload)));
    const decoded = decodeMessages(datagram);
    if (decoded.length !== messages.length) throw new Error(`${decoded.length} messages, sent ${messages.length}`);
    decoded.forEach((d, i) => {
      const m = messages[i]!;
      const { type, flags, seq, pid } = d.header;
      same({ type, flags, seq, pid }, m.header, `header ${i}`);
      if (d.header.length !== NLMSG_HDRLEN + m.payload.length || !d.payload.equals(m.payload)) throw new Error(`payload ${i} differs`);
    });
  });
});

/** NLMSG_ERROR payloads as the kernel writes them: error, the request (whole or capped), extended-ack TLVs. */
const errorArb = fc.record({
  error: fc.integer({ min: -4095, max: 0 }), request: messageArb, capped: fc.boolean(),
  extack: fc.option(fc.record({
    message: fc.option(nulFreeString(60), { nil: undefined }), offset: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
    missingType: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }), cookie: fc.option(bytes(1, 20), { nil: undefined }),
  }), { nil: undefined }),
});

type ErrorCase = typeof errorArb extends fc.Arbitrary<infer T> ? T : never;

function encodeErrorPayload(e: ErrorCase): { payload: Buffer; flags: number } {
  const request = encodeMessage(e.request.header, e.request.payload);
  const echoed = e.capped ? request.subarray(0, NLMSG_HDRLEN) : request;
  const code = Buffer.alloc(4);
  code.writeInt32LE(e.error, 0);
  const w = new AttrWriter();
  if (e.extack?.message !== undefined) w.string(1, e.extack.message);
  if (e.extack?.offset !== undefined) w.u32(2, e.extack.offset);
  if (e.extack?.cookie !== undefined) w.bytes(3, e.extack.cookie);
  if (e.extack?.missingType !== undefined) w.u32(5, e.extack.missingType);
  const flags = (e.capped ? NLM_F_CAPPED : 0) | (e.extack ? NLM_F_ACK_TLVS : 0);
  return { payload: Buffer.concat([code, echoed, w.toBuffer()]), flags };
}

test('NLMSG_ERROR round-trips: error, the echoed request (capped or not), extended ack', (t) => {
  fuzz(t, 'netlink.error.roundtrip', [errorArb], (e) => {
    const { payload, flags } = encodeErrorPayload(e);
    const d = decodeError(payload, flags);
    if (d.error !== e.error) throw new Error(`error ${d.error}`);
    const h = encodeHeader({ ...e.request.header, length: NLMSG_HDRLEN + e.request.payload.length });
    if (!encodeHeader(d.request).equals(h)) throw new Error('request header differs');
    if (!e.capped && !d.requestPayload?.equals(e.request.payload)) throw new Error('echoed payload differs');
    same(d.extack, e.extack ?? {}, 'extended ack');
  });
});

test('garbage datagrams, NLMSG_ERROR and NLMSG_DONE payloads: NetlinkDecodeError or a result, never another throw', (t) => {
  const datagrams = fc.array(messageArb, { maxLength: 4 }).map((ms) => Buffer.concat(ms.map((m) => encodeMessage(m.header, m.payload))));
  const errors = errorArb.map((e) => encodeErrorPayload(e).payload);
  fuzz(t, 'netlink.messages.garbage', [garbage(fc.oneof(datagrams, errors)), fc.integer({ min: 0, max: 0xffff })], (buf, flags) => {
    const messages = onlyThrows(() => decodeMessages(buf), NetlinkDecodeError);
    for (const m of messages ?? []) {
      if (m.payload.length !== m.header.length - NLMSG_HDRLEN) throw new Error('payload length is not nlmsg_len less the header');
    }
    onlyThrows(() => decodeError(buf, flags), NetlinkDecodeError);
    onlyThrows(() => decodeDone(buf, flags), NetlinkDecodeError);
    onlyThrows(() => decodeExtAck(buf, Math.min(buf.length, flags & 0x1f)), NetlinkDecodeError);
  }, {
    examples: [
      // Found by this target: an echoed request claiming nlmsg_len ≥ 2^31 made NLMSG_ALIGN wrap negative (RangeError).
      [Buffer.from([0, 0, 0, 0, 0, 255, 255, 255, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 3, 0, 0, 0, 0, 0]) as Buffer, 0x3600],
    ],
  });
});

// ---- generic netlink -------------------------------------------------------------------------------

const familyArb = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }), name: nulFreeString(16), version: fc.nat({ max: 0xffffffff }),
  headerSize: fc.nat({ max: 0xffffffff }), maxAttr: fc.nat({ max: 0xffffffff }),
  ops: fc.array(fc.record({ id: fc.nat({ max: 0xffffffff }), flags: fc.nat({ max: 0xffffffff }) }), { maxLength: 5 }),
  groups: fc.uniqueArray(fc.record({ name: nulFreeString(16), id: fc.nat({ max: 0xffffffff }) }), { maxLength: 4, selector: (g) => g.name }),
  cmd: fc.integer({ min: 0, max: 255 }), genlVersion: fc.integer({ min: 0, max: 255 }),
});

type FamilyCase = typeof familyArb extends fc.Arbitrary<infer T> ? T : never;

function encodeFamily(f: FamilyCase): Buffer {
  const w = new AttrWriter();
  w.u16(CTRL_ATTR_FAMILY_ID, f.id).string(CTRL_ATTR_FAMILY_NAME, f.name).u32(CTRL_ATTR_VERSION, f.version)
    .u32(CTRL_ATTR_HDRSIZE, f.headerSize).u32(CTRL_ATTR_MAXATTR, f.maxAttr);
  w.nest(CTRL_ATTR_OPS, () => f.ops.forEach((op, i) => w.nest(i + 1, () => w.u32(1, op.id).u32(2, op.flags))));
  w.nest(CTRL_ATTR_MCAST_GROUPS, () => f.groups.forEach((g, i) => w.nest(i + 1, () => w.string(1, g.name).u32(2, g.id))));
  return encodeGenl({ cmd: f.cmd, version: f.genlVersion }, w.toBuffer());
}

test('genetlink header and the controller\'s family reply round-trip', (t) => {
  fuzz(t, 'genl.family.roundtrip', [familyArb], (f) => {
    const payload = encodeFamily(f);
    const h = decodeGenl(payload);
    if (h.cmd !== f.cmd || h.version !== f.genlVersion) throw new Error('genlmsghdr differs');
    const d = decodeFamily(payload);
    const want = { id: f.id, name: f.name, version: f.version, headerSize: f.headerSize, maxAttr: f.maxAttr, ops: f.ops, groups: [...f.groups.map((g) => [g.name, g.id])] };
    same({ ...d, groups: [...d.groups] }, want, 'family');
  });
});

test('garbage family replies: NetlinkDecodeError or a family, never another throw', (t) => {
  fuzz(t, 'genl.family.garbage', [garbage(familyArb.map(encodeFamily))], (buf) => {
    onlyThrows(() => decodeFamily(buf), NetlinkDecodeError);
  });
});

// ---- addresses -------------------------------------------------------------------------------------

test('IPv6 text in any valid form encodes to 16 bytes whose RFC 5952 text encodes back to them', (t) => {
  fuzz(t, 'bytes.ipv6.roundtrip', [fc.oneof(fc.ipV6(), bytes(16, 16).map(formatIPv6))], (text) => {
    const b = encodeIPv6(text);
    if (b.length !== 16) throw new Error(`${b.length} bytes`);
    const canonical = formatIPv6(b);
    if (!encodeIPv6(canonical).equals(b)) throw new Error(`${text} → ${canonical} does not read back`);
    if (formatIPv6(encodeIPv6(canonical)) !== canonical) throw new Error(`${canonical} is not stable`);
  });
});
