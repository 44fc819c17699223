// layer: tests (unit tier)
// job: gratuitous ARP and unsolicited NA frames byte for byte as keepalived sends them, and their decoding.
import test from 'ava';
import { decodeAnnouncement, encodeGratuitousArp, encodeUnsolicitedNa, formatMac, parseMac } from '../../src/vrrp/arp.js';
import { frame, keepalivedCapture } from '../helpers/vrrp-fixtures.js';

const mac = parseMac(keepalivedCapture.mac);

test('a gratuitous ARP is keepalived\'s frame: broadcast request, sender = target = the VIP', (t) => {
  t.is(encodeGratuitousArp(mac, '123.30.175.40').toString('hex'), frame('garp').toString('hex'));
  t.deepEqual(decodeAnnouncement(frame('garp')), { kind: 'garp', mac: keepalivedCapture.mac, address: '123.30.175.40', linkAddress: keepalivedCapture.mac });
});

test('an unsolicited NA is keepalived\'s frame: to ff02::1 from the VIP, Override, target link-layer option, checksum', (t) => {
  t.is(encodeUnsolicitedNa(mac, 'fd00:77::100').toString('hex'), frame('unsolicitedNa').toString('hex'));
  t.deepEqual(decodeAnnouncement(frame('unsolicitedNa')), { kind: 'na', mac: keepalivedCapture.mac, address: 'fd00:77::100', linkAddress: keepalivedCapture.mac });
  const router = encodeUnsolicitedNa(mac, 'fd00:77::100', { router: true });
  t.is(router[14 + 40 + 4], 0xa0, 'R and O flags');
  t.not(router.readUInt16BE(14 + 40 + 2), frame('unsolicitedNa').readUInt16BE(14 + 40 + 2), 'the checksum covers the flags');
});

test('decodeAnnouncement ignores other frames; MAC text round trips', (t) => {
  t.is(decodeAnnouncement(frame('v2PassMulticast')), undefined);
  t.is(decodeAnnouncement(Buffer.alloc(5)), undefined);
  const reply = Buffer.from(frame('garp'));
  reply[14 + 27] = 1; // target address differs from the sender: an ordinary ARP, not gratuitous
  t.is(decodeAnnouncement(reply), undefined);
  t.is(formatMac(parseMac('0A:0b:0c:0d:0e:0F')), '0a:0b:0c:0d:0e:0f');
  t.throws(() => parseMac('0a:0b'), { instanceOf: TypeError });
});
