// layer: tests (unit)
// job: the master's capture path without root: the BPF program on crafted packets (in an interpreter), the IP/UDP header decoder.
import test from 'ava';
import { encodeIPv6 } from '../../src/bytes.js';
import { decodeUdpPacket, syncCaptureFilter } from '../../src/conns/index.js';
import { binding } from '../../src/native/binding.js';
import { BPF, ipv4Udp, ipv6Udp, runBpf } from '../helpers/conns-bpf.js';

const payload = Buffer.from('0005001008010000', 'hex');
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const OUT = BPF.PACKET_OUTGOING;
const HOST = 0;

test('the interpreter\'s constants are the kernel\'s (as the addon reads them from the headers)', (t) => {
  const k = binding().constants;
  for (const [name, value] of Object.entries(BPF)) t.is(k[name], value, name);
});

test('IPv4: UDP to the group and a sync port, outgoing, is kept; everything else is dropped', (t) => {
  const filter = syncCaptureFilter({ port: 8848, ports: 2, group: '224.0.0.81', outgoingOnly: true }, BPF);
  const run = (data: Buffer, pktType: number = OUT, protocol = ETH_P_IP): number => runBpf(filter, { data, protocol, pktType });
  t.true(run(ipv4Udp({ destPort: 8848, payload })) > 0);
  t.true(run(ipv4Udp({ destPort: 8849, payload })) > 0, 'the second sync thread\'s port');
  t.is(run(ipv4Udp({ destPort: 8850, payload })), 0, 'past the sync ports');
  t.is(run(ipv4Udp({ destPort: 8847, payload })), 0);
  t.is(run(ipv4Udp({ destPort: 8848, payload }), HOST), 0, 'incoming (another master\'s stream)');
  t.is(run(ipv4Udp({ destPort: 8848, payload, to: '224.0.0.82' })), 0, 'another group');
  t.is(run(ipv4Udp({ destPort: 8848, payload, protocol: 6 })), 0, 'TCP');
  t.is(run(ipv4Udp({ destPort: 8848, payload, fragmentOffset: 100 })), 0, 'a later fragment');
  t.true(run(ipv4Udp({ destPort: 8848, payload, options: Buffer.from([1, 1, 1, 0]) })) > 0, 'IP options move the UDP header');
  t.is(run(ipv4Udp({ destPort: 8848, payload }), OUT, 0x0806), 0, 'ARP');
});

test('IPv6 groups: the destination is compared word by word; IPv4 packets are dropped', (t) => {
  const group = 'ff02::8:8848';
  const filter = syncCaptureFilter({ port: 8848, group, outgoingOnly: false }, BPF);
  const run = (data: Buffer, protocol = ETH_P_IPV6): number => runBpf(filter, { data, protocol, pktType: HOST });
  const from = encodeIPv6('fd09::1');
  t.true(run(ipv6Udp({ from, to: encodeIPv6(group), destPort: 8848, payload })) > 0);
  t.is(run(ipv6Udp({ from, to: encodeIPv6('ff02::8:8849'), destPort: 8848, payload })), 0);
  t.is(run(ipv6Udp({ from, to: encodeIPv6(group), destPort: 8848, payload, nextHeader: 44 })), 0, 'a fragment header');
  t.is(run(ipv4Udp({ destPort: 8848, payload }), ETH_P_IP), 0);
});

test('without a group every destination on the sync port is kept, both directions', (t) => {
  const filter = syncCaptureFilter({ port: 9000 }, BPF);
  t.true(runBpf(filter, { data: ipv4Udp({ destPort: 9000, payload, to: '10.9.0.2' }), protocol: ETH_P_IP, pktType: HOST }) > 0);
  t.true(runBpf(filter, { data: ipv6Udp({ from: encodeIPv6('fd09::1'), to: encodeIPv6('fd09::2'), destPort: 9000, payload }), protocol: ETH_P_IPV6, pktType: OUT }) > 0);
});

test('decodeUdpPacket: the payload and addressing of IPv4 (with options) and IPv6; fragments, truncation and other protocols refused', (t) => {
  t.deepEqual(decodeUdpPacket(ipv4Udp({ destPort: 8848, payload, options: Buffer.from([1, 1, 1, 0]) })), { from: '10.9.0.1', to: '224.0.0.81', destPort: 8848, payload });
  const v6 = decodeUdpPacket(ipv6Udp({ from: encodeIPv6('fd09::1'), to: encodeIPv6('ff02::51'), destPort: 8849, payload }));
  t.like(v6, { from: 'fd09::1', to: 'ff02::51', destPort: 8849 });
  t.is(decodeUdpPacket(ipv4Udp({ destPort: 8848, payload, moreFragments: true })), 'not-sync');
  t.is(decodeUdpPacket(ipv4Udp({ destPort: 8848, payload, protocol: 6 })), 'not-sync');
  const whole = ipv4Udp({ destPort: 8848, payload });
  for (let n = 0; n < whole.length; n++) t.is(decodeUdpPacket(whole.subarray(0, n)), 'capture-truncated', `cut at ${n}`);
  t.is(decodeUdpPacket(Buffer.from([0x50, 0, 0, 0])), 'not-sync');
});
