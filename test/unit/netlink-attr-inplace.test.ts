// layer: unit tests (netlink codec)
// job: the attribute helpers every family shares, written once: in-place walk and header writes, lookup, required attributes (IPVS and ipset name theirs).
import test from 'ava';
import { encodeNfgenmsg, decodeTypeReply } from '../../src/ipset/codec.js';
import { IPSET_ATTR_FAMILY, IPSET_ATTR_PROTOCOL, IPSET_ATTR_TYPENAME } from '../../src/ipset/constants.js';
import { findNest as ipvsFindNest } from '../../src/ipvs/codec.js';
import { AttrWriter, decodeAttrs, findAttr, findNest, forEachAttr, requiredAttr, writeAttrHeader } from '../../src/netlink/attr.js';
import { NLA_F_NESTED } from '../../src/netlink/constants.js';
import { NetlinkDecodeError } from '../../src/netlink/errors.js';

/** A run with a repeated type, a nest, and an unpadded last attribute. */
function sample(): Buffer {
  const w = new AttrWriter();
  w.u32(1, 7).string(2, 'first').nest(3, (n) => n.u16(1, 80).u8(2, 6)).string(2, 'second').u8(4, 9);
  const bytes = w.toBuffer();
  return bytes.subarray(0, bytes.length - 3); // the u8's padding left out, as the kernel may
}

test('forEachAttr visits in place exactly what decodeAttrs decodes', (t) => {
  const buf = sample();
  const visited: [number, string][] = [];
  forEachAttr(buf, 0, buf.length, (type, at, length) => visited.push([type, buf.subarray(at, at + length).toString('hex')]));
  t.deepEqual(visited, decodeAttrs(buf).map((a) => [a.type, a.value.toString('hex')]));
  t.deepEqual(visited.map(([type]) => type), [1, 2, 3, 2, 4]);
  const nested = decodeAttrs(buf)[2];
  t.true(nested?.nested);
  t.is(nested?.offset, 20); // after the u32 (8 bytes) and 'first' (10, padded to 12)
});

test('forEachAttr is as strict as decodeAttrs: a short header, nla_len < 4, a run past the end', (t) => {
  const buf = sample();
  const cases: [Buffer, RegExp][] = [
    [Buffer.concat([buf.subarray(0, 8), Buffer.alloc(2)]), /2 trailing bytes, too short for an attribute header/],
    [Buffer.from([2, 0, 6, 0]), /attribute type 6 has nla_len 2 < 4/],
    [buf.subarray(0, 12), /attribute type 2 \(nla_len 10\) runs past the end \(4 bytes left\)/],
  ];
  for (const [bad, message] of cases) {
    t.throws(() => forEachAttr(bad, 0, bad.length, () => undefined), { instanceOf: NetlinkDecodeError, message });
    t.throws(() => decodeAttrs(bad), { instanceOf: NetlinkDecodeError, message });
  }
});

test('findAttr and findNest take the last of a type; findNest gives the payload span', (t) => {
  const buf = sample();
  t.is(findAttr(decodeAttrs(buf), 2)?.value.toString('latin1'), 'second\0');
  t.is(findAttr(decodeAttrs(buf), 9), undefined);
  const span = findNest(buf, 3);
  t.truthy(span);
  t.deepEqual(decodeAttrs(buf, span?.start, span?.end).map((a) => a.type), [1, 2]);
  t.is(findNest(buf, 9), undefined);
  // IPVS's findNest is the same lookup after the 4-byte genlmsghdr.
  const genl = Buffer.concat([Buffer.from([1, 1, 0, 0]), buf]);
  const inGenl = ipvsFindNest(genl, 3);
  t.deepEqual(inGenl, span && { start: span.start + 4, end: span.end + 4 });
});

test('writeAttrHeader writes the bytes AttrWriter writes and returns where the payload goes', (t) => {
  const b = Buffer.alloc(12);
  const at = writeAttrHeader(b, 0, 12, 5 | NLA_F_NESTED);
  t.is(at, 4);
  t.is(writeAttrHeader(b, at, 8, 1), 8);
  b.writeUInt32BE(0x0a000001, 8);
  const w = new AttrWriter().nest(5, (n) => n.be32(1, 0x0a000001));
  t.deepEqual(b, w.toBuffer());
});

test('requiredAttr names the missing attribute, and the reply when given; each layer keeps its words', (t) => {
  t.is(requiredAttr(0, 'X_ATTR'), 0);
  const err = t.throws(() => requiredAttr(undefined, 'IPVS_DEST_ATTR_WEIGHT', 8), { instanceOf: NetlinkDecodeError, message: /missing IPVS_DEST_ATTR_WEIGHT/ });
  t.is(err?.offset, 8);
  const w = new AttrWriter().u8(IPSET_ATTR_PROTOCOL, 7).string(IPSET_ATTR_TYPENAME, 'hash:ip').u8(IPSET_ATTR_FAMILY, 2);
  const reply = Buffer.concat([encodeNfgenmsg(), w.toBuffer()]);
  t.throws(() => decodeTypeReply(reply), { instanceOf: NetlinkDecodeError, message: /IPSET_CMD_TYPE: missing IPSET_ATTR_REVISION/ });
});
