// layer: tests (unit)
// job: the line number ipset echoes for a failed batch element reaches the NetlinkError, and truncated datagrams fail requests.
import test from 'ava';
import { EventEmitter } from 'node:events';
import type { Socket } from '../../src/native/socket.js';
import { decodeEchoedLineno } from '../../src/ipset/codec.js';
import { NetlinkEngine } from '../../src/netlink/engine.js';
import { NetlinkError, NetlinkOverrunError } from '../../src/netlink/errors.js';
import { NetlinkSocketTransport } from '../../src/netlink/socket.js';
import { FakeTransport, flush } from '../helpers/fake-transport.js';
import { fixture, resequence } from '../helpers/ipset-fixtures.js';

test('an uncapped ipset error keeps the echoed request on the NetlinkError, with the failing line number', async (t) => {
  const fake = new FakeTransport();
  const engine = new NetlinkEngine(fake);
  const pending = engine.request({ type: 0x609, payload: Buffer.alloc(4) });
  await flush();
  // The captured reply answers seq 41; give it our request's sequence number.
  fake.deliver(resequence(fixture('reply-error-lineno'), fake.header().seq, fake.portId));
  const err = await t.throwsAsync(pending, { instanceOf: NetlinkError });
  t.truthy(err?.echo);
  t.is(decodeEchoedLineno(err?.echo ?? Buffer.alloc(0)), 3);
});

test('a truncated netlink datagram is reported as ENOBUFS and fails the requests in flight', async (t) => {
  const socket = Object.assign(new EventEmitter(), { address: () => ({ family: 'netlink', pid: 77, groups: 0 }) });
  const transport = new NetlinkSocketTransport(socket as unknown as Socket);
  t.is(transport.portId, 77);
  const engine = new NetlinkEngine(transport);
  engine.on('enobufs', () => undefined);
  (socket as unknown as { send: () => Promise<number> }).send = () => Promise.resolve(16);
  const pending = engine.request({ type: 0x10 });
  await flush();
  socket.emit('message', Buffer.alloc(16), { truncated: true, from: { family: 'netlink', pid: 0, groups: 0 } });
  const err = await t.throwsAsync(pending, { instanceOf: NetlinkOverrunError });
  t.is(err?.code, 'ENOBUFS');
});
