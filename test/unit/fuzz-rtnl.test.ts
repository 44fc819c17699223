// layer: tests (unit, fuzz)
// job: rtnetlink links and addresses under fast-check: accepted address specs round-trip through RTM_NEWADDR, links
//      through RTM_NEWLINK; refused specs are TypeError/RangeError before any byte; damaged payloads give NetlinkDecodeError.
import test from 'ava';
import fc from 'fast-check';
import { encodeIPv6, formatIPv6 } from '../../src/bytes.js';
import { AttrWriter, NetlinkDecodeError } from '../../src/netlink/index.js';
import {
  decodeAddress, decodeIfAddrMsg, encodeAddressRequest, validateAddressSpec, type AddressSpec,
} from '../../src/rtnl/address.js';
import { decodeIfInfoMsg, decodeLink, encodeIfInfoMsg, formatMac } from '../../src/rtnl/link.js';
import {
  IFLA_ADDRESS, IFLA_BROADCAST, IFLA_CARRIER, IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINK, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU,
  IFLA_OPERSTATE, IFLA_PERM_ADDRESS, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, OPER_STATES, SCOPES,
} from '../../src/rtnl/constants.js';
import { bytes, fuzz, garbage, ipv4Arb, nulFreeString, onlyThrows, same } from '../helpers/fuzz.js';

const u32 = fc.nat({ max: 0xffffffff });

/** Address specs, mostly valid, with the edges iproute2 checks (label length, IPv6 labels, prefix range). */
const specArb: fc.Arbitrary<AddressSpec> = fc.record({
  address: fc.oneof(ipv4Arb, fc.ipV6(), fc.constantFrom('10.0.0.1%eth0', 'fe80::1%eth0', '', 'x')),
  prefixLength: fc.integer({ min: -1, max: 129 }), ifindex: fc.integer({ min: -1, max: 0x7fffffff }),
  label: nulFreeString(17), broadcast: ipv4Arb, scope: fc.constantFrom(...Object.keys(SCOPES), 'bogus') as fc.Arbitrary<keyof typeof SCOPES>,
  flags: u32,
}, { requiredKeys: ['address', 'ifindex'] });

test('addresses round-trip: accepted specs come back from RTM_NEWADDR as the kernel reports them', (t) => {
  fuzz(t, 'rtnl.address.roundtrip', [specArb], (spec) => {
    const family = onlyThrows(() => validateAddressSpec(spec), TypeError, RangeError);
    if (family === undefined) {
      onlyThrows(() => { encodeAddressRequest(spec); throw new Error('encoded a spec the validator refused'); }, TypeError, RangeError);
      return;
    }
    const got = decodeAddress(encodeAddressRequest(spec));
    const want = {
      family, ifindex: spec.ifindex, address: family === 6 ? formatIPv6(encodeIPv6(spec.address)) : spec.address,
      prefixLength: spec.prefixLength ?? (family === 4 ? 32 : 128), scope: spec.scope ?? 'global',
      flags: spec.flags === undefined ? 0 : spec.flags > 0xff ? spec.flags : spec.flags & 0xff,
      label: spec.label, broadcast: spec.broadcast,
    };
    same(got, want, 'address');
  });
});

const linkArb = fc.record({
  family: fc.integer({ min: 0, max: 255 }), type: fc.integer({ min: 0, max: 0xffff }), index: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  flags: u32, change: u32, name: nulFreeString(15),
  mac: fc.option(bytes(0, 20), { nil: undefined }), broadcast: fc.option(bytes(0, 20), { nil: undefined }), perm: fc.option(bytes(0, 20), { nil: undefined }),
  mtu: fc.option(u32, { nil: undefined }), link: fc.option(u32, { nil: undefined }), master: fc.option(u32, { nil: undefined }),
  operState: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }), kind: fc.option(nulFreeString(16), { nil: undefined }),
  carrier: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
});
type LinkCase = typeof linkArb extends fc.Arbitrary<infer T> ? T : never;

function encodeLink(l: LinkCase): Buffer {
  const w = new AttrWriter();
  w.string(IFLA_IFNAME, l.name);
  if (l.mac) w.bytes(IFLA_ADDRESS, l.mac);
  if (l.broadcast) w.bytes(IFLA_BROADCAST, l.broadcast);
  if (l.perm) w.bytes(IFLA_PERM_ADDRESS, l.perm);
  if (l.mtu !== undefined) w.u32(IFLA_MTU, l.mtu);
  if (l.link !== undefined) w.u32(IFLA_LINK, l.link);
  if (l.master !== undefined) w.u32(IFLA_MASTER, l.master);
  if (l.operState !== undefined) w.u8(IFLA_OPERSTATE, l.operState);
  if (l.kind !== undefined) w.nest(IFLA_LINKINFO, () => w.string(IFLA_INFO_KIND, l.kind!));
  if (l.carrier !== undefined) w.u8(IFLA_CARRIER, l.carrier);
  return Buffer.concat([encodeIfInfoMsg(l), w.toBuffer()]);
}

test('links round-trip: ifinfomsg and every attribute lvskit reads', (t) => {
  fuzz(t, 'rtnl.link.roundtrip', [linkArb], (l) => {
    const payload = encodeLink(l);
    same(decodeIfInfoMsg(payload), { family: l.family, type: l.type, index: l.index, flags: l.flags, change: l.change }, 'ifinfomsg');
    same(decodeLink(payload), {
      index: l.index, name: l.name, flags: l.flags, adminUp: (l.flags & IFF_UP) !== 0, lowerUp: (l.flags & IFF_LOWER_UP) !== 0,
      up: (l.flags & IFF_UP) !== 0 && (l.flags & IFF_RUNNING) !== 0, operState: OPER_STATES[l.operState ?? 0] ?? 'unknown', hardwareType: l.type,
      mac: formatMac(l.mac), broadcast: formatMac(l.broadcast), permanentMac: formatMac(l.perm), mtu: l.mtu, kind: l.kind, master: l.master,
      parent: l.link !== undefined && l.link !== l.index ? l.link : undefined, carrier: l.carrier === undefined ? undefined : l.carrier !== 0,
    }, 'link');
  });
});

test('garbage link and address payloads: NetlinkDecodeError or a decoded value, never another throw', (t) => {
  const valid = fc.oneof(linkArb.map(encodeLink), specArb.map((s) => { try { return encodeAddressRequest(s); } catch { return Buffer.alloc(8); } }));
  fuzz(t, 'rtnl.garbage', [garbage(valid)], (buf) => {
    onlyThrows(() => decodeLink(buf), NetlinkDecodeError);
    onlyThrows(() => decodeAddress(buf), NetlinkDecodeError);
    onlyThrows(() => decodeIfInfoMsg(buf), NetlinkDecodeError);
    onlyThrows(() => decodeIfAddrMsg(buf), NetlinkDecodeError);
  });
});
