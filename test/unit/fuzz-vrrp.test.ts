// layer: tests (unit, fuzz)
// job: VRRP adverts, the IPv4 header and announcement frames under fast-check: valid adverts round-trip and pass
//      their own instance's receive checks; damaged datagrams give VrrpDecodeError or a drop reason, never another throw.
import test from 'ava';
import fc from 'fast-check';
import { formatIPv6 } from '../../src/bytes.js';
import { decodeAnnouncement, encodeGratuitousArp, encodeUnsolicitedNa, formatMac } from '../../src/vrrp/arp.js';
import {
  advertisementChecksum, decodeAdvertisement, decodeIpv4Header, encodeAdvertisement, encodeIpv4Header, VrrpDecodeError,
  type AdvertisementFields, type IpFamily,
} from '../../src/vrrp/packet.js';
import { checkAdvertisement, DROP_REASONS, parseIpv4Datagram, peekVrid, readDatagram, type ReceivePolicy } from '../../src/vrrp/receive.js';
import { bytes, fuzz, garbage, ipv4Arb, onlyThrows, same } from '../helpers/fuzz.js';

const ipv6Arb = bytes(16, 16).map(formatIPv6);

/** An advert as an instance sends it, with the datagram's source and destination. */
const advertArb = fc.constantFrom<IpFamily>(4, 6).chain((family) => fc.record({
  family: fc.constant(family),
  fields: fc.record({
    version: family === 6 ? fc.constant(3 as const) : fc.constantFrom(2 as const, 3 as const),
    type: fc.integer({ min: 0, max: 15 }),
    vrid: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    interval: fc.integer({ min: 0, max: 4095 }),
    authType: fc.integer({ min: 0, max: 255 }),
    authData: fc.option(bytes(8, 8), { nil: undefined }),
    addresses: fc.array(family === 4 ? ipv4Arb : ipv6Arb, { maxLength: 20 }),
  }).map((f): AdvertisementFields => ({
    version: f.version, type: f.type, vrid: f.vrid, priority: f.priority, addresses: f.addresses,
    advertIntervalCs: f.version === 2 ? (f.interval % 256) * 100 : f.interval,
    authType: f.version === 2 ? f.authType : 0,
    ...(f.version === 2 && f.authData ? { authData: f.authData } : {}),
  })),
  src: family === 4 ? ipv4Arb : ipv6Arb,
  dst: family === 4 ? ipv4Arb : ipv6Arb,
  ttl: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
}));
type AdvertCase = typeof advertArb extends fc.Arbitrary<infer T> ? T : never;

function encode(c: AdvertCase): Buffer {
  return encodeAdvertisement(c.fields, c.family, { src: c.src, dst: c.dst });
}

/** What a raw socket of the advert's family delivers: IPv4 with its header, IPv6 the payload alone. */
function datagramOf(c: AdvertCase): Buffer {
  const vrrp = encode(c);
  if (c.family === 6) return vrrp;
  return Buffer.concat([encodeIpv4Header({ src: c.src, dst: c.dst, payloadBytes: vrrp.length, id: c.id, ttl: c.ttl }), vrrp]);
}

test('adverts round-trip: v2 and v3, IPv4 and IPv6, every field; the checksum verifies', (t) => {
  fuzz(t, 'vrrp.advert.roundtrip', [advertArb], (c) => {
    const buf = encode(c);
    const d = decodeAdvertisement(buf, c.family);
    const { checksum, authData, ...rest } = d;
    const { authData: sentAuth, ...fields } = c.fields;
    same(rest, { ...fields, type: c.fields.type ?? 1 }, 'advert');
    if (c.fields.version === 2) same(authData, sentAuth ?? Buffer.alloc(8), 'authentication data');
    if (checksum !== buf.readUInt16BE(6)) throw new Error('checksum field not reported as it was');
    if (advertisementChecksum(buf, c.fields.version, c.family, { src: c.src, dst: c.dst }) !== 0) throw new Error('checksum does not verify');
  });
});

test('the IPv4 header round-trips, and a datagram passes the receive checks of the instance that sent it', (t) => {
  fuzz(t, 'vrrp.receive.roundtrip', [advertArb], (c) => {
    const data = datagramOf(c);
    const read = readDatagram(c.family, data, { src: c.src, dst: c.dst, ttl: c.ttl });
    if (!read.ok) throw new Error(`dropped before the checks: ${read.message}`);
    same([read.datagram.src, read.datagram.dst, read.datagram.ttl], [c.src, c.dst, c.ttl], 'IP layer');
    if (c.family === 4) {
      const h = decodeIpv4Header(data);
      same([h.headerBytes, h.totalLength, h.id, h.ttl, h.protocol], [20, data.length, c.id, c.ttl, 112], 'IPv4 header');
    }
    const policy: ReceivePolicy = {
      family: c.family, version: c.fields.version, vrid: c.fields.vrid, advertIntervalCs: c.fields.advertIntervalCs,
      addresses: [...c.fields.addresses].reverse(), unicast: true,
      ...(c.fields.authType === 1 ? { authData: c.fields.authData ?? Buffer.alloc(8) } : {}),
    };
    const result = checkAdvertisement(policy, read.datagram);
    const sane = c.fields.type === 1 && (c.fields.version === 3 || c.fields.authType <= 1);
    const distinct = new Set(c.fields.addresses).size === c.fields.addresses.length;
    if (sane && distinct && !result.ok) throw new Error(`dropped its own advert: ${result.reason} ${result.message}`);
    if (!sane && result.ok) throw new Error('accepted an advert of another type or auth type');
  });
});

test('garbage datagrams: VrrpDecodeError from the decoders, a drop with a known reason from the receive path, nothing else', (t) => {
  const policyArb = advertArb.map((c): ReceivePolicy => ({
    family: c.family, version: c.fields.version, vrid: c.fields.vrid, advertIntervalCs: c.fields.advertIntervalCs,
    addresses: c.fields.addresses, unicast: c.ttl % 2 === 0, ...(c.fields.authData ? { authData: c.fields.authData } : {}),
  }));
  fuzz(t, 'vrrp.datagram.garbage', [garbage(fc.oneof(advertArb.map(datagramOf), advertArb.map(encode))), policyArb], (buf, policy) => {
    for (const family of [4, 6] as const) onlyThrows(() => decodeAdvertisement(buf, family), VrrpDecodeError);
    onlyThrows(() => decodeIpv4Header(buf), VrrpDecodeError);
    peekVrid(buf);
    const src = policy.family === 4 ? '192.0.2.1' : 'fe80::1';
    const dst = policy.family === 4 ? '224.0.0.18' : 'ff02::12';
    const read = policy.family === 4 ? parseIpv4Datagram(buf) : readDatagram(6, buf, { src, dst, ttl: 255 });
    if (!read.ok) {
      if (!DROP_REASONS.includes(read.reason)) throw new Error(`unknown drop reason ${read.reason}`);
      return;
    }
    const result = checkAdvertisement(policy, read.datagram);
    if (!result.ok && !DROP_REASONS.includes(result.reason)) throw new Error(`unknown drop reason ${result.reason}`);
  });
});

const macArb = bytes(6, 6);

test('gratuitous ARP and unsolicited NA frames decode to what was announced; any other frame is undefined, never a throw', (t) => {
  fuzz(t, 'vrrp.announce.roundtrip', [macArb, ipv4Arb, ipv6Arb, fc.boolean()], (mac, v4, v6, router) => {
    same(decodeAnnouncement(encodeGratuitousArp(mac, v4)), { kind: 'garp', mac: formatMac(mac), address: v4, linkAddress: formatMac(mac) }, 'gratuitous ARP');
    same(decodeAnnouncement(encodeUnsolicitedNa(mac, v6, { router })), { kind: 'na', mac: formatMac(mac), address: v6, linkAddress: formatMac(mac) }, 'neighbour advertisement');
  });
  const frames = fc.oneof(fc.tuple(macArb, ipv4Arb).map(([m, a]) => encodeGratuitousArp(m, a)), fc.tuple(macArb, ipv6Arb).map(([m, a]) => encodeUnsolicitedNa(m, a)));
  fuzz(t, 'vrrp.announce.garbage', [garbage(frames)], (frame) => {
    decodeAnnouncement(frame);
  });
});
