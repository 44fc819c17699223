// layer: tests (unit)
// job: IPVS codec round trips for every attribute at its limits, decoding of older kernels' replies, and validation naming the field.
import test from 'ava';
import { decodeService, encodeService, encodeStats } from '../../src/ipvs/codec.js';
import { DEST_NEST_BYTES, decodeDestination, encodeDestinationNest, writeDestinationNest } from '../../src/ipvs/codec-dest.js';
import { decodeDaemon, encodeDaemon } from '../../src/ipvs/codec-config.js';
import * as K from '../../src/ipvs/constants.js';
import type { Destination, ServiceKey, ServiceSettings, Stats, SyncDaemon } from '../../src/ipvs/model.js';
import { IpvsValidationError, validateDaemon, validateService, validateServices, validateTimeouts } from '../../src/ipvs/validate.js';
import { AttrWriter, decodeAttrs, NetlinkDecodeError } from '../../src/netlink/index.js';

/** The payload of the single nest `w` holds. */
function nestPayload(w: AttrWriter): Buffer {
  const [nest] = decodeAttrs(w.toBuffer());
  if (!nest) throw new Error('nothing encoded');
  return nest.value;
}

const stats64: Stats = {
  width: 64, conns: 2n ** 40n, inPkts: 2n ** 33n, outPkts: 7n, inBytes: 2n ** 63n + 5n, outBytes: 1n, connsPerSec: 3n, inPktsPerSec: 4n,
  outPktsPerSec: 5n, inBytesPerSec: 6n, outBytesPerSec: 2n ** 32n,
};

/** A service as the kernel reports it: our encoding plus flags with HASHED set and statistics. */
function kernelService(svc: ServiceKey & ServiceSettings): Buffer {
  const w = new AttrWriter();
  w.bytes(0, nestPayload(encodeService(new AttrWriter(), svc)));
  const [plain] = decodeAttrs(w.toBuffer());
  const attrs = decodeAttrs(plain?.value ?? Buffer.alloc(0)).map((a) => {
    if (a.type !== K.IPVS_SVC_ATTR_FLAGS) return a;
    const v = Buffer.from(a.value);
    v.writeUInt32LE(v.readUInt32LE(0) | K.IP_VS_SVC_F_HASHED, 0);
    return { ...a, value: v };
  });
  const out = new AttrWriter();
  for (const a of attrs) out.bytes(a.type, a.value);
  encodeStats(out, K.IPVS_SVC_ATTR_STATS64, stats64);
  return out.toBuffer();
}

const services: (ServiceKey & ServiceSettings)[] = [
  { protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr' },
  { protocol: 'udp', address: '0.0.0.0', port: 0, scheduler: 'wrr', onePacket: true },
  { protocol: 'sctp', address: '255.255.255.255', port: 65535, scheduler: 'lblcr', persistence: { timeoutSec: 86400 * 31, prefixLength: 0 } },
  { protocol: 'tcp', address: '2001:db8::1', port: 443, scheduler: 'mh', schedulerFlags: ['mh-fallback', 'mh-port'], persistence: { timeoutSec: 1, prefixLength: 64 } },
  { protocol: 'udp', address: '10.0.0.1', port: 5060, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port', 'flag-3'], persistence: { timeoutSec: 300, prefixLength: 24, engine: 'sip' } },
  { protocol: 'tcp', address: '10.0.0.2', port: 80, scheduler: 'wlc', schedulerFlags: ['flag-1', 'flag-2'], persistence: { timeoutSec: 50, netmask: '255.0.255.0' } },
  { fwmark: 1, family: 4, scheduler: 'lc' },
  { fwmark: 0xffffffff, family: 6, scheduler: 'twos', persistence: { timeoutSec: 60, prefixLength: 128 } },
];

for (const svc of services) {
  test(`service round trip: ${JSON.stringify(svc)}`, (t) => {
    const decoded = decodeService(kernelService(svc));
    const { destinations, family, stats, ...rest } = decoded;
    t.deepEqual('fwmark' in svc ? { ...rest, family } : rest, svc);
    t.deepEqual(destinations, []);
    t.is(family, 'address' in svc ? (svc.address.includes(':') ? 6 : 4) : svc.family ?? 4);
    t.deepEqual(stats, stats64);
    t.is(decodeService(kernelService(svc), 0, undefined, { stats: false }).stats, undefined);
  });
}

/** A real server as the kernel reports it: ours plus connection counters and 32-bit statistics only (an older kernel). */
function kernelDestination(dest: Destination, extra: (w: AttrWriter) => void = () => undefined): Buffer {
  const w = new AttrWriter();
  for (const a of decodeAttrs(encodeDestinationNest(dest).subarray(4))) w.bytes(a.type, a.value);
  w.u32(K.IPVS_DEST_ATTR_ACTIVE_CONNS, 0xffffffff).u32(K.IPVS_DEST_ATTR_INACT_CONNS, 1).u32(K.IPVS_DEST_ATTR_PERSIST_CONNS, 2);
  extra(w);
  return w.toBuffer();
}

const destinations: Destination[] = [
  { address: '172.16.16.37', port: 80, forward: 'dr', weight: 10, upperThreshold: 0, lowerThreshold: 0 },
  { address: '172.16.16.38', port: 0, forward: 'nat', weight: 0, upperThreshold: 0xffffffff, lowerThreshold: 0xfffffffe },
  { address: '172.16.16.39', port: 65535, forward: 'nat', weight: 0x7fffffff, upperThreshold: 100, lowerThreshold: 10 },
  { address: '10.0.0.1', port: 80, forward: 'tun', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'none' } },
  { address: '10.0.0.2', port: 80, forward: 'tun', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } },
  { address: '2001:db8::10', port: 8080, forward: 'tun', weight: 3, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gre', port: 0, checksum: 'csum' } },
];

for (const dest of destinations) {
  test(`real server round trip: ${JSON.stringify(dest)}`, (t) => {
    const d = decodeDestination(kernelDestination(dest), 4);
    const { family, activeConns, inactiveConns, persistentConns, stats, ...rest } = d;
    t.deepEqual(rest, dest);
    t.is(family, dest.address.includes(':') ? 6 : 4);
    t.deepEqual([activeConns, inactiveConns, persistentConns], [0xffffffff, 1, 2]);
    t.is(stats, undefined);
  });
}

test('a real server from a kernel without the family, tunnel and 64-bit attributes decodes what is there', (t) => {
  const w = new AttrWriter();
  const address = Buffer.alloc(16);
  Buffer.from([10, 0, 0, 7]).copy(address);
  w.bytes(K.IPVS_DEST_ATTR_ADDR, address).be16(K.IPVS_DEST_ATTR_PORT, 80).u32(K.IPVS_DEST_ATTR_FWD_METHOD, K.IP_VS_CONN_F_TUNNEL)
    .u32(K.IPVS_DEST_ATTR_WEIGHT, 4).u32(K.IPVS_DEST_ATTR_U_THRESH, 0).u32(K.IPVS_DEST_ATTR_L_THRESH, 0)
    .u32(K.IPVS_DEST_ATTR_ACTIVE_CONNS, 5).u32(K.IPVS_DEST_ATTR_INACT_CONNS, 6).u32(K.IPVS_DEST_ATTR_PERSIST_CONNS, 7);
  encodeStats(w, K.IPVS_DEST_ATTR_STATS, { ...stats64, width: 32, conns: 9n, inPkts: 8n, outPkts: 7n, outBytesPerSec: 1n });
  const d = decodeDestination(w.toBuffer(), 4);
  t.deepEqual({ ...d, stats: undefined }, {
    address: '10.0.0.7', port: 80, family: 4, forward: 'tun', weight: 4, upperThreshold: 0, lowerThreshold: 0,
    activeConns: 5, inactiveConns: 6, persistentConns: 7, stats: undefined,
  });
  t.like(d.stats, { width: 32, conns: 9n, inBytes: 2n ** 63n + 5n, outBytesPerSec: 1n });
  t.is(decodeDestination(w.toBuffer(), 6).address, 'a00:7::', 'without IPVS_DEST_ATTR_ADDR_FAMILY the service family decides');
});

test('what cannot be decoded is an error naming it, never a guess', (t) => {
  const dest = (fwd: number): Buffer => kernelDestination({ address: '10.0.0.1', port: 80, forward: 'dr', weight: 1 }, (w) => w.u32(K.IPVS_DEST_ATTR_FWD_METHOD, fwd));
  t.throws(() => decodeDestination(dest(5), 4), { instanceOf: NetlinkDecodeError, message: /unknown forwarding method 5/ });
  const noWeight = new AttrWriter().bytes(K.IPVS_DEST_ATTR_ADDR, Buffer.alloc(16)).be16(K.IPVS_DEST_ATTR_PORT, 1).u32(K.IPVS_DEST_ATTR_FWD_METHOD, 0).toBuffer();
  t.throws(() => decodeDestination(noWeight, 4), { instanceOf: NetlinkDecodeError, message: /missing IPVS_DEST_ATTR_WEIGHT/ });
  const truncated = new AttrWriter().u16(K.IPVS_SVC_ATTR_AF, K.AF_INET).toBuffer().subarray(0, 6);
  t.throws(() => decodeService(truncated), { instanceOf: NetlinkDecodeError });
  const shortPort = new AttrWriter().u16(K.IPVS_SVC_ATTR_AF, K.AF_INET).u8(K.IPVS_SVC_ATTR_PORT, 1).toBuffer();
  t.throws(() => decodeService(shortPort), { instanceOf: NetlinkDecodeError, message: /expected 2 bytes for be16, got 1/ });
});

test('sync daemon round trip, IPv4 and IPv6 groups, and a kernel that sends only state, interface and sync id', (t) => {
  const cases: SyncDaemon[] = [
    { state: 'master', interface: 'eth0', syncId: 255, maxLength: 1472, group: '239.255.0.1', port: 65535, ttl: 255 },
    { state: 'backup', interface: 'eth1', syncId: 0, group: 'ff02::1:3', port: 8848 },
    { state: 'backup', interface: 'eth0', syncId: 7 },
  ];
  for (const d of cases) {
    const [nest] = decodeAttrs(encodeDaemon(new AttrWriter(), d).toBuffer());
    t.deepEqual(nest && decodeDaemon(nest), d);
  }
});

test('bad input is refused before any request, naming the field', (t) => {
  const base = { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' };
  const cases: [unknown, string][] = [
    [{ ...base, scheduler: 'fastest' }, 'service.scheduler: unknown scheduler "fastest" (one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos)'],
    [{ ...base, port: 65536 }, 'service.port: must be an integer in 0…65535, got 65536'],
    [{ ...base, port: -1 }, 'service.port: must be an integer in 0…65535, got -1'],
    [{ fwmark: 0, scheduler: 'rr' }, 'service.fwmark: must be an integer in 1…4294967295, got 0'],
    [{ ...base, address: '10.0.0.256' }, 'service.address: not an IPv4 or IPv6 address: "10.0.0.256"'],
    [{ ...base, protocol: 'icmp' }, 'service.protocol: unknown protocol "icmp" (one of tcp, udp, sctp)'],
    [{ ...base, destinations: [{ address: '10.0.1.1', port: 80, forward: 'dr', weight: -1 }] }, 'service.destinations[0].weight: must be an integer in 0…2147483647, got -1'],
    [{ ...base, destinations: [{ address: '2001:db8::1', port: 80, forward: 'dr', weight: 1 }] },
      'service.destinations[0].address: IPv6 real server in an IPv4 service needs forward "tun" (the kernel forwards mixed families only by tunnel)'],
    [{ ...base, persistence: { timeoutSec: 60, netmask: 'ffff::' } }, 'service.persistence.netmask: IPv6 address where IPv4 is required: ffff::'],
    [{ ...base, address: '2001:db8::1', persistence: { timeoutSec: 60, netmask: '255.255.255.0' } }, 'service.persistence.netmask: IPv6 services take prefixLength, not a dotted netmask'],
    [{ ...base, destinations: [{ address: '10.0.1.1', port: 80, forward: 'dr', weight: 1 }, { address: '10.0.1.1', port: 80, forward: 'nat', weight: 2 }] },
      'service.destinations[1]: real server 10.0.1.1:80 duplicates service.destinations[0]'],
    [{ ...base, schedulerFlags: ['mh-port'] }, 'service.schedulerFlags[0]: mh-port is a flag of the mh scheduler, not rr'],
    [{ ...base, onePacket: true }, 'service.onePacket: one-packet scheduling is only for UDP services'],
    [{ ...base, destinations: [{ address: '10.0.1.1', port: 80, forward: 'nat', weight: 1, upperThreshold: 5, lowerThreshold: 6 }] },
      'service.destinations[0].lowerThreshold: 6 is above upperThreshold 5'],
    [{ ...base, destinations: [{ address: '10.0.1.1', port: 80, forward: 'tun', weight: 1, tunnel: { type: 'gue' } }] },
      'service.destinations[0].tunnel.port: must be an integer in 1…65535, got undefined'],
    [{ ...base, destinations: [{ address: '10.0.1.1', port: 80, forward: 'dr', weight: 1, tunnel: { type: 'gre' } }] },
      'service.destinations[0].tunnel: tunnel settings need forward "tun" (forward is dr)'],
    [{ ...base, persistence: { timeoutSec: 60, engine: 'http' } }, 'service.persistence.engine: unknown persistence engine "http" (one of sip)'],
  ];
  for (const [input, message] of cases) {
    const err = t.throws(() => validateService(input), { instanceOf: IpvsValidationError });
    t.is(err?.message, message);
  }
  t.throws(() => validateDaemon({ state: 'master', interface: 'eth0', syncId: 1, group: '10.0.0.1' }), { message: 'daemon.group: not a multicast address: 10.0.0.1' });
  t.throws(() => validateDaemon({ state: 'master', interface: 'an-interface-name', syncId: 1 }), { message: /^daemon\.interface: must be an interface name of 1…15 characters/ });
  t.throws(() => validateTimeouts({}), { message: 'timeouts: give at least one of tcpSec, tcpFinSec, udpSec' });
  t.throws(() => validateServices({}), { message: 'services: must be an array of services' });
});

test('validation makes addresses and settings canonical, so plans compare like with like', (t) => {
  const v = validateService({ protocol: 'tcp', address: '2001:DB8:0:0::1', port: 80, scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'],
    persistence: { timeoutSec: 60 }, destinations: [{ address: '2001:0db8::0a', port: 80, forward: 'tun', weight: 1 }] });
  t.like(v, { address: '2001:db8::1', schedulerFlags: ['sh-fallback', 'sh-port'], persistence: { timeoutSec: 60, prefixLength: 128 } });
  t.deepEqual(v.destinations?.[0], { address: '2001:db8::a', port: 80, forward: 'tun', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'none' } });
});

test('writeDestinationNest writes every byte: into a dirty buffer it gives the same bytes as into a zeroed one', (t) => {
  const dests: Destination[] = [
    { address: '172.16.16.37', port: 80, forward: 'dr', weight: 10 },
    { address: '2001:db8::7', port: 443, forward: 'nat', weight: 0, upperThreshold: 100, lowerThreshold: 5 },
    { address: '10.0.0.9', port: 8080, forward: 'tun', weight: 65535, tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } },
  ];
  for (const dest of dests) {
    const dirty = Buffer.alloc(DEST_NEST_BYTES + 8, 0xff);
    writeDestinationNest(dirty, 4, dest);
    const reference = Buffer.alloc(DEST_NEST_BYTES);
    writeDestinationNest(reference, 0, dest);
    t.deepEqual(dirty.subarray(4, 4 + DEST_NEST_BYTES), reference, dest.address);
    t.deepEqual(dirty.subarray(0, 4), Buffer.alloc(4, 0xff), 'nothing written before');
    t.deepEqual(dirty.subarray(4 + DEST_NEST_BYTES), Buffer.alloc(4, 0xff), 'nothing written after');
    t.deepEqual(encodeDestinationNest(dest), reference);
  }
});
