// layer: tests (unit tier, no privileges)
// job: the addon's constants, errors, addresses and UDP loopback I/O, and the TS Socket wrapper's queue and structs.
import test from 'ava';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import os, { endianness } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { scanConnections } from '../../src/conns/procfs.js';
import { encodeIPv6 } from '../../src/bytes.js';
import { ErrnoError } from '../../src/errors.js';
import { binding, type NativeDatagram, type NativeSocket } from '../../src/native/binding.js';
import {
  encodeIpMreqn, encodeIpv6Mreq, encodePacketMreq, encodeSockFilter, netnsPath, openSocket, Socket,
  type MessageInfo,
} from '../../src/native/socket.js';

const native = binding();
const k = native.constants as Record<string, number>;
const socketModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/native/socket.js');

function udp(t: { teardown(fn: () => void): void }): NativeSocket {
  const socket = new native.Socket({ domain: k.AF_INET!, type: k.SOCK_DGRAM!, protocol: 0 });
  t.teardown(() => socket.close());
  socket.bind({ family: 'inet', address: '127.0.0.1' });
  return socket;
}

interface ChildResult { status: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }

/**
 * A child that should exit by itself gets CHILD_LIMIT_MS: under the sanitizer build, with the
 * other test files running on two CPUs, node's start alone takes seconds, and a CI run saw a
 * child end with no status and no output under a 3 s limit. A child that hangs is still caught, only later.
 */
const CHILD_LIMIT_MS = 20_000;

/** Runs an ES module snippet (with `openSocket` imported) in a child node; its exit status and output. */
function runChild(body: string, timeoutMs = CHILD_LIMIT_MS): Promise<ChildResult> {
  const source = `import { openSocket } from ${JSON.stringify(socketModule)};\n${body}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', source], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: unknown; killed?: boolean; signal?: string | null }) | null;
      resolve({
        status: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
        signal: failure?.signal ?? null, stdout, stderr, timedOut: failure?.killed === true,
      });
    });
  });
}

test('constants carry the kernel values', (t) => {
  t.is(k.NETLINK_EXT_ACK, 11);
  t.is(k.SOL_NETLINK, 270);
  t.is(k.AF_PACKET, 17);
  t.is(k.AF_NETLINK, 16);
  t.is(k.NETLINK_GENERIC, 16);
  t.is(k.NETLINK_NETFILTER, 12);
  t.is(k.NETLINK_GET_STRICT_CHK, 12);
  t.is(k.SOL_PACKET, 263);
  t.is(k.SOL_IPV6, 41);
  t.is(k.IP_PKTINFO, 8);
  t.is(k.IP_RECVTTL, 12);
  t.is(k.IPV6_RECVHOPLIMIT, 51);
  t.is(k.IPV6_ADD_MEMBERSHIP, 20);
  t.is(k.IPV6_JOIN_GROUP, 20);
  t.is(k.SO_ATTACH_FILTER, 26);
  t.is(k.SO_RCVBUFFORCE, 33);
  t.is(k.PACKET_ADD_MEMBERSHIP, 1);
  t.is(k.ETH_P_ALL, 3);
  t.is(k.ETH_P_IPV6, 0x86dd);
  t.is(k.PACKET_OUTGOING, 4);
  t.is(k.SKF_NET_OFF, -0x100000);
  t.true(Object.isFrozen(native.constants));
});

test('native errors are ErrnoError instances with errno, code, syscall and the message', (t) => {
  const error = t.throws(() => new native.Socket({ domain: k.AF_INET!, type: k.SOCK_DGRAM!, protocol: 0, netns: '/nonexistent/ns' }));
  t.like(error as unknown as Record<string, unknown>, { name: 'ErrnoError', errno: 2, code: 'ENOENT', syscall: 'open' });
  t.is(error?.message, 'open failed: ENOENT (No such file or directory)');
  t.true(error instanceof ErrnoError);
  t.true(error instanceof Error);
  t.regex(error?.stack ?? '', /^ErrnoError: open failed: ENOENT/);
  const bad = t.throws(() => new native.Socket({ domain: 9999, type: k.SOCK_DGRAM!, protocol: 0 }));
  t.true(bad instanceof ErrnoError);
  t.like(bad as unknown as Record<string, unknown>, { code: 'EAFNOSUPPORT', syscall: 'socket', errno: 97 });
  // bind to an address this host does not have (TEST-NET-1): no privileges needed.
  const socket = new native.Socket({ domain: k.AF_INET!, type: k.SOCK_DGRAM!, protocol: 0 });
  t.teardown(() => socket.close());
  const absent = t.throws(() => socket.bind({ family: 'inet', address: '192.0.2.1' }));
  t.true(absent instanceof ErrnoError);
  t.like(absent as unknown as Record<string, unknown>, { name: 'ErrnoError', errno: 99, code: 'EADDRNOTAVAIL', syscall: 'bind' });
  t.is(absent?.message, 'bind failed: EADDRNOTAVAIL (Cannot assign requested address)');
});

test("native errors delivered later (the scanner's worker) and in a worker thread are ErrnoError instances too", async (t) => {
  const scanError = await t.throwsAsync(scanConnections({ file: os.tmpdir() }));
  t.true(scanError instanceof ErrnoError);
  t.like(scanError as unknown as Record<string, unknown>, { errno: 21, code: 'EISDIR' });
  // A worker loads the addon apart: its errors are instances of the worker's own ErrnoError.
  const bindingModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/native/binding.js');
  const errorsModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/errors.js');
  const source = `import { parentPort } from 'node:worker_threads';
    import { binding } from ${JSON.stringify(pathToFileURL(bindingModule).href)}; import { ErrnoError } from ${JSON.stringify(pathToFileURL(errorsModule).href)};
    try { binding().enterNetns('/nonexistent/lvskit-worker-ns'); parentPort.postMessage('no error'); }
    catch (e) { parentPort.postMessage([e instanceof ErrnoError, e.errno, e.code, e.syscall]); }`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
  const [reply] = await once(worker, 'message') as [unknown];
  await worker.terminate();
  t.deepEqual(reply, [true, 2, 'ENOENT', 'open']);
});

test('a closed socket throws EBADF, close is idempotent', (t) => {
  const socket = udp(t);
  t.true(socket.fd >= 0);
  t.false(socket.closed);
  socket.close();
  socket.close();
  t.true(socket.closed);
  t.is(socket.fd, -1);
  const calls: Array<[string, () => unknown]> = [
    ['bind', () => socket.bind({ family: 'inet', address: '127.0.0.1' })],
    ['getsockname', () => socket.getsockname()],
    ['setsockopt', () => socket.setsockopt(k.SOL_SOCKET!, k.SO_RCVBUF!, 4096)],
    ['getsockopt', () => socket.getsockoptInt(k.SOL_SOCKET!, k.SO_RCVBUF!)],
    ['sendmsg', () => socket.send([Buffer.from('x')], { family: 'inet', address: '127.0.0.1', port: 9 })],
    ['uv_poll_start', () => socket.startReading(() => {}, () => {}, 1, 64)],
    ['uv_poll_start', () => socket.awaitWritable(() => {})],
  ];
  for (const [syscall, call] of calls) {
    t.like(t.throws(call) as unknown as Record<string, unknown>, { code: 'EBADF', errno: 9, syscall }, syscall);
  }
  t.notThrows(() => { socket.stopReading(); socket.ref(); socket.unref(); });
});

test('a bad SockAddr is a TypeError naming the field', (t) => {
  const socket = udp(t);
  const cases: Array<[unknown, RegExp]> = [
    [{ family: 'inet', address: '300.1.1.1' }, /addr\.address is not an IPv4 address/],
    [{ family: 'inet', address: '127.0.0.1', port: 70000 }, /addr\.port must be an integer/],
    [{ family: 'inet', address: '127.0.0.1', port: 1.5 }, /addr\.port/],
    [{ family: 'inet6', address: '127.0.0.1' }, /addr\.address is not an IPv6 address/],
    [{ family: 'ipx' }, /addr\.family must be/],
    [{ family: 'packet' }, /addr\.ifindex is required/],
    [{ family: 'packet', ifindex: 1, addr: Buffer.alloc(9) }, /addr\.addr must be at most 8 bytes/],
    [{ family: 'netlink', pid: -1 }, /addr\.pid/],
    ['127.0.0.1', /addr must be a SockAddr object/],
  ];
  for (const [addr, message] of cases) {
    t.throws(() => socket.bind(addr as never), { instanceOf: TypeError, message });
  }
  t.throws(() => socket.send([Buffer.from('x')], { family: 'inet', address: 'nope' }), { instanceOf: TypeError, message: /dest\.address/ });
  t.throws(() => socket.send(['x' as never]), { instanceOf: TypeError, message: /buffers\[0\] must be a Buffer/ });
  // Well-formed but wrong for this socket: the kernel's verdict, as an ErrnoError.
  t.like(t.throws(() => socket.bind({ family: 'netlink' })) as unknown as Record<string, unknown>, { syscall: 'bind', code: 'EINVAL' });
});

test('getsockname, getsockopt and a refused setsockopt', (t) => {
  const socket = udp(t);
  const name = socket.getsockname();
  t.like(name, { family: 'inet', address: '127.0.0.1' });
  t.true(name.family === 'inet' && (name.port ?? 0) > 0);
  t.is(socket.getsockoptInt(k.SOL_SOCKET!, k.SO_TYPE!), k.SOCK_DGRAM!);
  socket.setsockopt(k.SOL_SOCKET!, k.SO_RCVBUF!, 8192);
  t.is(socket.getsockoptInt(k.SOL_SOCKET!, k.SO_RCVBUF!), 16384); // the kernel doubles it
  const raw = socket.getsockopt(k.SOL_SOCKET!, k.SO_RCVBUF!, 16);
  t.is(raw.length, 4);
  t.is(endianness() === 'LE' ? raw.readInt32LE(0) : raw.readInt32BE(0), 16384);
  // 10.0.0.1 is not a multicast group: the kernel refuses IP_ADD_MEMBERSHIP.
  const error = t.throws(() => socket.setsockopt(k.SOL_IP!, k.IP_ADD_MEMBERSHIP!, encodeIpMreqn('10.0.0.1', 1)));
  t.like(error as unknown as Record<string, unknown>, { name: 'ErrnoError', code: 'EINVAL', errno: 22, syscall: 'setsockopt' });
});

test('UDP to itself on 127.0.0.1 arrives with from, ifindex, dst and ttl', async (t) => {
  const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => socket.close());
  socket.bind({ family: 'inet', address: '127.0.0.1' }).setReceivePacketInfo(true).setReceiveTtl(true);
  const self = socket.address();
  const received = new Promise<[Buffer, MessageInfo]>((resolve) => socket.once('message', (data, info) => resolve([data, info])));
  t.is(await socket.send([Buffer.from('hello, '), Buffer.from('lvskit')], self), 13);
  const [data, info] = await received;
  t.is(data.toString(), 'hello, lvskit');
  t.deepEqual(info.from, self);
  t.is(info.ifindex, 1);
  t.is(info.dst, '127.0.0.1');
  t.is(info.ttl, 64);
  t.false(info.truncated);
});

test('UDP over ::1 reports the hop limit and IPv6 packet info', async (t) => {
  const socket = openSocket({ family: 'inet6', type: 'dgram', protocol: 0 });
  t.teardown(() => socket.close());
  try {
    socket.bind({ family: 'inet6', address: '::1' });
  } catch (error) {
    // Like a tier that cannot run: a loud skip on a laptop without IPv6, a failure under CI=true.
    if (process.env.CI === 'true' || process.env.CI === '1') return t.fail(`::1 is missing under CI=true: ${String(error)}`);
    t.log(`no ::1 here (skipped; it fails under CI=true): ${String(error)}`);
    return t.pass();
  }
  socket.setReceivePacketInfo(true).setReceiveTtl(true).setTtl(33);
  const self = socket.address();
  const received = new Promise<[Buffer, MessageInfo]>((resolve) => socket.once('message', (data, info) => resolve([data, info])));
  await socket.send(Buffer.from('six'), self);
  const [data, info] = await received;
  t.is(data.toString(), 'six');
  t.like(info, { ifindex: 1, dst: '::1', ttl: 33, truncated: false });
  t.like(info.from, { family: 'inet6', address: '::1' });
});

test('datagrams arrive in capped batches, in order, as views into one chunk', async (t) => {
  const socket = udp(t);
  const self = socket.getsockname();
  for (let i = 0; i < 10; i++) socket.send([Buffer.from(`datagram ${i}`)], self);
  const batches: Array<{ chunk: Buffer; datagrams: NativeDatagram[] }> = [];
  await new Promise<void>((resolve, reject) => {
    let seen = 0;
    socket.startReading((chunk, datagrams) => {
      batches.push({ chunk, datagrams });
      seen += datagrams.length;
      if (seen === 10) resolve();
    }, reject, 4, 100);
  });
  t.deepEqual(batches.map((b) => b.datagrams.length), [4, 4, 2]);
  const texts = batches.flatMap((b) => b.datagrams.map((d) => b.chunk.subarray(d.offset, d.offset + d.length).toString()));
  t.deepEqual(texts, Array.from({ length: 10 }, (_, i) => `datagram ${i}`));
  const offsets = batches.flatMap((b) => b.datagrams.map((d) => d.offset));
  t.true(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!), 'no datagram overwrites another');
  t.true(offsets.every((offset) => offset % 8 === 0));
  t.is(batches[0]!.chunk, batches[2]!.chunk, 'the chunk is reused across wakeups while it has room');
  t.is(batches[0]!.chunk.length, 1 << 20);
});

test('a datagram longer than maxDatagramBytes is truncated', async (t) => {
  const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 0, maxDatagramBytes: 8 });
  t.teardown(() => socket.close());
  socket.bind({ family: 'inet', address: '127.0.0.1' });
  const received = new Promise<[Buffer, MessageInfo]>((resolve) => socket.once('message', (data, info) => resolve([data, info])));
  await socket.send(Buffer.from('0123456789abcdef'), socket.address());
  const [data, info] = await received;
  t.is(data.toString(), '01234567');
  t.true(info.truncated);
});

test('a reject-all BPF filter keeps datagrams out; a bad program is a TypeError', async (t) => {
  const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => socket.close());
  socket.bind({ family: 'inet', address: '127.0.0.1' });
  socket.attachFilter([{ code: k.BPF_RET! | k.BPF_K!, jt: 0, jf: 0, k: 0 }]);
  const got: string[] = [];
  const passed = new Promise<void>((resolve) => socket.on('message', (data) => { got.push(data.toString()); if (data.toString() === 'passed') resolve(); }));
  await socket.send(Buffer.from('filtered'), socket.address());
  socket.detachFilter();
  await socket.send(Buffer.from('passed'), socket.address());
  // Loopback keeps a socket's datagrams in order: had 'filtered' been let in, it would have come first.
  await passed;
  t.deepEqual(got, ['passed']);
  const nativeSocket = udp(t);
  t.throws(() => nativeSocket.attachFilter(Buffer.alloc(0)), { instanceOf: TypeError });
  t.throws(() => nativeSocket.attachFilter(Buffer.alloc(12)), { instanceOf: TypeError });
});

test('awaitWritable calls back once when the socket is writable', async (t) => {
  const socket = udp(t);
  let calls = 0;
  await new Promise<void>((resolve) => socket.awaitWritable(() => { calls++; resolve(); }));
  // A few turns of the loop (each setImmediate runs after a poll phase): a second callback would have come in one.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.is(calls, 1);
});

test('kernel structs are encoded with explicit byte order', (t) => {
  const le = endianness() === 'LE';
  const host32 = (n: number): number[] => (le ? [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24] : [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  const host16 = (n: number): number[] => (le ? [n & 0xff, n >> 8] : [n >> 8, n & 0xff]);
  t.deepEqual([...encodeIpMreqn('224.0.0.18', 0x0102)], [224, 0, 0, 18, 0, 0, 0, 0, ...host32(0x0102)]);
  t.deepEqual([...encodeIpv6Mreq('ff02::12', 7)], [0xff, 2, ...new Array(13).fill(0), 0x12, ...host32(7)]);
  t.deepEqual([...encodePacketMreq(3, 1, Buffer.from([1, 0, 0x5e, 0, 0, 0x12]))],
    [...host32(3), ...host16(1), ...host16(6), 1, 0, 0x5e, 0, 0, 0x12, 0, 0]);
  t.deepEqual([...encodeSockFilter([{ code: 0x15, jt: 1, jf: 2, k: 0x800 }, { code: 6, jt: 0, jf: 0, k: -0x100000 }])],
    [...host16(0x15), 1, 2, ...host32(0x800), ...host16(6), 0, 0, ...host32(0xfff00000)]);
  t.deepEqual([...encodeIPv6('::ffff:10.1.2.3')], [...new Array(10).fill(0), 0xff, 0xff, 10, 1, 2, 3]);
  t.deepEqual([...encodeIPv6('fd00:1::2')], [0xfd, 0, 0, 1, ...new Array(11).fill(0), 2]);
  t.throws(() => encodeIpMreqn('ff02::12', 1), { instanceOf: TypeError, message: /group is not an IPv4 address/ });
  t.is(netnsPath('blue'), '/var/run/netns/blue');
  t.is(netnsPath('/proc/1/ns/net'), '/proc/1/ns/net');
  t.throws(() => netnsPath('../x'), { instanceOf: TypeError });
});

test('option helpers refuse the wrong family', (t) => {
  const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => socket.close());
  t.throws(() => socket.addNetlinkMembership(1), { instanceOf: TypeError, message: /needs a socket of family netlink/ });
  t.throws(() => socket.joinMulticastIPv6('ff02::12', 1), { instanceOf: TypeError, message: /needs a socket of family inet6/ });
  t.throws(() => socket.addPacketMembership(1, 1), { instanceOf: TypeError, message: /needs a socket of family packet/ });
});

/** A NativeSocket whose send() answers from a script, to drive the wrapper's EAGAIN queue. */
function scriptedSocket(answers: Array<number | Error>): { fake: NativeSocket; sent: string[]; wake: () => void } {
  const sent: string[] = [];
  let waiter: (() => void) | undefined;
  let closed = false;
  const fake = {
    get fd() { return closed ? -1 : 42; },
    get closed() { return closed; },
    send(buffers: Buffer[]) {
      const answer = answers.shift() ?? 0;
      if (answer instanceof Error) throw answer;
      if (answer >= 0) sent.push(Buffer.concat(buffers).toString());
      return answer;
    },
    awaitWritable(cb: () => void) {
      if (waiter) throw new Error('awaitWritable while already waiting');
      waiter = cb;
    },
    close() { closed = true; },
  } as unknown as NativeSocket;
  const wake = (): void => { const cb = waiter; waiter = undefined; cb?.(); };
  return { fake, sent, wake };
}

test('sends queue on EAGAIN and flush in order when writable', async (t) => {
  const refused = Object.assign(new Error('sendmsg failed: EMSGSIZE'), { errno: 90, code: 'EMSGSIZE', syscall: 'sendmsg' });
  const { fake, sent, wake } = scriptedSocket([1, -1, -1, 2, refused, 3, -1]);
  const socket = new Socket(fake, 'inet', native.constants as never);
  t.is(await socket.send(Buffer.from('a')), 1);
  const b = socket.send(Buffer.from('b'));
  const c = socket.send([Buffer.from('c'), Buffer.from('c')]);
  const d = socket.send(Buffer.from('d'));
  const e = socket.send(Buffer.from('e'));
  t.is(socket.queuedSends, 4, 'c, d, e queue behind b even though the socket was not asked');
  wake(); // b: EAGAIN again
  t.deepEqual(sent, ['a']);
  wake(); // b sent, c refused, d sent, e EAGAIN
  t.is(await b, 2);
  await t.throwsAsync(c, { message: /EMSGSIZE/ });
  t.is(await d, 3);
  t.deepEqual(sent, ['a', 'b', 'd']);
  t.is(socket.queuedSends, 1);
  socket.close();
  await t.throwsAsync(e, { code: 'EBADF', message: /socket closed before the datagram was sent/ } as never);
});

test('an unref\'d reading socket lets the process exit; a ref\'d one keeps it alive', async (t) => {
  const open = `const s = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
    s.bind({ family: 'inet', address: '127.0.0.1' }); s.on('message', () => {});`;
  const unrefd = await runChild(`${open} s.unref(); setTimeout(() => console.log('timer'), 50);`);
  t.false(unrefd.timedOut, unrefd.stderr);
  t.is(unrefd.status, 0, unrefd.stderr);
  t.is(unrefd.stdout.trim(), 'timer');
  const refd = await runChild(open, 1500);
  t.true(refd.timedOut, 'a reading, ref\'d socket keeps the loop alive');
});

test('promise microtasks run right after a message callback', async (t) => {
  // Nothing else is pending in the child: without MakeCallback the microtask would never run.
  const child = await runChild(`const s = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
    s.bind({ family: 'inet', address: '127.0.0.1' });
    s.on('message', (data) => { Promise.resolve().then(() => { console.log('micro', data.toString()); process.exit(0); }); });
    s.send(Buffer.from('x'), s.address());`);
  t.false(child.timedOut, 'microtask did not run');
  t.is(child.stdout.trim(), 'micro x', `status ${child.status}, signal ${child.signal}, stderr: ${child.stderr}`);
});

test('an exception thrown by a message listener is an uncaught exception, not swallowed', async (t) => {
  const child = await runChild(`const s = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
    s.bind({ family: 'inet', address: '127.0.0.1' });
    process.on('uncaughtException', (error) => { console.log('uncaught', error.message); process.exit(7); });
    s.on('message', () => { throw new Error('listener boom'); });
    s.send(Buffer.from('x'), s.address());`);
  t.is(child.status, 7, `signal ${child.signal}, timed out ${child.timedOut}, stderr: ${child.stderr}`);
  t.is(child.stdout.trim(), 'uncaught listener boom');
  const plain = await runChild(`const s = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
    s.bind({ family: 'inet', address: '127.0.0.1' });
    s.on('message', () => { throw new Error('listener boom'); });
    s.send(Buffer.from('x'), s.address());`);
  t.is(plain.status, 1, `signal ${plain.signal}, timed out ${plain.timedOut}`);
  t.regex(plain.stderr, /listener boom/);
});

test('a queued ICMP error (IP_RECVERR) is reported once and does not make the loop spin', async (t) => {
  const child = await runChild(`const s = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
    s.bind({ family: 'inet', address: '127.0.0.1' }).setOption(${k.SOL_IP!}, ${k.IP_RECVERR!}, 1);
    const errors = [];
    const reported = new Promise((resolve) => s.on('error', (error) => { errors.push([error.code, error.syscall]); resolve(); }));
    s.on('message', () => {});
    await s.send(Buffer.from('x'), { family: 'inet', address: '127.0.0.1', port: 9 });
    await reported;
    const start = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const used = process.cpuUsage(start);
    console.log(JSON.stringify({ errors, cpuMs: (used.user + used.system) / 1000 }));
    s.close();`);
  t.is(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout) as { errors: string[][]; cpuMs: number };
  t.deepEqual(result.errors, [['ECONNREFUSED', 'recvmsg']]);
  t.true(result.cpuMs < 150, `the loop spun: ${result.cpuMs} ms of CPU in 400 ms`);
});

test('messages() iterates datagrams and ends when the socket closes', async (t) => {
  const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => socket.close());
  socket.bind({ family: 'inet', address: '127.0.0.1' });
  const self = socket.address();
  const texts: string[] = [];
  const reading = (async () => {
    for await (const { data, info } of socket.messages()) {
      texts.push(`${data.toString()}:${info.from?.family}`);
      if (texts.length === 2) socket.close();
    }
  })();
  await socket.send(Buffer.from('one'), self);
  await socket.send(Buffer.from('two'), self);
  await reading;
  t.deepEqual(texts, ['one:inet', 'two:inet']);
  t.true(socket.closed);
});
