// layer: tests (kernel tier, root)
// job: the addon against the real kernel: sockets in namespaces, raw IPv4/IPv6 over veth, packet capture with BPF, EAGAIN, ENOBUFS.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { ErrnoError } from '../../src/errors.js';
import { binding } from '../../src/native/binding.js';
import { openSocket, type MessageInfo, type OpenSocketOptions, type Socket } from '../../src/native/socket.js';
import { createNetns, createVethPair, kernelTierUnavailable } from '../helpers/netns.js';

const k = binding().constants as Readonly<Record<string, number>>;
const K = (name: string): number => {
  const value = k[name];
  if (value === undefined) throw new Error(`no constant ${name}`);
  return value;
};

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (native-socket): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.skip : test;

const VRRP = 112;

/** Opens a socket that is closed in teardown (before its namespace is deleted). */
function open(t: ExecutionContext, options: OpenSocketOptions): Socket {
  const socket = openSocket(options);
  t.teardown(() => socket.close());
  return socket;
}

/** The next message that passes `accept`, or a rejection after `timeoutMs`. */
function nextMessage(socket: Socket, accept: (data: Buffer, info: MessageInfo) => boolean = () => true,
  timeoutMs = 3000): Promise<[Buffer, MessageInfo]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off('message', onMessage); reject(new Error('no message in time')); }, timeoutMs);
    function onMessage(data: Buffer, info: MessageInfo): void {
      if (!accept(data, info)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve([Buffer.from(data), info]);
    }
    socket.on('message', onMessage);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A /16-free random octet so concurrent tests never share addresses. */
const octet = (): number => 1 + (randomBytes(1)[0]! % 250);

function netnsOfAllThreads(): string[] {
  return readdirSync('/proc/self/task').map((tid) => readlinkSync(`/proc/self/task/${tid}/ns/net`));
}

ktest('a socket opened in a namespace lives there; the process never moves', async (t) => {
  const ns = await createNetns(t);
  const address = `10.203.${octet()}.${octet()}`;
  await ns.ip('addr', 'add', `${address}/32`, 'dev', 'lo');
  const before = { self: readlinkSync('/proc/self/ns/net'), thread: readlinkSync('/proc/thread-self/ns/net') };
  const inside = open(t, { family: 'inet', type: 'dgram', protocol: 0, netns: ns.name });
  const byPath = open(t, { family: 'inet', type: 'dgram', protocol: 0, netns: ns.path });
  t.is(readlinkSync('/proc/self/ns/net'), before.self);
  t.is(readlinkSync('/proc/thread-self/ns/net'), before.thread);
  t.true(netnsOfAllThreads().every((link) => link === before.self), 'every thread stays in the original namespace');
  // The address exists only in the namespace: the namespaced sockets can bind it, a host socket cannot.
  inside.bind({ family: 'inet', address, port: 0 });
  byPath.bind({ family: 'inet', address, port: 0 });
  const host = open(t, { family: 'inet', type: 'dgram', protocol: 0 });
  t.like(t.throws(() => host.bind({ family: 'inet', address })) as unknown as Record<string, unknown>,
    { code: 'EADDRNOTAVAIL', syscall: 'bind' });
  const received = nextMessage(inside);
  await byPath.send(Buffer.from('inside'), inside.address());
  const [data, info] = await received;
  t.is(data.toString(), 'inside');
  t.like(info.from, { family: 'inet', address });
});

ktest('a missing namespace is ENOENT from open; a file that is no netns is EINVAL from setns', (t) => {
  const before = readlinkSync('/proc/thread-self/ns/net');
  const missing = t.throws(() => openSocket({ family: 'inet', type: 'dgram', protocol: 0, netns: `lvkt-missing-${randomBytes(4).toString('hex')}` }));
  t.like(missing as unknown as Record<string, unknown>, { name: 'ErrnoError', errno: 2, code: 'ENOENT', syscall: 'open' });
  t.true(missing instanceof ErrnoError && missing instanceof Error);
  for (const path of ['/proc/self/ns/uts', '/etc/hostname']) {
    const wrong = t.throws(() => openSocket({ family: 'netlink', protocol: K('NETLINK_ROUTE'), netns: path }));
    t.like(wrong as unknown as Record<string, unknown>, { errno: 22, code: 'EINVAL', syscall: 'setns' }, path);
    t.true(wrong instanceof ErrnoError, path);
  }
  t.is(readlinkSync('/proc/thread-self/ns/net'), before);
});

ktest('raw IPv4 protocol 112 crosses a veth pair with TTL 255, unicast and multicast', async (t) => {
  const [a, b] = [await createNetns(t), await createNetns(t)];
  const net = `10.${octet()}.${octet()}`;
  const veth = await createVethPair(a, b, { addressesA: [`${net}.1/24`], addressesB: [`${net}.2/24`] });
  const receiver = open(t, { family: 'inet', protocol: VRRP, netns: b.name });
  receiver.setReceiveTtl(true).setReceivePacketInfo(true).joinMulticastIPv4('224.0.0.18', veth.b.ifindex);
  const sender = open(t, { family: 'inet', protocol: VRRP, netns: a.name });
  sender.setTtl(255).setMulticastInterfaceIPv4(veth.a.ifindex).setMulticastTtl(255).setMulticastLoop(false);
  const payload = (data: Buffer): string => data.subarray((data[0]! & 0x0f) * 4).toString();

  const unicast = nextMessage(receiver, (data) => payload(data) === 'unicast advert');
  await sender.send(Buffer.from('unicast advert'), { family: 'inet', address: `${net}.2` });
  const [data, info] = await unicast;
  t.is(data[0]! >> 4, 4, 'raw IPv4 sockets see the IP header');
  t.is(data[8], 255);
  t.is(data[9], VRRP);
  t.like(info, { ttl: 255, ifindex: veth.b.ifindex, dst: `${net}.2`, truncated: false });
  t.like(info.from, { family: 'inet', address: `${net}.1` });

  const multicast = nextMessage(receiver, (d) => payload(d) === 'multicast advert');
  await sender.send([Buffer.from('multicast '), Buffer.from('advert')], { family: 'inet', address: '224.0.0.18' });
  const [, mInfo] = await multicast;
  t.like(mInfo, { ttl: 255, ifindex: veth.b.ifindex, dst: '224.0.0.18' });
  t.like(mInfo.from, { family: 'inet', address: `${net}.1` });
});

ktest('SO_TIMESTAMPNS: the kernel\'s receive time comes with the datagram, on the monotonic clock, before a busy event loop gets to it', async (t) => {
  const [a, b] = [await createNetns(t), await createNetns(t)];
  const net = `10.${octet()}.${octet()}`;
  await createVethPair(a, b, { addressesA: [`${net}.1/24`], addressesB: [`${net}.2/24`] });
  const receiver = open(t, { family: 'inet', protocol: VRRP, netns: b.name });
  receiver.setReceiveTimestamps(true);
  const sender = open(t, { family: 'inet', protocol: VRRP, netns: a.name });
  const stamped = nextMessage(receiver, (data) => data.subarray((data[0]! & 0x0f) * 4).toString() === 'stamped');
  const sentNs = Number(process.hrtime.bigint());
  await sender.send(Buffer.from('stamped'), { family: 'inet', address: `${net}.2` });
  // Keep the loop busy: the datagram waits in the socket for 200 ms before JS can see it.
  const busyUntil = performance.now() + 200;
  while (performance.now() < busyUntil) { /* the event loop is blocked */ }
  const [, info] = await stamped;
  const deliveredNs = Number(process.hrtime.bigint());
  t.true(info.receivedMonoNs !== undefined, 'a timestamp with the datagram');
  const rx = info.receivedMonoNs!;
  t.true(rx >= sentNs - 1e6 && rx <= deliveredNs, `received at ${rx}, sent at ${sentNs}, delivered at ${deliveredNs}`);
  t.true(deliveredNs - rx >= 150e6, `the stamp is the arrival, ${((deliveredNs - rx) / 1e6).toFixed(1)} ms before delivery`);

  const plain = open(t, { family: 'inet', protocol: VRRP, netns: b.name });
  const unstamped = nextMessage(plain, (data) => data.subarray((data[0]! & 0x0f) * 4).toString() === 'plain');
  await sender.send(Buffer.from('plain'), { family: 'inet', address: `${net}.2` });
  t.is((await unstamped)[1].receivedMonoNs, undefined, 'no timestamp unless asked');
});

ktest('raw IPv6 protocol 112 crosses a veth pair with hop limit 255, unicast and multicast', async (t) => {
  const [a, b] = [await createNetns(t), await createNetns(t)];
  const net = `fd00:${octet().toString(16)}:${octet().toString(16)}`;
  const veth = await createVethPair(a, b, { addressesA: [`${net}::1/64`], addressesB: [`${net}::2/64`] });
  const receiver = open(t, { family: 'inet6', protocol: VRRP, netns: b.name });
  receiver.setReceiveTtl(true).setReceivePacketInfo(true).joinMulticastIPv6('ff02::12', veth.b.ifindex);
  const sender = open(t, { family: 'inet6', protocol: VRRP, netns: a.name });
  sender.setTtl(255).setMulticastInterfaceIPv6(veth.a.ifindex).setMulticastHops(255);

  const unicast = nextMessage(receiver, (data) => data.toString() === 'unicast v6');
  await sender.send(Buffer.from('unicast v6'), { family: 'inet6', address: `${net}::2` });
  const [, info] = await unicast;
  t.like(info, { ttl: 255, ifindex: veth.b.ifindex, dst: `${net}::2` });
  t.like(info.from, { family: 'inet6', address: `${net}::1` });

  const multicast = nextMessage(receiver, (data) => data.toString() === 'multicast v6');
  await sender.send(Buffer.from('multicast v6'), { family: 'inet6', address: 'ff02::12', scopeId: veth.a.ifindex });
  const [, mInfo] = await multicast;
  t.like(mInfo, { ttl: 255, ifindex: veth.b.ifindex, dst: 'ff02::12' });
});

/** Accept IPv4 (ethertype 0x0800 at 12) carrying protocol 112 (byte 23 of the frame); drop the rest. */
function vrrpOnlyFilter(): Array<{ code: number; jt: number; jf: number; k: number }> {
  const ldh = K('BPF_LD') | K('BPF_H') | K('BPF_ABS');
  const ldb = K('BPF_LD') | K('BPF_B') | K('BPF_ABS');
  const jeq = K('BPF_JMP') | K('BPF_JEQ') | K('BPF_K');
  const ret = K('BPF_RET') | K('BPF_K');
  return [
    { code: ldh, jt: 0, jf: 0, k: 12 },
    { code: jeq, jt: 0, jf: 3, k: K('ETH_P_IP') },
    { code: ldb, jt: 0, jf: 0, k: 23 },
    { code: jeq, jt: 0, jf: 1, k: VRRP },
    { code: ret, jt: 0, jf: 0, k: 0xffff },
    { code: ret, jt: 0, jf: 0, k: 0 },
  ];
}

ktest('a packet socket with a BPF filter captures protocol 112 and nothing else', async (t) => {
  const [a, b] = [await createNetns(t), await createNetns(t)];
  const net = `10.${octet()}.${octet()}`;
  const veth = await createVethPair(a, b, { addressesA: [`${net}.1/24`], addressesB: [`${net}.2/24`] });
  // Protocol 0 receives nothing until bind, so no frame slips in before the filter.
  const capture = open(t, { family: 'packet', type: 'raw', protocol: 0, netns: b.name });
  capture.attachFilter(vrrpOnlyFilter());
  capture.bind({ family: 'packet', ifindex: veth.b.ifindex, protocol: K('ETH_P_ALL') });
  const frames: Array<[Buffer, MessageInfo]> = [];
  capture.on('message', (data, info) => frames.push([Buffer.from(data), info]));

  const vrrp = open(t, { family: 'inet', protocol: VRRP, netns: a.name });
  const other = open(t, { family: 'inet', protocol: 113, netns: a.name });
  const udp = open(t, { family: 'inet', type: 'dgram', protocol: 0, netns: a.name });
  const dest = { family: 'inet' as const, address: `${net}.2`, port: 9999 };
  await udp.send(Buffer.from('udp datagram'), dest);
  await other.send(Buffer.from('protocol 113'), dest);
  await vrrp.send(Buffer.from('vrrp advert'), dest);
  for (let i = 0; i < 30 && frames.length === 0; i++) await sleep(50);
  await sleep(200); // Give the non-matching frames time to (not) arrive.

  t.true(frames.length >= 1, 'the protocol-112 frame was captured');
  for (const [frame] of frames) {
    t.is(frame.readUInt16BE(12), K('ETH_P_IP'));
    t.is(frame[23], VRRP);
  }
  const texts = frames.map(([frame]) => frame.subarray(14 + (frame[14]! & 0x0f) * 4).toString());
  t.true(texts.includes('vrrp advert'));
  t.false(texts.some((text) => text.includes('udp datagram') || text.includes('protocol 113')));
  const [, info] = frames[0]!;
  t.is(info.ifindex, veth.b.ifindex);
  t.like(info.from, { family: 'packet', ifindex: veth.b.ifindex, protocol: K('ETH_P_IP'), pkttype: K('PACKET_HOST') });
  t.deepEqual(info.from?.family === 'packet' ? info.from.addr : undefined, veth.a.mac);
});

ktest('a packet SOCK_DGRAM socket sends a broadcast ARP that another namespace captures', async (t) => {
  const [a, b] = [await createNetns(t), await createNetns(t)];
  const veth = await createVethPair(a, b);
  // Not bound: the socket's own protocol (host order here, network order for the kernel) selects ARP.
  const capture = open(t, { family: 'packet', type: 'dgram', protocol: K('ETH_P_ARP'), netns: b.name });
  const sender = open(t, { family: 'packet', type: 'dgram', protocol: K('ETH_P_ARP'), netns: a.name });
  // A gratuitous ARP request for 192.0.2.77 (RFC 826 layout, network order).
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(K('ARPHRD_ETHER'), 0);
  arp.writeUInt16BE(K('ETH_P_IP'), 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(K('ARPOP_REQUEST'), 6);
  veth.a.mac.copy(arp, 8);
  Buffer.from([192, 0, 2, 77]).copy(arp, 14);
  Buffer.from([192, 0, 2, 77]).copy(arp, 24);
  const received = nextMessage(capture, (data) => data.equals(arp));
  await sender.send(arp, { family: 'packet', ifindex: veth.a.ifindex, protocol: K('ETH_P_ARP'), addr: Buffer.alloc(6, 0xff) });
  const [, info] = await received;
  t.like(info.from, { family: 'packet', ifindex: veth.b.ifindex, protocol: K('ETH_P_ARP'), pkttype: K('PACKET_BROADCAST') });
  t.deepEqual(info.from?.family === 'packet' ? info.from.addr : undefined, veth.a.mac);
});

ktest('a full send buffer makes sends wait for writability and flush in order', async (t) => {
  const [a, b] = [await createNetns(t), await createNetns(t)];
  const net = `10.${octet()}.${octet()}`;
  const veth = await createVethPair(a, b, { addressesA: [`${net}.1/24`], addressesB: [`${net}.2/24`] });
  // A slow token bucket holds frames (still charged to the sender's buffer) until they drain.
  await a.exec(['tc', 'qdisc', 'add', 'dev', veth.a.device, 'root', 'tbf', 'rate', '2mbit', 'burst', '1600', 'limit', '1000000']);
  const receiver = open(t, { family: 'inet', type: 'dgram', protocol: 0, netns: b.name });
  receiver.bind({ family: 'inet', address: `${net}.2`, port: 7000 });
  const got: string[] = [];
  receiver.on('message', (data) => got.push(data.subarray(0, 8).toString()));
  const sender = open(t, { family: 'inet', type: 'dgram', protocol: 0, netns: a.name });
  sender.setSendBuffer(4096);
  const count = 40;
  const sends = Array.from({ length: count }, (_, i) =>
    sender.send(Buffer.concat([Buffer.from(`dgram${String(i).padStart(3, '0')}`), Buffer.alloc(992)]), { family: 'inet', address: `${net}.2`, port: 7000 }));
  t.true(sender.queuedSends > 0, 'the kernel said EAGAIN and sends were queued');
  t.deepEqual(await Promise.all(sends), new Array(count).fill(1000));
  for (let i = 0; i < 60 && got.length < count; i++) await sleep(50);
  t.deepEqual(got, Array.from({ length: count }, (_, i) => `dgram${String(i).padStart(3, '0')}`));
});

ktest('a netlink overrun is an ENOBUFS error event and reading goes on', async (t) => {
  const ns = await createNetns(t);
  const monitor = open(t, { family: 'netlink', protocol: K('NETLINK_ROUTE'), netns: ns.name });
  monitor.setReceiveBuffer(1).bind({ family: 'netlink' }).addNetlinkMembership(1 /* RTNLGRP_LINK */);
  // Not reading yet: these link events overflow the tiny receive queue.
  const batch = Array.from({ length: 30 }, (_, i) => `link add ov${i} type veth peer name ov${i}p`).join('\n');
  await ns.exec(['sh', '-c', `printf '%s\\n' '${batch.replaceAll('\n', "' '")}' | ip -batch -`]);
  const events: string[] = [];
  const errorSeen = new Promise<Error>((resolve) => monitor.on('error', (error) => { events.push('error'); resolve(error); }));
  monitor.on('message', () => events.push('message'));
  const error = await errorSeen;
  t.like(error as unknown as Record<string, unknown>, { name: 'ErrnoError', code: 'ENOBUFS', errno: 105, syscall: 'recvmsg' });
  t.true(error instanceof ErrnoError, 'an error event from the poll is an ErrnoError instance too');
  await ns.ip('link', 'set', 'ov0', 'up');
  for (let i = 0; i < 40 && events.lastIndexOf('message') < events.indexOf('error'); i++) await sleep(50);
  t.true(events.lastIndexOf('message') > events.indexOf('error'), `messages after the error: ${events.join(',')}`);
});

ktest('a setsockopt the kernel refuses is an ErrnoError from setsockopt', async (t) => {
  const ns = await createNetns(t);
  const socket = open(t, { family: 'inet', protocol: VRRP, netns: ns.name });
  const error = t.throws(() => socket.bindToDevice('nosuchdev0'));
  t.like(error as unknown as Record<string, unknown>, { name: 'ErrnoError', errno: 19, code: 'ENODEV', syscall: 'setsockopt' });
  t.true(error instanceof ErrnoError && error instanceof Error);
  t.is(error?.message, 'setsockopt failed: ENODEV (No such device)');
  socket.setReceiveBuffer(1 << 22, true); // SO_RCVBUFFORCE: allowed to root past rmem_max
  t.is(socket.getOptionInt(K('SOL_SOCKET'), K('SO_RCVBUF')), 1 << 23);
});
