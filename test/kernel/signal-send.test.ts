// layer: tests (kernel tier)
// job: datagrams armed for a signal leave from its handler, before JS hears of it; disarmed, closed or superseded ones never do.
import test from 'ava';
import { binding } from '../../src/native/binding.js';
import { SignalSend, sendOnSignal } from '../../src/native/signal-send.js';
import { openSocket, type Socket } from '../../src/native/socket.js';

// Signal handlers are process-wide: these tests take turns.
const SIGNAL = 'SIGUSR2';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A UDP receiver on loopback, collecting what arrives, and its address. */
function receiver(): { socket: Socket; got: string[]; dest: { family: 'inet'; address: string; port: number } } {
  const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  socket.bind({ family: 'inet', address: '127.0.0.1', port: 0 });
  const got: string[] = [];
  socket.on('message', (data) => got.push(data.toString()));
  socket.resume();
  const address = socket.address();
  if (address.family !== 'inet' || address.port === undefined) throw new Error('no port');
  return { socket, got, dest: { family: 'inet', address: '127.0.0.1', port: address.port } };
}

/** Raise the signal and wait for its JS listener; returns what the listener saw. */
async function raise<T>(atListener: () => T): Promise<T> {
  const seen = new Promise<T>((resolve) => process.once(SIGNAL, () => resolve(atListener())));
  sendOnSignal(SIGNAL); // after the listener: node's handler is then the one displaced
  process.kill(process.pid, SIGNAL);
  return seen;
}

test.serial('an armed datagram leaves from the signal handler, before the JS listener runs, which still runs', async (t) => {
  const r = receiver();
  const sender = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => { r.socket.close(); sender.close(); });
  const armed = SignalSend.arm(sender, [Buffer.from('last '), Buffer.from('word')], r.dest);
  if (!armed) return t.fail('no slot');
  t.false(armed.sent);
  const sentBeforeListener = await raise(() => armed.sent);
  t.true(sentBeforeListener, 'the datagram was sent before the JS listener ran');
  for (let i = 0; i < 100 && r.got.length === 0; i++) await sleep(10);
  t.deepEqual(r.got, ['last word']);
  t.true(armed.disarm(), 'disarm reports that the handler sent it');
  t.false(armed.disarm());
});

test.serial('disarmed, closed-socket and superseded armings are never sent; installing twice sends once', async (t) => {
  const r = receiver();
  const a = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  const b = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  const c = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => { for (const s of [r.socket, a, b, c]) s.close(); });
  const signalSends = binding().signalSends;
  const first = a.armSignalSend([Buffer.from('disarmed')], r.dest);
  t.true(first >= 0);
  t.false(signalSends.disarm(first), 'not sent');
  t.true(b.armSignalSend([Buffer.from('closed')], r.dest) >= 0);
  b.close();
  // The freed slots are armed again: the first token names an earlier arming and frees nothing.
  const tokens = [c.armSignalSend([Buffer.from('kept')], r.dest), c.armSignalSend([Buffer.from('kept too')], r.dest)];
  t.false(signalSends.disarm(first));
  t.false(signalSends.sent(first));
  sendOnSignal(SIGNAL);
  await raise(() => undefined); // a second install in front of itself must not chain to itself
  for (let i = 0; i < 100 && r.got.length < 2; i++) await sleep(10);
  // The handler sent (or not) before the listener ran, and loopback queues a datagram as it is sent:
  // a marker sent now arrives after anything the handler sent.
  const marker = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => marker.close());
  await marker.send(Buffer.from('marker'), r.dest);
  for (let i = 0; i < 200 && !r.got.includes('marker'); i++) await sleep(10);
  t.deepEqual(r.got.filter((g) => g !== 'marker').sort(), ['kept', 'kept too']);
  t.true(r.got.includes('marker'));
  for (const token of tokens) t.true(signalSends.disarm(token));
});

test.serial('a datagram over 4 KiB is not armed (the caller sends it the ordinary way)', (t) => {
  const sender = openSocket({ family: 'inet', type: 'dgram', protocol: 0 });
  t.teardown(() => sender.close());
  t.is(SignalSend.arm(sender, [Buffer.alloc(4097)], { family: 'inet', address: '127.0.0.1', port: 9 }), undefined);
  const fits = SignalSend.arm(sender, [Buffer.alloc(4096)], { family: 'inet', address: '127.0.0.1', port: 9 });
  t.truthy(fits);
  t.false(fits!.disarm());
});
