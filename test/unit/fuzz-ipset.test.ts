// layer: tests (unit, fuzz)
// job: ipset under fast-check: elements round-trip from an add request's data into a listing, set headers from a
//      create request; element text and static_blacklist files round-trip; damaged replies give NetlinkDecodeError,
//      bad text TypeError/RangeError or a located problem, never another throw.
import test from 'ava';
import fc from 'fast-check';
import { encodeIPv6, formatIPv6 } from '../../src/bytes.js';
import { formatBlacklist, parseBlacklist } from '../../src/ipset/blacklist-file.js';
import {
  decodeEchoedLineno, decodeHeaderReply, decodeListMessage, decodeProtocolReply, decodeTypeReply, encodeCreateRequest,
  encodeEntryRequest, encodeNfgenmsg, type CreateSpec,
} from '../../src/ipset/codec.js';
import { IPSET_ATTR_ADT, IPSET_ATTR_DATA, IPSET_ATTR_PROTOCOL, IPSET_ATTR_SETNAME } from '../../src/ipset/constants.js';
import { encodeEntryData, formatEntry, IP_PROTOCOLS, parseEntry, protocolName, toWireEntry, type IpsetEntry } from '../../src/ipset/entry.js';
import { AttrWriter, NetlinkDecodeError, NLA_F_NESTED } from '../../src/netlink/index.js';
import { bytes, fuzz, garbage, ipv4Arb, onlyThrows, same } from '../helpers/fuzz.js';

const setNameArb = fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 31 }).filter((s) => !s.includes('\0'));
const entryArb: fc.Arbitrary<IpsetEntry> = fc.boolean().chain((v6) => fc.record({
  address: v6 ? fc.ipV6() : ipv4Arb,
  cidr: fc.integer({ min: 0, max: v6 ? 128 : 32 }),
  port: fc.integer({ min: 0, max: 65535 }),
  protocol: fc.oneof(fc.constantFrom(...Object.keys(IP_PROTOCOLS) as (keyof typeof IP_PROTOCOLS)[]), fc.integer({ min: 0, max: 255 })),
  timeoutSec: fc.integer({ min: 0, max: 2147483 }),
  comment: fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0')),
  nomatch: fc.constant(true),
}, { requiredKeys: ['address'] }).filter((e) => e.protocol === undefined || e.port !== undefined));

/** A LIST reply message: the set's name and these elements, each as the add request's IPSET_ATTR_DATA. */
function listReply(name: string, entries: readonly IpsetEntry[]): Buffer {
  const w = new AttrWriter();
  w.u8(IPSET_ATTR_PROTOCOL, 7).string(IPSET_ATTR_SETNAME, name);
  w.nest(IPSET_ATTR_ADT, () => entries.forEach((e, i) => w.bytes(IPSET_ATTR_DATA | NLA_F_NESTED, encodeEntryData(toWireEntry(e), i).subarray(4))));
  return Buffer.concat([encodeNfgenmsg(), w.toBuffer()]);
}

/** An entry as the kernel lists it back: canonical address, the protocol by name, nomatch only when set. */
function listed(e: IpsetEntry): IpsetEntry {
  const out: IpsetEntry = { ...e, address: e.address.includes(':') ? formatIPv6(encodeIPv6(e.address)) : e.address };
  if (e.port !== undefined) out.protocol = protocolName(toWireEntry(e).proto ?? 6);
  if (!e.nomatch) delete out.nomatch;
  return out;
}

test('elements round-trip: an add request\'s element data, listed back, is the element', (t) => {
  fuzz(t, 'ipset.entry.roundtrip', [setNameArb, fc.array(entryArb, { maxLength: 4 })], (name, entries) => {
    const chunk = decodeListMessage(listReply(name, entries));
    same(chunk.name, name, 'set name');
    same(chunk.members, entries.map(listed), 'members');
    for (const e of entries) if (!encodeEntryRequest(7, name, toWireEntry(e)).length) throw new Error('empty request');
  });
});

const createArb: fc.Arbitrary<CreateSpec> = fc.record({
  name: setNameArb, type: fc.constantFrom('hash:ip', 'hash:net', 'hash:ip,port'), family: fc.constantFrom('inet' as const, 'inet6' as const),
  revision: fc.integer({ min: 0, max: 255 }), hashSize: fc.nat({ max: 0xffffffff }), maxElements: fc.nat({ max: 0xffffffff }),
  timeoutSec: fc.nat({ max: 0xffffffff }), counters: fc.boolean(), comment: fc.boolean(),
}, { requiredKeys: ['name', 'type', 'family', 'revision'] });

test('set headers round-trip: a create request read as the listing\'s header, IPSET_CMD_HEADER and IPSET_CMD_TYPE replies', (t) => {
  fuzz(t, 'ipset.header.roundtrip', [createArb], (spec) => {
    const payload = encodeCreateRequest(7, spec);
    const { info } = decodeListMessage(payload);
    same(info, {
      name: spec.name, type: spec.type, family: spec.family, revision: spec.revision, hashSize: spec.hashSize, maxElements: spec.maxElements,
      timeoutSec: spec.timeoutSec, counters: Boolean(spec.counters), comment: Boolean(spec.comment), forceadd: false, skbinfo: false,
    }, 'set info');
    same(decodeHeaderReply(payload), { name: spec.name, type: spec.type, family: spec.family, revision: spec.revision }, 'header reply');
    same(decodeTypeReply(payload), { type: spec.type, family: spec.family, revision: spec.revision, revisionMin: spec.revision }, 'type reply');
    same(decodeProtocolReply(payload), { protocol: 7, protocolMin: 7 }, 'protocol reply');
  });
});

test('garbage replies: NetlinkDecodeError or a decoded value; an echoed line number is a number or undefined', (t) => {
  const valid = fc.oneof(createArb.map((s) => encodeCreateRequest(7, s)), fc.tuple(setNameArb, fc.array(entryArb, { maxLength: 3 })).map(([n, e]) => listReply(n, e)));
  fuzz(t, 'ipset.replies.garbage', [garbage(valid)], (buf) => {
    onlyThrows(() => decodeListMessage(buf), NetlinkDecodeError);
    onlyThrows(() => decodeHeaderReply(buf), NetlinkDecodeError);
    onlyThrows(() => decodeTypeReply(buf), NetlinkDecodeError);
    onlyThrows(() => decodeProtocolReply(buf), NetlinkDecodeError);
    const lineno = decodeEchoedLineno(buf);
    if (lineno !== undefined && !Number.isInteger(lineno)) throw new Error(`line number ${lineno}`);
  });
});

test('element text round-trips through formatEntry and parseEntry; bad text is TypeError or RangeError', (t) => {
  const textEntry = entryArb.map(({ timeoutSec: _t, comment: _c, nomatch: _n, ...e }) => e)
    .filter((e) => e.port === undefined || ![1, 58].includes(toWireEntry(e).proto ?? 6) || e.port < 0x10000);
  fuzz(t, 'ipset.text.roundtrip', [textEntry, fc.string({ maxLength: 40 })], (e, junk) => {
    const text = formatEntry(e);
    const back = parseEntry(text);
    if (formatEntry(back) !== text) throw new Error(`${text} reads back as ${formatEntry(back)}`);
    same(toWireEntry(back), toWireEntry({ ...e, ...(e.cidr === (e.address.includes(':') ? 128 : 32) ? { cidr: undefined } : {}) }), `wire form of ${text}`);
    onlyThrows(() => parseEntry(junk), TypeError, RangeError);
    onlyThrows(() => parseEntry(text.slice(0, junk.length % (text.length + 1)) + junk), TypeError, RangeError);
  });
});

test('static_blacklist files: what formatBlacklist writes reads back; any text gives entries and located problems, never a throw', (t) => {
  const lineArb = fc.oneof(
    entryArb.map((e) => formatEntry({ address: e.address, ...(e.cidr ? { cidr: e.cidr } : {}) })),
    fc.string({ maxLength: 30 }), fc.constantFrom('', '# comment', '10.0.0.0/0', '1.2.3.4 5.6.7.8', '::1/129', ' 10.1.2.3/8 # x', '\r'),
  );
  fuzz(t, 'ipset.blacklist.file', [fc.array(lineArb, { maxLength: 12 })], (lines) => {
    const text = lines.join('\n');
    const parsed = parseBlacklist(text, 'static_blacklist');
    for (const p of parsed.problems) {
      const line = text.split('\n')[p.line - 1];
      if (line === undefined || p.column < 1 || line.slice(p.column - 1, p.column - 1 + p.text.length) !== p.text) {
        throw new Error(`problem ${JSON.stringify(p)} is not at its place`);
      }
    }
    const again = parseBlacklist(formatBlacklist(parsed.entries, ['written by the fuzzer']), 'again');
    same(again.problems, [], 'problems of a written blacklist');
    same(again.entries.map(({ line: _l, ...e }) => e), parsed.entries.map(({ line: _l, ...e }) => e), 'entries read back');
  });
});

test('a listing with random bytes for element data never throws anything but NetlinkDecodeError', (t) => {
  fuzz(t, 'ipset.members.garbage', [setNameArb, fc.array(bytes(0, 40), { maxLength: 4 })], (name, datas) => {
    const w = new AttrWriter();
    w.string(IPSET_ATTR_SETNAME, name).nest(IPSET_ATTR_ADT, () => datas.forEach((d) => w.bytes(IPSET_ATTR_DATA | NLA_F_NESTED, d)));
    onlyThrows(() => decodeListMessage(Buffer.concat([encodeNfgenmsg(), w.toBuffer()])), NetlinkDecodeError);
  }, { scale: 0.5 });
});
