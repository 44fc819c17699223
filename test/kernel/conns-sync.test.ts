// layer: tests (kernel tier)
// job: the two sync sources on real sockets between namespaces: the backup's multicast receiver and the master's packet capture with its BPF filter.
import test, { type ExecutionContext } from 'ava';
import { ConnTracker, SyncCapture, SyncReceiver, encodeSyncMessages, type SyncMessage, type SyncStream } from '../../src/conns/index.js';
import { binding } from '../../src/native/binding.js';
import { openSocket, type Socket } from '../../src/native/socket.js';
import { connsFor } from '../helpers/conns-fixtures.js';
import { createNetns, createVethPair, type Netns } from '../helpers/netns.js';

interface Pair { master: Netns; backup: Netns; masterIfindex: number }

/** Two namespaces on a veth pair: `lbm` 10.9.0.1 (master side) and `lbb` 10.9.0.2 (backup side). */
async function pair(t: ExecutionContext): Promise<Pair> {
  const master = await createNetns(t);
  const backup = await createNetns(t);
  const veth = await createVethPair(master, backup, { deviceA: 'lbm', deviceB: 'lbb', addressesA: ['10.9.0.1/24'], addressesB: ['10.9.0.2/24'] });
  return { master, backup, masterIfindex: veth.a.ifindex };
}

/** A UDP socket in `netns` sending to the sync group from `address`, as a master's sync thread does. */
function multicastSender(t: { teardown(fn: () => void): void }, netns: Netns, address: string, ifindex: number): Socket {
  const s = openSocket({ family: 'inet', type: 'dgram', protocol: 17, netns: netns.name });
  t.teardown(() => s.close());
  s.bind({ family: 'inet', address, port: 0 });
  s.setMulticastInterfaceIPv4(ifindex);
  s.setMulticastTtl(1);
  return s;
}

function nextMessages(stream: SyncStream, count: number): Promise<SyncMessage[]> {
  return new Promise((resolve, reject) => {
    const got: SyncMessage[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages in 10 s; counters ${JSON.stringify(stream.counters)}`)), 10_000);
    stream.on('message', (m) => {
      got.push(m);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

test('BACKUP source: joins 224.0.0.81 on the sync interface, decodes, counts drops, feeds a tracker', async (t) => {
  const { master, backup, masterIfindex } = await pair(t);
  const receiver = await SyncReceiver.open({ interface: 'lbb', netns: backup.name, syncId: 9 });
  t.teardown(() => receiver.close());
  const tracker = new ConnTracker({ threshold: 100 });
  receiver.on('message', (m, info) => tracker.apply(m, info.receivedAtMs));
  const conns = connsFor([{ address: '198.18.0.1', states: { ESTABLISHED: 150, TIME_WAIT: 20 } }, { address: '2001:db8::5', states: { ESTABLISHED: 7 } }]);
  const datagrams = encodeSyncMessages(conns, { syncId: 9 });
  const sender = multicastSender(t, master, '10.9.0.1', masterIfindex);
  const dest = { family: 'inet' as const, address: '224.0.0.81', port: 8848 };
  const arrived = nextMessages(receiver, datagrams.length);
  await sender.send(Buffer.from('garbage'), dest); // its "size" field reads 0x7262: truncated
  await sender.send(encodeSyncMessages(conns.slice(0, 3), { syncId: 10 })[0] as Buffer, dest);
  await sender.send((datagrams[0] as Buffer).subarray(0, 100), dest);
  await sender.send(Buffer.concat([datagrams[0] as Buffer, Buffer.alloc(1)]), dest);
  for (const d of datagrams) await sender.send(d, dest);
  const messages = await arrived;
  t.is(messages.reduce((n, m) => n + m.conns.length, 0), conns.length);
  t.like(receiver.counters, { messages: datagrams.length, conns: conns.length, datagrams: datagrams.length + 4 });
  t.deepEqual(receiver.counters.dropped, { 'length-mismatch': 1, 'sync-id': 1, truncated: 2 });
  t.deepEqual(tracker.overThreshold().map((c) => [c.address, c.count, c.total]), [['198.18.0.1', 150, 170]]);
  t.deepEqual(tracker.client('2001:db8::5'), { count: 7, total: 7 });
});

test('BACKUP source beside another socket on the same group and port (the kernel\'s own backup daemon binds there too): both receive', async (t) => {
  const { master, backup, masterIfindex } = await pair(t);
  const k = binding().constants as Record<string, number>;
  const other = openSocket({ family: 'inet', type: 'dgram', protocol: 17, netns: backup.name });
  t.teardown(() => other.close());
  other.setOption(k['SOL_SOCKET'] as number, k['SO_REUSEADDR'] as number, 1);
  other.bindToDevice('lbb');
  other.bind({ family: 'inet', address: '224.0.0.81', port: 8848 });
  other.joinMulticastIPv4('224.0.0.81', await backup.ifindex('lbb'));
  const receiver = await SyncReceiver.open({ interface: 'lbb', netns: backup.name });
  t.teardown(() => receiver.close());
  const otherGot = new Promise<Buffer>((resolve) => other.once('message', (d) => resolve(Buffer.from(d))));
  const ours = nextMessages(receiver, 1);
  const datagram = encodeSyncMessages(connsFor([{ address: '198.18.0.2', states: { ESTABLISHED: 1 } }]))[0] as Buffer;
  await multicastSender(t, master, '10.9.0.1', masterIfindex).send(datagram, { family: 'inet', address: '224.0.0.81', port: 8848 });
  t.deepEqual(await otherGot, datagram);
  t.is((await ours)[0]?.conns[0]?.clientAddress, '198.18.0.2');
});

test('MASTER source: captures only what this host sends to the sync ports, through the BPF filter', async (t) => {
  const { master, backup, masterIfindex } = await pair(t);
  const capture = await SyncCapture.open({ interface: 'lbm', netns: master.name, ports: 2 });
  t.teardown(() => capture.close());
  const tracker = new ConnTracker();
  capture.on('message', (m, info) => tracker.apply(m, info.receivedAtMs));
  const sender = multicastSender(t, master, '10.9.0.1', masterIfindex);
  const mine = encodeSyncMessages(connsFor([{ address: '198.18.0.3', states: { ESTABLISHED: 5 } }]));
  const second = encodeSyncMessages(connsFor([{ address: '198.18.0.4', states: { ESTABLISHED: 2 } }]));
  const arrived = nextMessages(capture, 2);
  // Incoming sync traffic (another master) and other ports must not reach the socket at all.
  const peer = multicastSender(t, backup, '10.9.0.2', await backup.ifindex('lbb'));
  await peer.send(encodeSyncMessages(connsFor([{ address: '198.18.0.66', states: { ESTABLISHED: 1 } }]))[0] as Buffer, { family: 'inet', address: '224.0.0.81', port: 8848 });
  await sender.send(Buffer.from('not sync'), { family: 'inet', address: '224.0.0.81', port: 8850 });
  await sender.send(mine[0] as Buffer, { family: 'inet', address: '224.0.0.81', port: 8848 });
  await sender.send(second[0] as Buffer, { family: 'inet', address: '224.0.0.81', port: 8849 });
  const messages = await arrived;
  t.deepEqual(messages.map((m) => m.conns[0]?.clientAddress), ['198.18.0.3', '198.18.0.4']);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(capture.counters.datagrams, 2, 'the filter let nothing else through');
  t.deepEqual(tracker.all().map((c) => [c.address, c.count]), [['198.18.0.3', 5], ['198.18.0.4', 2]]);
});

test('a missing interface is an error naming it; closing a source ends its message iterator', async (t) => {
  const ns = await createNetns(t);
  await t.throwsAsync(SyncReceiver.open({ interface: 'nosuch0', netns: ns.name }));
  await ns.ip('link', 'add', 'name', 'sync0', 'type', 'veth', 'peer', 'name', 'sync1');
  await ns.ip('link', 'set', 'sync0', 'up');
  const receiver = await SyncReceiver.open({ interface: 'sync0', netns: ns.name });
  const iterating = (async () => {
    let n = 0;
    for await (const _ of receiver.messages()) n++;
    return n;
  })();
  receiver.close();
  t.is(await iterating, 0);
});
