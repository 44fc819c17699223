// layer: unit tests (netlink request engine)
// job: ACKs, kernel errors, dumps, DUMP_INTR retries, pipelining, port ids, the window, ENOBUFS, timeouts, close.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_NOOP,
  NLMSG_OVERRUN,
} from '../../src/netlink/constants.js';
import { NetlinkEngine, type NetlinkRequest, type RequestSource, type StrayReason } from '../../src/netlink/engine.js';
import {
  DumpInterruptedError, NetlinkDecodeError, NetlinkError, NetlinkOverrunError, RequestCancelledError,
  RequestTimeoutError,
} from '../../src/netlink/errors.js';
import { decodeMessages, type NlMessage, type NlMessageHeader } from '../../src/netlink/message.js';
import { doneTo, errorTo, FakeTransport, flush, replyTo } from '../helpers/fake-transport.js';

const PORT = 4242;
const RTM_NEWADDR = 20;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;

function setup(options: ConstructorParameters<typeof NetlinkEngine>[1] = {}) {
  const fake = new FakeTransport(PORT);
  const engine = new NetlinkEngine(fake, options);
  const strays: [number, StrayReason][] = [];
  engine.on('stray', (msg, reason) => strays.push([msg.header.seq, reason]));
  return { fake, engine, strays };
}

const body = (m: NlMessage): string => m.payload.toString();

test('a request is sent with REQUEST|ACK and resolves at the ACK with the replies before it', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK, payload: Buffer.from('ifi!'), flags: NLM_F_EXCL });
  await flush();
  t.is(fake.requests.length, 1);
  const [req] = fake.requests;
  t.is(req?.header.type, RTM_GETLINK);
  t.is(req?.header.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL);
  t.not(req?.header.seq, 0);
  t.is(req?.payload.toString(), 'ifi!');
  const h = fake.header();
  fake.deliver([replyTo(h, PORT, RTM_NEWLINK, Buffer.from('eth0')), errorTo(h, PORT)]);
  const replies = await pending;
  t.deepEqual(replies.map(body), ['eth0']);
  t.is(replies[0]?.header.type, RTM_NEWLINK);
  t.is(engine.inFlightCount, 0);
});

test('ack: false resolves at the first reply; NOOP is ignored', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK, ack: false });
  await flush();
  t.is(fake.header().flags, NLM_F_REQUEST);
  const h = fake.header();
  fake.deliver([replyTo(h, PORT, NLMSG_NOOP, Buffer.alloc(0)), replyTo(h, PORT, RTM_NEWLINK, Buffer.from('lo'))]);
  t.deepEqual((await pending).map(body), ['lo']);
});

test('a kernel error rejects with NetlinkError carrying errno, ext-ack text and the request', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, payload: Buffer.alloc(8), op: 'RTM_NEWADDR' });
  await flush();
  const h = fake.header();
  fake.deliver(errorTo(h, PORT, { error: -17, message: 'Address already assigned', offset: 24, echo: Buffer.alloc(8) }));
  const err = await t.throwsAsync(pending, { instanceOf: NetlinkError });
  t.is(err?.errno, 17);
  t.is(err?.code, 'EEXIST');
  t.is(err?.syscall, 'RTM_NEWADDR');
  t.is(err?.message, 'RTM_NEWADDR failed: EEXIST (Address already assigned; at request offset 24)');
  t.deepEqual(err?.extack, { message: 'Address already assigned', offset: 24 });
  t.is(err?.request.seq, h.seq);
  t.is(err?.request.type, RTM_NEWADDR);
  t.like(engine.stats, { refused: 1, timeouts: 0 }, 'counted as refused');
});

test('a kernel error without ext-ack names the message type', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: 0x30 });
  await flush();
  fake.deliver(errorTo(fake.header(), PORT, { error: -1 }));
  const err = await t.throwsAsync(pending, { instanceOf: NetlinkError });
  t.is(err?.message, 'nlmsg_type=48 failed: EPERM');
  t.is(err?.extack, undefined);
});

test('a dump sends NLM_F_DUMP without ACK and collects multipart replies until DONE', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK, dump: true });
  await flush();
  const h = fake.header();
  t.is(h.flags, NLM_F_REQUEST | NLM_F_DUMP);
  fake.deliver([replyTo(h, PORT, RTM_NEWLINK, Buffer.from('lo'), { flags: NLM_F_MULTI }),
    replyTo(h, PORT, RTM_NEWLINK, Buffer.from('eth0'), { flags: NLM_F_MULTI })]);
  await flush();
  t.is(engine.inFlightCount, 1);
  fake.deliver([replyTo(h, PORT, RTM_NEWLINK, Buffer.from('eth1'), { flags: NLM_F_MULTI }), doneTo(h, PORT)]);
  t.deepEqual((await pending).map(body), ['lo', 'eth0', 'eth1']);
});

test('DONE with a negative error rejects the dump with NetlinkError', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK, dump: true, op: 'RTM_GETLINK' });
  await flush();
  fake.deliver(doneTo(fake.header(), PORT, { error: -95, message: 'not supported here' }));
  const err = await t.throwsAsync(pending, { instanceOf: NetlinkError });
  t.is(err?.errno, 95); // EOPNOTSUPP (src/errors.ts names it ENOTSUP)
  t.regex(err?.message ?? '', /not supported here/);
});

test('DUMP_INTR re-sends the dump with a new seq and resolves with the retry only', async (t) => {
  const { fake, engine, strays } = setup();
  const pending = engine.request({ type: RTM_GETLINK, dump: true, payload: Buffer.from('filter') });
  await flush();
  const first = fake.header();
  fake.deliver([replyTo(first, PORT, RTM_NEWLINK, Buffer.from('old-a'), { flags: NLM_F_MULTI | NLM_F_DUMP_INTR }),
    replyTo(first, PORT, RTM_NEWLINK, Buffer.from('old-b'), { flags: NLM_F_MULTI }), doneTo(first, PORT)]);
  await flush();
  t.is(fake.requests.length, 2);
  const second = fake.requests[1];
  t.not(second?.header.seq, first.seq);
  t.is(second?.header.flags, NLM_F_REQUEST | NLM_F_DUMP);
  t.is(second?.payload.toString(), 'filter');
  fake.deliver(replyTo(first, PORT, RTM_NEWLINK, Buffer.from('late'), { flags: NLM_F_MULTI }));
  await flush();
  t.deepEqual(strays, [[first.seq, 'unknown-seq']]);
  const h2 = fake.header();
  fake.deliver([replyTo(h2, PORT, RTM_NEWLINK, Buffer.from('new-a'), { flags: NLM_F_MULTI }), doneTo(h2, PORT)]);
  t.deepEqual((await pending).map(body), ['new-a']);
  t.is(engine.stats.dumpRetries, 1);
});

test('DUMP_INTR on every attempt rejects with DumpInterruptedError after maxDumpRetries', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK, dump: true, maxDumpRetries: 2, op: 'RTM_GETLINK' });
  await flush();
  for (let i = 0; i < 3; i++) fake.deliver(doneTo(fake.header(), PORT, { flags: NLM_F_DUMP_INTR }));
  const err = await t.throwsAsync(pending, { instanceOf: DumpInterruptedError });
  t.is(err?.attempts, 3);
  t.is(err?.code, 'EINTR');
  t.is(fake.requests.length, 3);
  t.is(new Set(fake.requests.map((m) => m.header.seq)).size, 3);
});

test('pipelined requests resolve from out-of-order replies by sequence number', async (t) => {
  const { fake, engine } = setup();
  const pending = [0, 1, 2].map((i) => engine.request({ type: RTM_GETLINK, payload: Buffer.from(`q${i}`) }));
  await flush();
  t.is(fake.requests.length, 3);
  t.is(fake.sent.length, 1, 'requests made in one tick go out in one datagram');
  const [h0, h1, h2] = fake.requests.map((m) => m.header);
  if (!h0 || !h1 || !h2) return t.fail('three requests expected');
  t.is(new Set([h0.seq, h1.seq, h2.seq]).size, 3);
  fake.deliver([replyTo(h2, PORT, RTM_NEWLINK, Buffer.from('r2')), errorTo(h2, PORT),
    replyTo(h0, PORT, RTM_NEWLINK, Buffer.from('r0'))]);
  fake.deliver([replyTo(h1, PORT, RTM_NEWLINK, Buffer.from('r1')), errorTo(h1, PORT), errorTo(h0, PORT)]);
  const results = await Promise.all(pending);
  t.deepEqual(results.map((r) => r.map(body)), [['r0'], ['r1'], ['r2']]);
});

test('a reply with the wrong port id is dropped as stray; the request still completes', async (t) => {
  const { fake, engine, strays } = setup();
  const pending = engine.request({ type: RTM_GETLINK });
  await flush();
  const h = fake.header();
  fake.deliver([replyTo(h, PORT, RTM_NEWLINK, Buffer.from('spoof'), { pid: 999 }), errorTo(h, 999)]);
  await flush();
  t.deepEqual(strays, [[h.seq, 'port-id'], [h.seq, 'port-id']]);
  t.is(engine.inFlightCount, 1);
  fake.deliver([replyTo(h, PORT, RTM_NEWLINK, Buffer.from('real')), errorTo(h, PORT)]);
  t.deepEqual((await pending).map(body), ['real']);
});

test('unicast from another socket (not the kernel) is dropped as stray', async (t) => {
  const { fake, engine, strays } = setup();
  const pending = engine.request({ type: RTM_GETLINK });
  await flush();
  const h = fake.header();
  fake.deliver(errorTo(h, PORT, { error: -1 }), { pid: 31337 });
  t.deepEqual(strays, [[h.seq, 'not-from-kernel']]);
  fake.deliver(errorTo(h, PORT));
  t.deepEqual(await pending, []);
});

test('multicast and seq-0 messages are notifications, never replies', async (t) => {
  const { fake, engine } = setup();
  const seen: string[] = [];
  engine.on('notification', (m) => seen.push(body(m)));
  const pending = engine.request({ type: RTM_NEWADDR });
  await flush();
  const h = fake.header();
  // The multicast copy of our own change carries our seq and port id: it must not complete the request.
  fake.deliver(replyTo(h, PORT, RTM_NEWADDR, Buffer.from('mcast')), { groups: 1 << 4 });
  fake.deliver(replyTo(h, PORT, RTM_NEWADDR, Buffer.from('seq0'), { seq: 0, pid: 0 }));
  await flush();
  t.deepEqual(seen, ['mcast', 'seq0']);
  t.is(engine.inFlightCount, 1);
  fake.deliver(errorTo(h, PORT));
  t.deepEqual(await pending, []);
  t.is(engine.stats.notifications, 2);
});

test('notifications() iterates notifications and ends on close', async (t) => {
  const { fake, engine } = setup();
  const got: string[] = [];
  const done = (async () => { for await (const m of engine.notifications()) got.push(body(m)); })();
  await sleep(0);
  fake.deliver(replyTo({ length: 16, type: 0, flags: 0, seq: 0, pid: 0 }, 0, RTM_NEWLINK, Buffer.from('up')), { groups: 1 });
  fake.deliver(replyTo({ length: 16, type: 0, flags: 0, seq: 0, pid: 0 }, 0, RTM_NEWLINK, Buffer.from('down')), { groups: 1 });
  await sleep(0);
  engine.close();
  await done;
  t.deepEqual(got, ['up', 'down']);
});

test('maxInFlight: request N+1 is not sent until one completes', async (t) => {
  const { fake, engine } = setup({ maxInFlight: 2 });
  const a = engine.request({ type: RTM_GETLINK, payload: Buffer.from('a') });
  await flush();
  const b = engine.request({ type: RTM_GETLINK, payload: Buffer.from('b') });
  await flush();
  const c = engine.request({ type: RTM_GETLINK, payload: Buffer.from('c') });
  await flush();
  t.is(fake.requests.length, 2);
  t.is(engine.queuedCount, 1);
  const hb = fake.header(1);
  fake.deliver(errorTo(hb, PORT));
  await flush();
  await b;
  t.is(fake.requests.length, 3);
  t.is(fake.requests[2]?.payload.toString(), 'c');
  t.is(engine.queuedCount, 0);
  fake.deliver([errorTo(fake.header(0), PORT), errorTo(fake.header(2), PORT)]);
  t.deepEqual(await Promise.all([a, c]), [[], []]);
});

test('ENOBUFS emits enobufs, rejects in-flight requests with NetlinkOverrunError, then sends the queue', async (t) => {
  const { fake, engine } = setup({ maxInFlight: 2 });
  const events: string[] = [];
  engine.on('enobufs', (err) => events.push((err as Error & { code?: string }).code ?? '?'));
  const a = engine.request({ type: RTM_GETLINK, op: 'first' });
  await flush();
  const b = engine.request({ type: RTM_GETLINK, dump: true });
  await flush();
  const c = engine.request({ type: RTM_GETLINK, payload: Buffer.from('queued') });
  await flush();
  fake.fail(Object.assign(new Error('recvmsg ENOBUFS'), { errno: 105, code: 'ENOBUFS' }));
  t.deepEqual(events, ['ENOBUFS']);
  const errA = await t.throwsAsync(a, { instanceOf: NetlinkOverrunError });
  t.is(errA?.code, 'ENOBUFS');
  t.is(errA?.syscall, 'first');
  await t.throwsAsync(b, { instanceOf: NetlinkOverrunError });
  t.is(fake.requests.length, 3);
  t.is(fake.requests[2]?.payload.toString(), 'queued');
  fake.deliver(errorTo(fake.header(2), PORT));
  t.deepEqual(await c, []);
  t.is(engine.stats.overruns, 1);
});

test('NLMSG_OVERRUN for a request rejects it with NetlinkOverrunError', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK, dump: true });
  await flush();
  fake.deliver(replyTo(fake.header(), PORT, NLMSG_OVERRUN, Buffer.alloc(0)));
  await t.throwsAsync(pending, { instanceOf: NetlinkOverrunError });
});

test('other transport errors are emitted as error and leave requests alone', async (t) => {
  const { fake, engine } = setup();
  const errors: string[] = [];
  engine.on('error', (err) => errors.push(err.message));
  const pending = engine.request({ type: RTM_GETLINK });
  await flush();
  fake.fail(Object.assign(new Error('recvmsg ENOMEM'), { errno: 12, code: 'ENOMEM' }));
  t.deepEqual(errors, ['recvmsg ENOMEM']);
  t.is(engine.inFlightCount, 1);
  fake.deliver(errorTo(fake.header(), PORT));
  t.deepEqual(await pending, []);
});

test('a timeout rejects with RequestTimeoutError, frees the slot, and a late reply is stray', async (t) => {
  const { fake, engine, strays } = setup({ maxInFlight: 1 });
  const slow = engine.request({ type: RTM_GETLINK, timeoutMs: 20, op: 'slow' });
  await flush();
  const h = fake.header();
  const next = engine.request({ type: RTM_GETLINK });
  await flush();
  const err = await t.throwsAsync(slow, { instanceOf: RequestTimeoutError });
  t.is(err?.code, 'ETIMEDOUT');
  t.is(err?.timeoutMs, 20);
  await flush();
  t.is(fake.requests.length, 2);
  fake.deliver(errorTo(h, PORT));
  await flush();
  t.deepEqual(strays, [[h.seq, 'unknown-seq']]);
  fake.deliver(errorTo(fake.header(), PORT));
  t.deepEqual(await next, []);
  t.like(engine.stats, { refused: 0, timeouts: 1 }, 'counted as a timeout');
});

test('the default timeout applies to queued requests too', async (t) => {
  const { engine } = setup({ maxInFlight: 1, timeoutMs: 15 });
  const a = engine.request({ type: RTM_GETLINK });
  await flush();
  const b = engine.request({ type: RTM_GETLINK });
  await flush();
  await t.throwsAsync(a, { instanceOf: RequestTimeoutError });
  await t.throwsAsync(b, { instanceOf: RequestTimeoutError });
  t.is(engine.queuedCount, 0);
});

test('close rejects in-flight and queued requests with ECANCELED and closes the transport', async (t) => {
  const { fake, engine } = setup({ maxInFlight: 1 });
  const a = engine.request({ type: RTM_GETLINK, op: 'a' });
  await flush();
  const b = engine.request({ type: RTM_GETLINK, op: 'b' });
  await flush();
  engine.close();
  t.true(fake.closed);
  const errA = await t.throwsAsync(a, { instanceOf: RequestCancelledError });
  t.is(errA?.code, 'ECANCELED');
  t.is(errA?.syscall, 'a');
  await t.throwsAsync(b, { instanceOf: RequestCancelledError });
  t.is(fake.requests.length, 1);
  await t.throwsAsync(engine.request({ type: RTM_GETLINK }), { instanceOf: RequestCancelledError });
  t.notThrows(() => fake.deliver(errorTo(fake.header(), PORT)));
});

test('a malformed datagram is counted and emitted, never thrown out of the handler', async (t) => {
  const { fake, engine } = setup();
  const malformed: NetlinkDecodeError[] = [];
  engine.on('malformed', (err) => malformed.push(err));
  const pending = engine.request({ type: RTM_GETLINK });
  await flush();
  const bad = errorTo(fake.header(), PORT).subarray(0, 30);
  t.notThrows(() => fake.deliver(bad));
  t.is(malformed.length, 1);
  t.is(malformed[0]?.offset, 0);
  t.is(engine.stats.malformed, 1);
  t.is(engine.inFlightCount, 1);
  fake.deliver(errorTo(fake.header(), PORT));
  t.deepEqual(await pending, []);
});

test('an NLMSG_ERROR too short to decode rejects its request with NetlinkDecodeError', async (t) => {
  const { fake, engine } = setup();
  const pending = engine.request({ type: RTM_GETLINK });
  await flush();
  fake.deliver(replyTo(fake.header(), PORT, 2, Buffer.alloc(8)));
  await t.throwsAsync(pending, { instanceOf: NetlinkDecodeError });
});

test('sequence numbers wrap from 2^32-1 to 1, never 0', async (t) => {
  const { fake, engine } = setup({ firstSeq: 0xfffffffe });
  const reqs = [0, 1, 2].map(() => engine.request({ type: RTM_GETLINK }));
  await flush();
  t.deepEqual(fake.requests.map((m) => m.header.seq), [0xfffffffe, 0xffffffff, 1]);
  fake.deliver(fake.requests.slice(0, 2).map((m) => errorTo(m.header, PORT)));
  const more = engine.request({ type: RTM_GETLINK });
  await flush();
  t.is(fake.header().seq, 2);
  fake.deliver([errorTo(fake.header(2), PORT), errorTo(fake.header(), PORT)]);
  t.deepEqual(await Promise.all([...reqs, more]), [[], [], [], []]);
});

test('a send that throws rejects that request and frees its slot', async (t) => {
  const { fake, engine } = setup({ maxInFlight: 1 });
  fake.sendError = Object.assign(new Error('sendmsg EMSGSIZE'), { code: 'EMSGSIZE' });
  const a = engine.request({ type: RTM_GETLINK });
  await flush();
  const b = engine.request({ type: RTM_GETLINK });
  await flush();
  await t.throwsAsync(a, { message: 'sendmsg EMSGSIZE' });
  t.is(fake.requests.length, 1);
  fake.deliver(errorTo(fake.header(), PORT));
  await flush();
  t.deepEqual(await b, []);
  t.is(engine.inFlightCount, 0);
});

test('one dump at a time: a second dump, and requests behind it, wait until the first is DONE', async (t) => {
  const { fake, engine } = setup();
  const links = engine.request({ type: RTM_GETLINK, dump: true });
  await flush();
  const addrs = engine.request({ type: RTM_NEWADDR + 2, dump: true });
  await flush();
  const add = engine.request({ type: RTM_NEWADDR, payload: Buffer.from('x') });
  await flush();
  t.is(fake.requests.length, 1, 'the kernel would answer a second dump on this socket with EBUSY');
  fake.deliver([replyTo(fake.header(0), PORT, RTM_NEWLINK, Buffer.from('lo'), { flags: NLM_F_MULTI }), doneTo(fake.header(0), PORT)]);
  await flush();
  t.deepEqual((await links).map(body), ['lo']);
  t.is(fake.requests.length, 3, 'the waiting dump and the request queued behind it go out, in order');
  t.is(fake.header(1).type, RTM_NEWADDR + 2);
  t.is(fake.header(2).type, RTM_NEWADDR);
  fake.deliver([errorTo(fake.header(2), PORT), doneTo(fake.header(1), PORT)]);
  t.deepEqual(await Promise.all([addrs, add]), [[], []]);
});

test('a failed dump lets the next dump go', async (t) => {
  const { fake, engine } = setup();
  const first = engine.request({ type: RTM_GETLINK, dump: true });
  await flush();
  const second = engine.request({ type: RTM_GETLINK, dump: true });
  await flush();
  fake.deliver(doneTo(fake.header(0), PORT, { error: -22 }));
  await flush();
  await t.throwsAsync(first, { instanceOf: NetlinkError });
  t.is(fake.requests.length, 2);
  fake.deliver(doneTo(fake.header(1), PORT));
  t.deepEqual(await second, []);
});

test('a datagram holds requests up to maxBatchBytes; a larger request goes alone', async (t) => {
  const { fake, engine } = setup({ maxBatchBytes: 100 });
  // 16-byte header + 24-byte payload = 40 bytes each: two fit in 100, the third starts a new datagram.
  const small = [0, 1, 2].map(() => engine.request({ type: RTM_GETLINK, payload: Buffer.alloc(24) }));
  const big = engine.request({ type: RTM_GETLINK, payload: Buffer.alloc(200) });
  await flush();
  t.deepEqual(fake.sent.map((d) => d.length), [80, 40, 216]);
  fake.deliver(fake.requests.map((m) => errorTo(m.header, PORT)));
  t.deepEqual(await Promise.all([...small, big]), [[], [], [], []]);
});

test('a dump never shares a datagram; requests after it follow in the next one', async (t) => {
  const { fake, engine } = setup();
  const a = engine.request({ type: RTM_NEWADDR });
  const dump = engine.request({ type: RTM_GETLINK, dump: true });
  const b = engine.request({ type: RTM_NEWADDR });
  await flush();
  t.deepEqual(fake.sent.map((d) => decodeMessages(d).map((m) => m.header.type)), [[RTM_NEWADDR], [RTM_GETLINK], [RTM_NEWADDR]]);
  const [ha, hd, hb] = fake.requests.map((m) => m.header);
  if (!ha || !hd || !hb) return t.fail('three requests expected');
  fake.deliver([errorTo(ha, PORT), doneTo(hd, PORT), errorTo(hb, PORT)]);
  t.deepEqual(await Promise.all([a, dump, b]), [[], [], []]);
});

test('a failed send fails every request of its datagram', async (t) => {
  const { fake, engine } = setup();
  fake.sendError = Object.assign(new Error('sendmsg EMSGSIZE'), { code: 'EMSGSIZE' });
  const both = [engine.request({ type: RTM_NEWADDR }), engine.request({ type: RTM_NEWADDR })];
  for (const p of both) await t.throwsAsync(p, { message: 'sendmsg EMSGSIZE' });
  t.is(engine.inFlightCount, 0);
});

test('fenced requests go without NLM_F_ACK, closed by one acknowledged NOOP; its ACK resolves them', async (t) => {
  const { fake, engine } = setup();
  const pending = [0, 1, 2].map((i) => engine.request({ type: RTM_NEWADDR, payload: Buffer.from(`a${i}`), fenced: true }));
  await flush();
  t.is(fake.sent.length, 1);
  const [a, b, c, fence] = fake.requests.map((m) => m.header);
  if (!a || !b || !c || !fence) return t.fail('three requests and a fence expected');
  t.deepEqual([a.flags, b.flags, c.flags], [NLM_F_REQUEST, NLM_F_REQUEST, NLM_F_REQUEST]);
  t.is(fence.type, NLMSG_NOOP);
  t.is(fence.flags, NLM_F_REQUEST | NLM_F_ACK);
  t.is(new Set([a.seq, b.seq, c.seq, fence.seq]).size, 4);
  let settled = 0;
  for (const p of pending) void p.then(() => { settled++; });
  await flush();
  t.is(settled, 0, 'nothing resolves before the fence');
  fake.deliver(errorTo(fence, PORT));
  t.deepEqual(await Promise.all(pending), [[], [], []]);
  t.is(engine.inFlightCount, 0);
});

test('a refused fenced request rejects; the others of its datagram resolve at the fence', async (t) => {
  const { fake, engine } = setup();
  const pending = [0, 1, 2].map(() => engine.request({ type: RTM_NEWADDR, fenced: true, op: 'RTM_NEWADDR' }));
  await flush();
  const [a, b, c, fence] = fake.requests.map((m) => m.header);
  if (!a || !b || !c || !fence) return t.fail('three requests and a fence expected');
  fake.deliver([errorTo(b, PORT, { error: -17, message: 'exists' }), errorTo(fence, PORT)]);
  const outcomes = await Promise.allSettled(pending);
  t.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
  const refused = outcomes[1];
  t.true(refused?.status === 'rejected' && refused.reason instanceof NetlinkError && refused.reason.code === 'EEXIST');
  t.is(engine.stats.refused, 1, 'one refusal counted, the fence\'s ACK is none');
});

test('fenced and acknowledged requests share a datagram; the fence comes last', async (t) => {
  const { fake, engine } = setup();
  const fencedOne = engine.request({ type: RTM_NEWADDR, fenced: true });
  const acked = engine.request({ type: RTM_GETLINK });
  await flush();
  t.is(fake.sent.length, 1);
  const [f, g, fence] = fake.requests.map((m) => m.header);
  if (!f || !g || !fence) return t.fail('two requests and a fence expected');
  t.is(fence.type, NLMSG_NOOP);
  fake.deliver([errorTo(g, PORT), errorTo(fence, PORT)]);
  t.deepEqual(await Promise.all([fencedOne, acked]), [[], []]);
});

test('ENOBUFS fails fenced requests; a late fence ACK is a stray; a fenced dump is refused', async (t) => {
  const { fake, engine, strays } = setup();
  engine.on('enobufs', () => undefined);
  const pending = engine.request({ type: RTM_NEWADDR, fenced: true });
  await flush();
  const fence = fake.requests.at(-1)?.header;
  if (!fence) return t.fail('a fence expected');
  fake.fail(Object.assign(new Error('recvmsg ENOBUFS'), { code: 'ENOBUFS', errno: 105 }));
  await t.throwsAsync(pending, { instanceOf: NetlinkOverrunError });
  fake.deliver(errorTo(fence, PORT));
  t.deepEqual(strays, [[fence.seq, 'unknown-seq']]);
  await t.throwsAsync(engine.request({ type: RTM_GETLINK, dump: true, fenced: true }), { instanceOf: TypeError });
});

test('requestAll settles every request in order, in one promise', async (t) => {
  const { fake, engine } = setup();
  const all = engine.requestAll([
    { type: RTM_NEWADDR, fenced: true }, { type: RTM_NEWADDR, fenced: true, op: 'second' }, { type: 0x1_0000 }, { type: RTM_GETLINK },
  ]);
  await flush();
  const [a, b, g, fence] = fake.requests.map((m) => m.header);
  if (!a || !b || !g || !fence) return t.fail('three requests and a fence expected');
  fake.deliver([errorTo(b, PORT, { error: -2 }), replyTo(g, PORT, RTM_NEWLINK, Buffer.from('lo')), errorTo(g, PORT), errorTo(fence, PORT)]);
  const results = await all;
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  t.true(results[1]?.status === 'rejected' && results[1].reason instanceof NetlinkError && results[1].reason.code === 'ENOENT');
  t.true(results[2]?.status === 'rejected' && results[2].reason instanceof RangeError);
  t.true(results[3]?.status === 'fulfilled' && results[3].value.map(body).join() === 'lo');
  t.deepEqual(await engine.requestAll([]), []);
});

// ---- requestAll's bulk path: a lot of fenced requests -------------------------------------------

/** A lot of `n` fenced requests whose payload names them (`r0`, `r1`, …). */
const lotOf = (n: number, extra: Partial<NetlinkRequest> = {}): NetlinkRequest[] =>
  Array.from({ length: n }, (_, i) => ({ type: RTM_NEWADDR, payload: Buffer.from(`r${i}`), fenced: true, op: `op${i}`, ...extra }));

/** The datagrams sent so far, each as its messages. */
const datagrams = (fake: FakeTransport): NlMessage[][] => fake.sent.map((d) => decodeMessages(d));

test('a lot of fenced requests goes in datagrams of consecutive sequence numbers, each closed by its fence', async (t) => {
  const { fake, engine } = setup({ maxBatchBytes: 4 * 20 + 16 }); // four 20-byte messages and a fence per datagram
  const all = engine.requestAll(lotOf(10, { flags: NLM_F_CREATE }));
  await flush();
  const sent = datagrams(fake);
  t.deepEqual(sent.map((d) => d.length), [5, 5, 3], 'four, four and two requests, each datagram with a fence');
  for (const d of sent) {
    const fence = d.at(-1)?.header;
    t.is(fence?.type, NLMSG_NOOP);
    t.is(fence?.flags, NLM_F_REQUEST | NLM_F_ACK);
    d.forEach((m, i) => t.is(m.header.seq, (d[0]?.header.seq ?? 0) + i, 'consecutive, the fence right after'));
    for (const m of d.slice(0, -1)) t.is(m.header.flags, NLM_F_REQUEST | NLM_F_CREATE, 'no ACK asked per request');
  }
  t.deepEqual(sent.flatMap((d) => d.slice(0, -1).map(body)), lotOf(10).map((r) => String(r.payload)));
  t.is(engine.inFlightCount, 10);
  // The kernel refuses one request of the second datagram, then answers the three fences.
  const refused = sent[1]?.[2]?.header;
  if (!refused) return t.fail('a request expected');
  fake.deliver([errorTo(refused, PORT, { error: -17, message: 'exists' }), ...sent.map((d) => errorTo(d.at(-1)?.header as NlMessageHeader, PORT))]);
  const results = await all;
  t.deepEqual(results.map((r) => r.status), [...Array(6).fill('fulfilled'), 'rejected', ...Array(3).fill('fulfilled')]);
  const err = results[6]?.status === 'rejected' ? results[6].reason as NetlinkError : undefined;
  t.is(err?.code, 'EEXIST');
  t.is(err?.syscall, 'op6');
  t.is(err?.extack?.message, 'exists');
  t.is(err?.request?.seq, refused.seq, 'the error names the header the request was sent with');
  t.is(err?.request?.flags, NLM_F_REQUEST | NLM_F_CREATE);
  t.is(engine.inFlightCount, 0);
});

test('a lot waits for room in the window: the next datagram goes when a fence is answered', async (t) => {
  const { fake, engine } = setup({ maxInFlight: 3 });
  const all = engine.requestAll(lotOf(7));
  const after = engine.request({ type: RTM_GETLINK, op: 'after' }); // made after the lot: goes after it
  await flush();
  t.deepEqual(datagrams(fake).map((d) => d.length), [4]);
  t.is(engine.inFlightCount, 3);
  t.is(engine.queuedCount, 5, 'four of the lot and the request after it');
  fake.deliver(errorTo(fake.header(), PORT));
  await flush();
  t.deepEqual(datagrams(fake).map((d) => d.length), [4, 4]);
  fake.deliver(errorTo(fake.header(), PORT));
  await flush();
  t.deepEqual(datagrams(fake).map((d) => d.length), [4, 4, 2, 1], 'the lot\'s last request, then (in a datagram of its own) the one after');
  const [, , last, alone] = datagrams(fake);
  t.is(alone?.[0]?.header.type, RTM_GETLINK);
  fake.deliver([errorTo(last?.at(-1)?.header as NlMessageHeader, PORT), errorTo(alone?.[0]?.header as NlMessageHeader, PORT)]);
  t.true((await all).every((r) => r.status === 'fulfilled'));
  t.deepEqual(await after, []);
});

test('a RequestSource is asked for each request as it is sent, and again only to name a refusal', async (t) => {
  const { fake, engine } = setup();
  const asked: number[] = [];
  const reqs = lotOf(5);
  reqs[3] = { type: RTM_NEWADDR, op: 'not fenced' };
  const source: RequestSource = { length: 5, at: (i) => { asked.push(i); return reqs[i] as NetlinkRequest; } };
  const all = engine.requestAll(source);
  t.deepEqual(asked, [], 'nothing is made before the engine sends');
  await flush();
  t.deepEqual(asked, [0, 1, 2, 3, 4]);
  t.deepEqual(datagrams(fake).map((d) => d.slice(0, -1).map(body)), [['r0', 'r1', 'r2'], ['r4']], 'the unfenced request is not sent; a datagram holds consecutive requests');
  const [first, second] = datagrams(fake);
  const refused = first?.[1]?.header;
  if (!refused || !first || !second) return t.fail('two datagrams expected');
  fake.deliver([errorTo(refused, PORT, { error: -2 }), errorTo(first.at(-1)?.header as NlMessageHeader, PORT), errorTo(second.at(-1)?.header as NlMessageHeader, PORT)]);
  const results = await all;
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  t.true(results[1]?.status === 'rejected' && results[1].reason instanceof NetlinkError && results[1].reason.syscall === 'op1');
  t.true(results[3]?.status === 'rejected' && results[3].reason instanceof TypeError);
  t.deepEqual(asked.slice(5), [1], 'asked again only for the refusal by the kernel (the unfenced one was named when it was made)');
  t.is(engine.stats.refused, 1, 'the kernel\'s refusal counted, not the request refused before sending');
});

test('a fenced request of a lot that draws a reply resolves with it at the fence; a message after its refusal is a stray', async (t) => {
  const { fake, engine, strays } = setup();
  const all = engine.requestAll(lotOf(3));
  await flush();
  const [a, b, c, fence] = fake.requests.map((m) => m.header);
  if (!a || !b || !c || !fence) return t.fail('three requests and a fence expected');
  fake.deliver([replyTo(a, PORT, RTM_NEWLINK, Buffer.from('lo')), errorTo(b, PORT, { error: -1 }), errorTo(b, PORT, { error: -1 }), errorTo(fence, PORT)]);
  const results = await all;
  t.true(results[0]?.status === 'fulfilled' && results[0].value.map(body).join() === 'lo');
  t.is(results[1]?.status, 'rejected');
  t.deepEqual(results[2], { status: 'fulfilled', value: [] });
  t.deepEqual(strays, [[b.seq, 'unknown-seq']]);
});

test('a lot times out as a whole: sent and unsent requests reject, a late fence is a stray', async (t) => {
  const { fake, engine, strays } = setup({ maxInFlight: 2, timeoutMs: 20 });
  const all = engine.requestAll(lotOf(4));
  await flush();
  const fence = fake.header();
  const results = await all;
  t.true(results.every((r) => r.status === 'rejected' && r.reason instanceof RequestTimeoutError));
  t.deepEqual(results.map((r) => r.status === 'rejected' && (r.reason as RequestTimeoutError).syscall), ['op0', 'op1', 'op2', 'op3']);
  t.is(engine.stats.timeouts, 4, 'each request of the lot counted');
  t.is(engine.inFlightCount, 0);
  t.is(engine.queuedCount, 0);
  fake.deliver(errorTo(fence, PORT));
  t.deepEqual(strays, [[fence.seq, 'unknown-seq']]);
  t.is(fake.sent.length, 1, 'nothing of the lot is sent after its timeout');
  t.deepEqual(await Promise.all([engine.request({ type: RTM_GETLINK }), (await flush(), fake.deliver(errorTo(fake.header(), PORT)))]), [[], undefined]);
});

test('ENOBUFS fails the lot\'s requests in flight, the rest is still sent; close cancels what is left', async (t) => {
  const { fake, engine } = setup({ maxInFlight: 2 });
  engine.on('enobufs', () => undefined);
  const all = engine.requestAll(lotOf(6));
  await flush();
  fake.fail(Object.assign(new Error('recvmsg ENOBUFS'), { code: 'ENOBUFS', errno: 105 }));
  await flush();
  t.is(datagrams(fake).length, 2, 'the next requests went once the window was free');
  fake.deliver(errorTo(fake.header(), PORT));
  await flush();
  engine.close();
  const results = await all;
  t.deepEqual(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).constructor.name : 'ok')),
    ['NetlinkOverrunError', 'NetlinkOverrunError', 'ok', 'ok', 'RequestCancelledError', 'RequestCancelledError']);
  t.deepEqual(await engine.requestAll({ length: 1, at: () => ({ type: RTM_NEWADDR, fenced: true }) }).then((r) => r.map((x) => x.status)), ['rejected']);
});

test('a failed send fails the requests of that datagram of a lot', async (t) => {
  const { fake, engine } = setup({ maxBatchBytes: 2 * 20 + 16 });
  fake.sendError = Object.assign(new Error('sendmsg EMSGSIZE'), { code: 'EMSGSIZE' });
  const all = engine.requestAll(lotOf(4));
  await flush();
  const second = datagrams(fake)[0];
  fake.deliver(errorTo(second?.at(-1)?.header as NlMessageHeader, PORT));
  t.deepEqual((await all).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok')), ['sendmsg EMSGSIZE', 'sendmsg EMSGSIZE', 'ok', 'ok']);
  t.is(engine.inFlightCount, 0);
});

test('sequence numbers of a lot never wrap inside a datagram, nor meet a request in flight', async (t) => {
  const { fake, engine } = setup({ firstSeq: 0xffffffff - 2 });
  const single = engine.request({ type: RTM_GETLINK }); // takes 0xfffffffd
  await flush();
  const all = engine.requestAll(lotOf(3));
  await flush();
  const lot = datagrams(fake)[1]?.map((m) => m.header.seq);
  t.deepEqual(lot, [1, 2, 3, 4], 'four numbers do not fit before 2^32-1: the range starts at 1');
  const again = engine.requestAll(lotOf(2));
  await flush();
  t.deepEqual(datagrams(fake)[2]?.map((m) => m.header.seq), [5, 6, 7]);
  fake.deliver([errorTo(fake.header(0), PORT), ...datagrams(fake).slice(1).map((d) => errorTo(d.at(-1)?.header as NlMessageHeader, PORT))]);
  t.deepEqual(await single, []);
  t.true((await all).every((r) => r.status === 'fulfilled'));
  t.true((await again).every((r) => r.status === 'fulfilled'));
});

test('a payload writer writes in place; its message is padded like any other', async (t) => {
  const { fake, engine } = setup();
  const writer = { length: 5, write: (buf: Buffer, at: number) => { buf.write('hello', at, 'latin1'); } };
  const pending = engine.request({ type: RTM_NEWADDR, payload: writer });
  const other = engine.request({ type: RTM_NEWADDR, payload: [Buffer.from('ab'), Buffer.from('c')] });
  await flush();
  t.is(fake.sent.length, 1);
  t.is(fake.sent[0]?.length, 24 + 20, 'each message padded to 4 bytes');
  t.deepEqual(fake.requests.map((m) => [m.header.length, m.payload.toString('latin1')]), [[21, 'hello'], [19, 'abc']]);
  fake.deliver(fake.requests.map((m) => errorTo(m.header, PORT)));
  t.deepEqual(await Promise.all([pending, other]), [[], []]);
});
