// layer: tests (unit tier)
// job: the VRRP codec against keepalived's own bytes (v2 PASS, v3 IPv4/IPv6, unicast), round trips, checksums, and the IPv4 header.
import test from 'ava';
import {
  advertisementChecksum, decodeAdvertisement, decodeIpv4Header, encodeAdvertisement, encodeIpv4Header, encodePassword,
  internetChecksum, VrrpDecodeError, type Advertisement,
} from '../../src/vrrp/packet.js';
import { ipv4Datagram, keepalivedCapture, vrrpOf } from '../helpers/vrrp-fixtures.js';

const { ipv4: KA, peer: PEER, linkLocal: LL } = keepalivedCapture;

test('decodes keepalived\'s VRRPv2 advert with auth_type PASS (password truncated to 8 bytes)', (t) => {
  const { vrrp } = vrrpOf('v2PassMulticast');
  const advert = decodeAdvertisement(vrrp, 4);
  t.like(advert, {
    version: 2, type: 1, vrid: 52, priority: 100, advertIntervalCs: 100, authType: 1,
    addresses: ['123.30.175.40', '123.30.175.41'],
  });
  t.is(advert.authData?.toString('latin1'), 'secret12');
  t.is(advertisementChecksum(vrrp, 2, 4), 0, 'a valid checksum sums to zero');
});

test('encodes the same VRRPv2 bytes keepalived sends, for priority 100 and priority 0', (t) => {
  for (const [name, priority] of [['v2PassMulticast', 100], ['v2PassMulticastPriority0', 0]] as const) {
    const { vrrp } = vrrpOf(name);
    const ours = encodeAdvertisement({
      version: 2, vrid: 52, priority, advertIntervalCs: 100, authType: 1, authData: encodePassword('secret12345'),
      addresses: ['123.30.175.40', '123.30.175.41'],
    }, 4);
    t.is(ours.toString('hex'), vrrp.toString('hex'), name);
  }
});

test('the IPv4 header is byte for byte keepalived\'s (TOS 0xc0, TTL 255, id, checksum)', (t) => {
  const datagram = ipv4Datagram('v2PassMulticast');
  const header = encodeIpv4Header({ src: KA, dst: '224.0.0.18', payloadBytes: datagram.length - 20, id: 1 });
  t.is(header.toString('hex'), datagram.subarray(0, 20).toString('hex'));
  t.deepEqual(decodeIpv4Header(datagram), {
    headerBytes: 20, tos: 0xc0, totalLength: 44, id: 1, ttl: 255, protocol: 112, src: KA, dst: '224.0.0.18',
  });
  const unicast = ipv4Datagram('v3Ipv4Unicast');
  t.is(encodeIpv4Header({ src: KA, dst: PEER, payloadBytes: unicast.length - 20, id: 1 }).toString('hex'), unicast.subarray(0, 20).toString('hex'));
});

test('VRRPv3 over IPv4: 5 centiseconds, checksum over the pseudo-header with the multicast group', (t) => {
  const { vrrp, src, dst } = vrrpOf('v3Ipv4Multicast');
  const advert = decodeAdvertisement(vrrp, 4);
  t.like(advert, { version: 3, vrid: 53, priority: 150, advertIntervalCs: 5, authType: 0, addresses: ['123.30.175.42'] });
  t.is(advert.authData, undefined);
  const ours = encodeAdvertisement({ version: 3, vrid: 53, priority: 150, advertIntervalCs: 5, authType: 0, addresses: ['123.30.175.42'] }, 4, { src, dst });
  t.is(ours.toString('hex'), vrrp.toString('hex'));
  // The same bytes under another destination do not check: the pseudo-header is covered.
  t.not(advertisementChecksum(vrrp, 3, 4, { src, dst: PEER }), 0);
});

test('VRRPv3 unicast: keepalived puts the peer (not the group) in the pseudo-header', (t) => {
  for (const [name, priority] of [['v3Ipv4Unicast', 90], ['v3Ipv4UnicastPriority0', 0]] as const) {
    const { vrrp, src, dst } = vrrpOf(name);
    t.is(dst, PEER);
    t.is(advertisementChecksum(vrrp, 3, 4, { src, dst }), 0, name);
    const ours = encodeAdvertisement({ version: 3, vrid: 56, priority, advertIntervalCs: 100, authType: 0, addresses: ['123.30.175.44', '123.30.175.45'] }, 4, { src: KA, dst: PEER });
    t.is(ours.toString('hex'), vrrp.toString('hex'), name);
  }
});

test('VRRPv2 unicast with a 3-byte password, zero padded', (t) => {
  const { vrrp } = vrrpOf('v2PassUnicast');
  const ours = encodeAdvertisement({ version: 2, vrid: 55, priority: 90, advertIntervalCs: 100, authType: 1, authData: encodePassword('abc'), addresses: ['123.30.175.43'] }, 4);
  t.is(ours.toString('hex'), vrrp.toString('hex'));
  t.is(encodePassword('abc').toString('hex'), '6162630000000000');
});

test('VRRPv3 over IPv6: addresses in configured order, checksum over the IPv6 pseudo-header', (t) => {
  const { vrrp, src, dst, ttl } = vrrpOf('v3Ipv6Multicast');
  t.is(ttl, 255);
  const advert = decodeAdvertisement(vrrp, 6);
  t.like(advert, { version: 3, vrid: 54, priority: 200, advertIntervalCs: 100, addresses: ['fd00:77::100', 'fe80::77:100'] });
  t.is(advertisementChecksum(vrrp, 3, 6, { src, dst }), 0, 'the kernel (IPV6_CHECKSUM) computed what we verify');
  const ours = encodeAdvertisement({ version: 3, vrid: 54, priority: 200, advertIntervalCs: 100, authType: 0, addresses: ['fd00:77::100', 'fe80::77:100'] }, 6, { src: LL, dst: 'ff02::12' });
  t.is(ours.toString('hex'), vrrp.toString('hex'));
});

test('round trips: every field survives encode → decode, v2 and v3, both families', (t) => {
  const cases: Array<[Omit<Advertisement, 'checksum' | 'type'>, 4 | 6]> = [
    [{ version: 2, vrid: 1, priority: 255, advertIntervalCs: 25500, authType: 0, authData: Buffer.alloc(8), addresses: ['10.0.0.1'] }, 4],
    [{ version: 3, vrid: 255, priority: 1, advertIntervalCs: 4095, authType: 0, addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] }, 4],
    [{ version: 3, vrid: 7, priority: 0, advertIntervalCs: 1, authType: 0, addresses: ['2001:db8::1', 'fe80::1'] }, 6],
    [{ version: 3, vrid: 9, priority: 100, advertIntervalCs: 100, authType: 0, addresses: [] }, 4],
  ];
  for (const [fields, family] of cases) {
    const pseudo = family === 4 ? { src: '192.0.2.1', dst: '224.0.0.18' } : { src: 'fe80::1', dst: 'ff02::12' };
    const bytes = encodeAdvertisement(fields, family, pseudo);
    const back = decodeAdvertisement(bytes, family);
    t.like(back, { ...fields, type: 1 });
    t.is(advertisementChecksum(bytes, fields.version, family, pseudo), 0);
  }
});

test('the v3 interval keeps its 4 reserved bits zero; v2 refuses intervals that are not whole seconds', (t) => {
  const bytes = encodeAdvertisement({ version: 3, vrid: 1, priority: 1, advertIntervalCs: 0xffff, authType: 0, addresses: [] }, 4, { src: '1.1.1.1', dst: '224.0.0.18' });
  t.is(bytes.readUInt16BE(4), 0x0fff);
  t.throws(() => encodeAdvertisement({ version: 2, vrid: 1, priority: 1, advertIntervalCs: 150, authType: 0, addresses: [] }, 4), { instanceOf: RangeError });
  t.throws(() => encodeAdvertisement({ version: 3, vrid: 1, priority: 1, advertIntervalCs: 100, authType: 0, addresses: [] }, 4), { message: /needs the source and destination/ });
  t.throws(() => encodeAdvertisement({ version: 2, vrid: 1, priority: 1, advertIntervalCs: 100, authType: 0, addresses: [] }, 6), { message: /IPv4 only/ });
});

test('decode names what is wrong: truncated, trailing bytes, unknown version, v2 over IPv6', (t) => {
  const { vrrp } = vrrpOf('v2PassMulticast');
  const err = (buf: Buffer, family: 4 | 6 = 4): VrrpDecodeError => t.throws(() => decodeAdvertisement(buf, family), { instanceOf: VrrpDecodeError })!;
  t.like(err(vrrp.subarray(0, 7)), { reason: 'truncated', message: 'vrrp header too short. 7 and expect at least 8' });
  t.like(err(vrrp.subarray(0, 20)), { reason: 'truncated' });
  t.like(err(Buffer.concat([vrrp, Buffer.alloc(1)])), { reason: 'length', message: 'Received packet length mismatch against expected. 25 and expect 24' });
  const v4 = Buffer.from(vrrp);
  v4[0] = 0x41;
  t.like(err(v4), { reason: 'version' });
  t.like(err(vrrp, 6), { reason: 'version' });
  t.like(t.throws(() => decodeIpv4Header(Buffer.alloc(10)))!, { reason: 'truncated' });
  const v6header = Buffer.from(ipv4Datagram('v2PassMulticast'));
  v6header[0] = 0x65;
  t.like(t.throws(() => decodeIpv4Header(v6header))!, { reason: 'ip-header' });
});

test('internetChecksum handles odd lengths split across buffers like one buffer', (t) => {
  const data = Buffer.from('0102030405060708090a0b', 'hex');
  t.is(internetChecksum([data.subarray(0, 3), data.subarray(3, 6), data.subarray(6)]), internetChecksum([data]));
  t.is(internetChecksum([Buffer.from('45000073000040004011', 'hex'), Buffer.from('0000c0a80001c0a800c7', 'hex')]), 0xb861); // RFC 1071 style example (Wikipedia IPv4 header)
});
