// layer: tests (unit)
// job: rtnetlink codecs byte for byte against what iproute2 sends, and decoding of what the kernel returns.
import test from 'ava';
import { encodeMessage, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkDecodeError, AttrWriter } from '../../src/netlink/index.js';
import { decodeAddress, encodeAddressRequest, validateAddressSpec } from '../../src/rtnl/address.js';
import { decodeLink, encodeIfInfoMsg, formatMac } from '../../src/rtnl/link.js';
import {
  IFA_F_NODAD, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, IFLA_ADDRESS, IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MTU,
  IFLA_OPERSTATE, RTM_DELADDR, RTM_NEWADDR,
} from '../../src/rtnl/constants.js';

/** Hex dump lines as `strace -e write=FD` prints them, to bytes. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

const SEQ = 0x6b07dcc1;

// Captured with: strace -e trace=sendmsg -e write=3 ip addr add 10.1.2.3/24 dev d0 label d0:2   (d0 = ifindex 3)
const ipAddrAddV4 = hex(`
  34 00 00 00 14 00 05 06  c1 dc 07 6b 00 00 00 00
  02 18 00 00 03 00 00 00  08 00 02 00 0a 01 02 03
  09 00 03 00 64 30 3a 32  00 00 00 00 08 00 01 00
  0a 01 02 03`);
// ip -6 addr add 2001:db8::5/64 dev d0 nodad
const ipAddrAddV6 = hex(`
  40 00 00 00 14 00 05 06  c1 dc 07 6b 00 00 00 00
  0a 40 02 00 03 00 00 00  14 00 02 00 20 01 0d b8
  00 00 00 00 00 00 00 00  00 00 00 05 14 00 01 00
  20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 05`);
// ip -6 addr add fe80::5/64 dev d0 nodad preferred_lft 0   (keepalived's link-local on an IPv6 VMAC: deprecated); seq as above
const ipAddrAddDeprecated = hex(`
  54 00 00 00 14 00 05 06  c1 dc 07 6b 00 00 00 00
  0a 40 02 00 03 00 00 00  14 00 02 00 fe 80 00 00
  00 00 00 00 00 00 00 00  00 00 00 05 14 00 01 00
  fe 80 00 00 00 00 00 00  00 00 00 00 00 00 00 05
  14 00 06 00 00 00 00 00  ff ff ff ff 00 00 00 00
  00 00 00 00`);
// ip addr del 10.1.2.3/24 dev d0 label d0:2
const ipAddrDelV4 = hex(`
  34 00 00 00 15 00 05 00  c1 dc 07 6b 00 00 00 00
  02 18 00 00 03 00 00 00  08 00 02 00 0a 01 02 03
  09 00 03 00 64 30 3a 32  00 00 00 00 08 00 01 00
  0a 01 02 03`);

const addFlags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;

test('RTM_NEWADDR with a label is byte for byte what `ip addr add ... label` sends', (t) => {
  const payload = encodeAddressRequest({ ifindex: 3, address: '10.1.2.3', prefixLength: 24, label: 'd0:2' });
  t.deepEqual(encodeMessage({ type: RTM_NEWADDR, flags: addFlags, seq: SEQ }, payload), ipAddrAddV4);
});

test('IPv6 RTM_NEWADDR with nodad is byte for byte what `ip -6 addr add ... nodad` sends', (t) => {
  const payload = encodeAddressRequest({ ifindex: 3, address: '2001:db8::5', prefixLength: 64, flags: IFA_F_NODAD });
  t.deepEqual(encodeMessage({ type: RTM_NEWADDR, flags: addFlags, seq: SEQ }, payload), ipAddrAddV6);
});

test('IPv6 RTM_NEWADDR with preferred_lft 0 (IFA_CACHEINFO) is byte for byte what `ip -6 addr add ... nodad preferred_lft 0` sends', (t) => {
  const payload = encodeAddressRequest({ ifindex: 3, address: 'fe80::5', prefixLength: 64, flags: IFA_F_NODAD, preferredLifetimeS: 0 });
  t.deepEqual(encodeMessage({ type: RTM_NEWADDR, flags: addFlags, seq: SEQ }, payload), ipAddrAddDeprecated);
  t.throws(() => validateAddressSpec({ ifindex: 3, address: 'fe80::5', preferredLifetimeS: -1 }), { instanceOf: RangeError, message: /preferredLifetimeS: -1/ });
});

test('RTM_DELADDR is byte for byte what `ip addr del` sends', (t) => {
  const payload = encodeAddressRequest({ ifindex: 3, address: '10.1.2.3', prefixLength: 24, label: 'd0:2' });
  t.deepEqual(encodeMessage({ type: RTM_DELADDR, flags: NLM_F_REQUEST | NLM_F_ACK, seq: SEQ }, payload), ipAddrDelV4);
});

test('a kernel RTM_NEWADDR decodes to the address with its label', (t) => {
  // The kernel's reply carries the same ifaddrmsg and attributes; the request payload is one.
  const a = decodeAddress(ipAddrAddV4.subarray(16));
  t.deepEqual(a, { family: 4, ifindex: 3, address: '10.1.2.3', prefixLength: 24, label: 'd0:2', scope: 'global', flags: 0 });
  const v6 = decodeAddress(ipAddrAddV6.subarray(16));
  t.deepEqual(v6, { family: 6, ifindex: 3, address: '2001:db8::5', prefixLength: 64, scope: 'global', flags: IFA_F_NODAD });
});

test('address specs are checked before anything is sent, naming the field', (t) => {
  t.throws(() => validateAddressSpec({ ifindex: 3, address: '10.1.2.300' }), { instanceOf: TypeError, message: /^address:/ });
  t.throws(() => validateAddressSpec({ ifindex: 3, address: '10.1.2.3', prefixLength: 33 }), { instanceOf: RangeError, message: /^prefixLength:/ });
  t.throws(() => validateAddressSpec({ ifindex: 3, address: '2001:db8::1', label: 'eth0:1' }), { message: /^label: IPv6/ });
  t.throws(() => validateAddressSpec({ ifindex: 3, address: '10.0.0.1', label: 'a-very-long-label:1' }), { message: /^label:/ });
  t.throws(() => validateAddressSpec({ ifindex: 0, address: '10.0.0.1' }), { message: /^ifindex:/ });
  t.throws(() => validateAddressSpec({ ifindex: 1, address: '10.0.0.1', scope: 'galaxy' as never }), { message: /^scope:/ });
  t.is(validateAddressSpec({ ifindex: 1, address: '10.0.0.1' }), 4);
});

function linkPayload(flags: number, attrs: (w: AttrWriter) => void): Buffer {
  const w = new AttrWriter();
  attrs(w);
  return Buffer.concat([encodeIfInfoMsg({ index: 7, type: 1, flags }), w.toBuffer()]);
}

test('a link decodes with name, MAC, MTU, kind, oper state and the up test keepalived uses', (t) => {
  const payload = linkPayload(IFF_UP | IFF_RUNNING | IFF_LOWER_UP, (w) => {
    w.string(IFLA_IFNAME, 'eth1');
    w.bytes(IFLA_ADDRESS, Buffer.from([0x02, 0x00, 0x5e, 0x00, 0x01, 0x34]));
    w.u32(IFLA_MTU, 1500);
    w.u8(IFLA_OPERSTATE, 6);
    w.nest(IFLA_LINKINFO, (n) => n.string(IFLA_INFO_KIND, 'veth'));
  });
  const link = decodeLink(payload);
  t.like(link, { index: 7, name: 'eth1', mac: '02:00:5e:00:01:34', mtu: 1500, operState: 'up', kind: 'veth', up: true, adminUp: true, lowerUp: true, hardwareType: 1 });
  const down = decodeLink(linkPayload(IFF_UP, (w) => w.string(IFLA_IFNAME, 'eth1')));
  t.false(down.up);
  t.true(down.adminUp);
});

test('malformed link payloads give NetlinkDecodeError, not a crash', (t) => {
  t.throws(() => decodeLink(Buffer.alloc(8)), { instanceOf: NetlinkDecodeError });
  t.throws(() => decodeLink(linkPayload(0, (w) => w.u32(IFLA_MTU, 1))), { instanceOf: NetlinkDecodeError, message: /IFLA_IFNAME/ });
  const badMtu = linkPayload(0, (w) => { w.string(IFLA_IFNAME, 'x'); w.u16(IFLA_MTU, 1); });
  t.throws(() => decodeLink(badMtu), { instanceOf: NetlinkDecodeError });
  t.is(formatMac(Buffer.alloc(0)), undefined);
});
