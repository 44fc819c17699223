// layer: tests (unit)
// job: ipset elements (text ↔ entry, wire encode ↔ listing decode), the error vocabulary, and the list/save text.
import test from 'ava';
import { AttrWriter } from '../../src/netlink/attr.js';
import { NLA_F_NESTED } from '../../src/netlink/constants.js';
import { decodeListMessage, encodeNfgenmsg } from '../../src/ipset/codec.js';
import {
  IPSET_ATTR_ADT, IPSET_ATTR_FAMILY, IPSET_ATTR_PROTOCOL, IPSET_ATTR_REVISION, IPSET_ATTR_SETNAME, IPSET_ATTR_TYPENAME,
  IPSET_CMD_ADD, IPSET_CMD_CREATE, IPSET_CMD_DEL, IPSET_CMD_RENAME, IPSET_CMD_SWAP,
} from '../../src/ipset/constants.js';
import {
  encodeEntryData, entryMismatch, formatEntry, parseEntry, parseIPv4, toWireEntry, type IpsetEntry,
} from '../../src/ipset/entry.js';
import { IpsetError, ipsetErrorCode, ipsetErrorMeaning } from '../../src/ipset/errors.js';
import { formatListing, formatSave } from '../../src/ipset/format.js';
import { fixture } from '../helpers/ipset-fixtures.js';

test('element text parses as ipset writes it and formats back the same', (t) => {
  const cases: [string, IpsetEntry][] = [
    ['10.1.2.3', { address: '10.1.2.3' }],
    ['10.0.0.0/8', { address: '10.0.0.0', cidr: 8 }],
    ['2001:db8::/32', { address: '2001:db8::', cidr: 32 }],
    ['10.1.2.3,tcp:80', { address: '10.1.2.3', port: 80, protocol: 'tcp' }],
    ['2001:db8::1,udp:53', { address: '2001:db8::1', port: 53, protocol: 'udp' }],
    ['10.1.2.3,icmp:8/0', { address: '10.1.2.3', port: 0x800, protocol: 'icmp' }],
    ['10.1.2.3,sctp:9', { address: '10.1.2.3', port: 9, protocol: 'sctp' }],
  ];
  for (const [text, entry] of cases) {
    t.deepEqual(parseEntry(text), entry, text);
    t.is(formatEntry(entry), text);
  }
  t.deepEqual(parseEntry('10.1.2.3,443'), { address: '10.1.2.3', port: 443, protocol: 'tcp' });
  t.is(formatEntry({ address: '10.1.2.3', cidr: 32 }), '10.1.2.3');
});

test('bad elements are refused naming the field, before anything is sent', (t) => {
  t.throws(() => parseEntry('10.1.2.300'), { instanceOf: TypeError, message: /^address: not an IPv4 or IPv6 address/ });
  t.throws(() => parseEntry('010.1.2.3'), { message: /^address:/ });
  t.throws(() => parseEntry('fe80::1%eth0'), { message: /^address:/ });
  t.throws(() => parseEntry('10.0.0.0/33'), { instanceOf: RangeError, message: /^cidr: not an integer in 0…32: 33/ });
  t.throws(() => parseEntry('10.0.0.0/x'), { message: /^cidr: not a number/ });
  t.throws(() => parseEntry('10.1.2.3,tcp:70000'), { message: /^port:/ });
  t.throws(() => parseEntry('10.1.2.3,foo:1'), { message: /^protocol: unknown protocol "foo"/ });
  t.throws(() => toWireEntry({ address: '10.1.2.3', timeoutSec: 2147484 }), { message: /^timeoutSec: not an integer in 0…2147483/ });
  t.throws(() => toWireEntry({ address: '10.1.2.3', comment: 'x'.repeat(256) }), { message: /^comment: 256 bytes, at most 255/ });
  t.throws(() => toWireEntry({ address: '10.1.2.3', protocol: 'udp' }), { message: /^protocol: given without a port/ });
});

test('parseIPv4 is strict like node:net (no leading zeros, four parts, 0…255)', (t) => {
  t.is(parseIPv4('10.1.2.3'), 0x0a010203);
  t.is(parseIPv4('255.255.255.255'), 0xffffffff);
  t.is(parseIPv4('0.0.0.0'), 0);
  for (const bad of ['1.2.3', '1.2.3.4.5', '1.2.3.256', '01.2.3.4', '1..2.3', '1.2.3.', '', 'a.b.c.d', ' 1.2.3.4']) t.is(parseIPv4(bad), -1, bad);
});

/** A LIST reply message holding `entries` as the kernel lays them out. */
function listMessage(entries: IpsetEntry[]): Buffer {
  const w = new AttrWriter();
  w.u8(IPSET_ATTR_PROTOCOL, 7).string(IPSET_ATTR_SETNAME, 's').string(IPSET_ATTR_TYPENAME, 'hash:ip,port').u8(IPSET_ATTR_FAMILY, 2).u8(IPSET_ATTR_REVISION, 7);
  const adt = Buffer.concat(entries.map((e) => encodeEntryData(toWireEntry(e))));
  w.bytes(IPSET_ATTR_ADT | NLA_F_NESTED, adt);
  return Buffer.concat([encodeNfgenmsg(), w.toBuffer()]);
}

test('element encode → listing decode round trips every field', (t) => {
  const entries: IpsetEntry[] = [
    { address: '10.1.2.3' },
    { address: '10.0.0.0', cidr: 8, timeoutSec: 9, nomatch: true },
    { address: '2001:db8::1', port: 53, protocol: 'udp', timeoutSec: 300, comment: 'dns abuse' },
    { address: '192.0.2.1', port: 0x0300, protocol: 'icmp' },
    { address: '::ffff:192.0.2.1', cidr: 128, comment: 'ünïcode' },
  ];
  const { members, info } = decodeListMessage(listMessage(entries));
  t.deepEqual(members, entries);
  t.like(info, { name: 's', type: 'hash:ip,port', family: 'inet', revision: 7, counters: false, comment: false });
});

test('entries that do not fit a set are named with the kernel code for it', (t) => {
  t.like(entryMismatch('hash:ip', 'inet', toWireEntry({ address: '2001:db8::1' })), { errno: 4109 });
  t.like(entryMismatch('hash:net', 'inet6', toWireEntry({ address: '10.0.0.0', cidr: 8 })), { errno: 4110 });
  t.like(entryMismatch('hash:ip', 'inet', toWireEntry({ address: '10.0.0.0', cidr: 8 })), { errno: 4102, why: 'hash:ip holds single addresses; a network needs a hash:net set' });
  t.like(entryMismatch('hash:ip,port', 'inet', toWireEntry({ address: '10.0.0.1' })), { errno: 4102 });
  t.like(entryMismatch('hash:net', 'inet', toWireEntry({ address: '10.0.0.1', port: 1 })), { errno: 4102 });
  t.is(entryMismatch('hash:ip', 'inet', toWireEntry({ address: '10.0.0.1', cidr: 32 })), undefined);
  t.is(entryMismatch('hash:net', 'inet', toWireEntry({ address: '10.0.0.0', cidr: 8 })), undefined);
});

test('error codes have ipset\'s names and words, per command where ipset words them per command', (t) => {
  t.is(ipsetErrorCode(4352), 'IPSET_ERR_HASH_FULL');
  t.is(ipsetErrorCode(2), 'ENOENT');
  t.deepEqual(ipsetErrorMeaning(4103, IPSET_CMD_ADD), { kind: 'element-exists', reason: "Element cannot be added to the set: it's already added" });
  t.deepEqual(ipsetErrorMeaning(4103, IPSET_CMD_DEL), { kind: 'element-missing', reason: "Element cannot be deleted from the set: it's not added" });
  t.deepEqual(ipsetErrorMeaning(4101, IPSET_CMD_RENAME).kind, 'set-exists');
  t.deepEqual(ipsetErrorMeaning(4101, IPSET_CMD_SWAP).kind, 'no-such-set');
  t.deepEqual(ipsetErrorMeaning(17, IPSET_CMD_CREATE), { kind: 'set-exists', reason: 'Set cannot be created: set with the same name already exists' });
  t.deepEqual(ipsetErrorMeaning(4109, IPSET_CMD_ADD), { kind: 'wrong-family', reason: 'An IPv4 address is expected, but not received' });
  t.deepEqual(ipsetErrorMeaning(4999, IPSET_CMD_ADD), { kind: 'kernel', reason: 'Undecoded error 4999 received from kernel' });
  t.deepEqual(ipsetErrorMeaning(12, IPSET_CMD_ADD), { kind: 'kernel', reason: 'Kernel error received: ENOMEM' });
  const err = new IpsetError(4352, IPSET_CMD_ADD, { setName: 'bans', entry: '10.1.2.3', extack: { message: 'full' } });
  t.like(err, { errno: 4352, code: 'IPSET_ERR_HASH_FULL', syscall: 'IPSET_CMD_ADD bans 10.1.2.3', kind: 'set-full', setName: 'bans', entry: '10.1.2.3' });
  t.is(err.message, 'IPSET_CMD_ADD bans 10.1.2.3 failed: IPSET_ERR_HASH_FULL (Hash is full, cannot add more elements; full)');
});

test('a listing prints as `ipset list` and `ipset save` print it', (t) => {
  const listing = { ...decodeListMessage(fixture('reply-list-hash-ip-inet6').subarray(16)).info!, members: decodeListMessage(fixture('reply-list-hash-ip-inet6').subarray(16)).members };
  t.is(formatListing(listing), [
    'Name: bl6',
    'Type: hash:ip',
    'Revision: 6',
    'Header: family inet6 hashsize 4096 maxelem 100000 timeout 600 counters comment bucketsize 12 initval 0xacbf751a',
    'Size in memory: 446',
    'References: 0',
    'Number of entries: 1',
    'Members:',
    '2001:db8::1 timeout 299 packets 0 bytes 0 comment "hello"',
  ].join('\n'));
  t.is(formatSave([listing]), [
    'create bl6 hash:ip family inet6 hashsize 4096 maxelem 100000 timeout 600 counters comment bucketsize 12 initval 0xacbf751a',
    'add bl6 2001:db8::1 timeout 299 packets 0 bytes 0 comment "hello"',
  ].join('\n'));
  t.false(formatListing(listing, { headerOnly: true }).includes('Members:'));
});
