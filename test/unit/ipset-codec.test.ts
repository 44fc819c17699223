// layer: tests (unit)
// job: every ipset request byte for byte as the `ipset` command sends it (sequence numbers aside), through the real client and engine over a fake kernel.
import test from 'ava';
import type { IpsetClient } from '../../src/ipset/client.js';
import { answer, answerDump, fakeIpset, fixture, fixtureCommand, resequence, seqOf } from '../helpers/ipset-fixtures.js';
import { errorTo, flush, type FakeTransport } from '../helpers/fake-transport.js';
import type { NlMessage } from '../../src/netlink/message.js';
import { attrNested, decodeAttrs, type Attr } from '../../src/netlink/attr.js';

/** Our bytes equal the captured ones once the captured sequence number is put in ours. */
function sameBytes(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, ours: Buffer, name: string): void {
  const theirs = fixture(name);
  t.deepEqual(resequence(ours, seqOf(theirs)).toString('hex'), theirs.toString('hex'), `as \`${fixtureCommand(name)}\` sends it`);
}

/** Run `op` against the fake kernel, ACK its one request, and return the bytes it sent. */
async function oneRequest(fake: FakeTransport, op: () => Promise<unknown>): Promise<Buffer> {
  const done = op();
  const sent = await answer(fake);
  await done;
  return sent;
}

test('the protocol check is what ipset sends first, and reads the kernel range 6…7', async (t) => {
  const { client, fake } = await fakeIpset();
  sameBytes(t, fake.sent[0] as Buffer, 'protocol');
  t.deepEqual(client.kernelProtocol, { protocol: 7, protocolMin: 6 });
  t.is(client.protocol, 7);
});

test('create without a revision asks IPSET_CMD_TYPE first, then creates with the newest revision', async (t) => {
  const { client, fake } = await fakeIpset();
  const creating = client.create('bl', { type: 'hash:ip' });
  sameBytes(t, await answer(fake, 'reply-type'), 'type-hash-ip');
  sameBytes(t, await answer(fake), 'create-hash-ip');
  await creating;
  t.deepEqual(await client.typeInfo('hash:ip'), { type: 'hash:ip', family: 'inet', revision: 6, revisionMin: 0 });
});

const creates: [string, Parameters<IpsetClient['create']>][] = [
  ['create-hash-ip-inet6-options', ['bl6', { type: 'hash:ip', family: 'inet6', revision: 6, hashSize: 4096, maxElements: 100000, timeoutSec: 600, counters: true, comment: true }]],
  ['create-hash-net-timeout0', ['bn', { type: 'hash:net', revision: 7, timeoutSec: 0 }]],
  ['create-hash-ip-port', ['bp', { type: 'hash:ip,port', revision: 7 }]],
  ['create-exist', ['bl', { type: 'hash:ip', revision: 6, exist: true }]],
];
for (const [name, args] of creates) {
  test(`create: ${fixtureCommand(name)}`, async (t) => {
    const { client, fake } = await fakeIpset();
    sameBytes(t, await oneRequest(fake, () => client.create(...args)), name);
  });
}

const entryOps: [string, (c: IpsetClient) => Promise<unknown>][] = [
  ['add-ipv4', (c) => c.add('bl', '10.1.2.3')],
  ['add-exist', (c) => c.add('bl', { address: '10.1.2.3' }, { exist: true })],
  ['add-ipv6-timeout-comment', (c) => c.add('bl6', { address: '2001:db8::1', timeoutSec: 30, comment: 'hello' })],
  ['add-net', (c) => c.add('bn', '10.0.0.0/8')],
  ['add-net-timeout-nomatch', (c) => c.add('nn', { address: '10.0.0.0', cidr: 8, timeoutSec: 9, nomatch: true })],
  ['add-ip-port', (c) => c.add('bp', '10.1.2.3,tcp:80')],
  ['add-ip-port-udp-timeout-comment', (c) => c.add('pc', { address: '10.1.2.3', port: 53, protocol: 'udp', timeoutSec: 7, comment: 'x' })],
  ['test', (c) => c.test('bl', '10.1.2.3')],
  ['del', (c) => c.del('bl', '10.1.2.3')],
  ['del-exist', (c) => c.del('bl', '10.1.2.3', { exist: true })],
  ['flush', (c) => c.flush('bl')],
  ['rename', (c) => c.rename('bn', 'bn2')],
  ['swap', (c) => c.swap('bl', 'bl2')],
  ['destroy', (c) => c.destroy('bl2')],
];
for (const [name, op] of entryOps) {
  test(`${fixtureCommand(name)}`, async (t) => {
    const { client, fake } = await fakeIpset();
    sameBytes(t, await oneRequest(fake, () => op(client)), name);
  });
}

test('header is IPSET_CMD_HEADER as ipset sends it before an add, and decodes the reply', async (t) => {
  const { client, fake } = await fakeIpset();
  const header = client.header('bl');
  sameBytes(t, await answer(fake, 'reply-header'), 'header');
  t.deepEqual(await header, { name: 'bl', type: 'hash:ip', family: 'inet', revision: 6 });
});

test('list NAME, list, list -t NAME, list -n and save are the dumps ipset asks for', async (t) => {
  const { client, fake } = await fakeIpset();
  const dumps: [string, () => Promise<unknown>][] = [
    ['list-set', () => client.list('bl')],
    ['list-all', () => client.listAll()],
    ['list-header', () => client.describe('bl')],
    ['list-names', () => client.listNames()],
    ['save-all', () => client.save()],
  ];
  for (const [name, op] of dumps) {
    const done = op();
    sameBytes(t, await answerDump(fake, 'reply-list-hash-ip-inet6', 'reply-list-done'), name);
    await done;
  }
});

test('a listing decodes header options, state and members with timeout, counters and comment', async (t) => {
  const { client, fake } = await fakeIpset();
  const listing = client.list('bl6');
  await answerDump(fake, 'reply-list-hash-ip-inet6', 'reply-list-done');
  t.deepEqual(await listing, {
    name: 'bl6', type: 'hash:ip', family: 'inet6', revision: 6, index: 1, hashSize: 4096, maxElements: 100000, bucketSize: 12,
    initval: 0xacbf751a, timeoutSec: 600, counters: true, comment: true, forceadd: false, skbinfo: false, memoryBytes: 446,
    references: 0, entryCount: 1,
    members: [{ address: '2001:db8::1', timeoutSec: 299, bytes: 0n, packets: 0n, comment: 'hello' }],
  });
});

test('hash:net and hash:ip,port members decode with prefix length, port and protocol', async (t) => {
  const { client, fake } = await fakeIpset();
  const all = client.listAll();
  await answerDump(fake, 'reply-list-hash-net', 'reply-list-hash-ip-port', 'reply-list-done');
  const [net, ipPort] = await all;
  t.is(net?.type, 'hash:net');
  t.is(net?.timeoutSec, 0);
  t.deepEqual(net?.members, [{ address: '192.0.2.7', cidr: 32, timeoutSec: 0 }, { address: '10.0.0.0', cidr: 8, timeoutSec: 0 }]);
  t.is(ipPort?.type, 'hash:ip,port');
  t.is(ipPort?.family, 'inet6');
  t.deepEqual(ipPort?.members, [{ address: '2001:db8::1', port: 53, protocol: 'udp' }]);
});

test('a dump split over several messages merges members per set', async (t) => {
  const { client, fake } = await fakeIpset();
  // A continuation message carries PROTOCOL, SETNAME and ADT only, as the kernel sends the rest of a big set.
  const first = fixture('reply-list-hash-net');
  const adtAt = first.indexOf(Buffer.from('44000880', 'hex'));
  const head = first.subarray(0, 16 + 4 + 8 + 8);
  const continuation = Buffer.concat([head, first.subarray(adtAt)]);
  continuation.writeUInt32LE(continuation.length, 0);
  const listing = client.list('bn2');
  await answerDump(fake, first, continuation, 'reply-list-done');
  t.deepEqual((await listing).members.map((m) => `${m.address}/${m.cidr}`), ['192.0.2.7/32', '10.0.0.0/8', '192.0.2.7/32', '10.0.0.0/8']);
});

test('addMany packs entries into IPSET_ATTR_ADT with line numbers exactly as `ipset restore` does', async (t) => {
  const { client, fake } = await fakeIpset();
  const adding = client.addMany('r', ['10.0.0.1', { address: '10.0.0.2', timeoutSec: 5 }, '10.0.0.3'], { firstLineno: 2 });
  await answer(fake, 'reply-header'); // the set's type and family
  const sent = await answer(fake);
  // libmnl leaves old buffer bytes in the padding after IPSET_ATTR_PROTOCOL; the kernel ignores
  // padding and so does this comparison (bytes 25…27).
  const theirs = fixture('restore-batch');
  theirs.fill(0, 25, 28);
  t.is(resequence(sent, seqOf(theirs)).toString('hex'), theirs.toString('hex'));
  t.deepEqual(await adding, { applied: 3, failed: [] });
});

test('a failed batch element is found from the line number the kernel echoes back', async (t) => {
  const { client, fake } = await fakeIpset();
  const adding = client.addMany('r', ['10.0.0.1', { address: '10.0.0.2', timeoutSec: 5 }, '10.0.0.3'], { firstLineno: 2 });
  await answer(fake, 'reply-header');
  await answer(fake, 'reply-error-lineno'); // IPSET_ERR_TIMEOUT at line 3
  const err = await t.throwsAsync(adding);
  t.like(err, { name: 'IpsetBulkError', errno: 4107, code: 'IPSET_ERR_TIMEOUT', kind: 'unsupported-option', index: 1,
    entry: '10.0.0.2', setName: 'r', applied: 1, reason: 'Timeout cannot be used: set was created without timeout support' });
  t.regex(err?.message ?? '', /^IPSET_CMD_ADD r 10\.0\.0\.2 failed: IPSET_ERR_TIMEOUT \(Timeout cannot be used/);
});

test('a kernel refusal of a single command is an IpsetError with the kind the caller needs', async (t) => {
  const { client, fake } = await fakeIpset();
  const cases: [() => Promise<unknown>, number, object][] = [
    [() => client.add('nope', '1.1.1.1'), -2, { code: 'ENOENT', kind: 'no-such-set', reason: 'The set with the given name does not exist' }],
    [() => client.add('bl', '1.1.1.1'), -4352, { code: 'IPSET_ERR_HASH_FULL', kind: 'set-full', reason: 'Hash is full, cannot add more elements' }],
    [() => client.create('bl', { type: 'hash:ip', revision: 6 }), -17, { code: 'EEXIST', kind: 'set-exists' }],
    [() => client.swap('a', 'b'), -4102, { code: 'IPSET_ERR_TYPE_MISMATCH', kind: 'wrong-type', reason: 'The sets cannot be swapped: their type does not match' }],
    [() => client.swap('a', 'b'), -4101, { kind: 'no-such-set', reason: 'Sets cannot be swapped: the second set does not exist' }],
    [() => client.rename('a', 'b'), -4101, { kind: 'set-exists', reason: 'Set cannot be renamed: a set with the new name already exists' }],
    [() => client.destroy('a'), -4100, { code: 'IPSET_ERR_BUSY', kind: 'in-use' }],
    [() => client.del('bl', '1.1.1.1'), -4103, { kind: 'element-missing', reason: "Element cannot be deleted from the set: it's not added" }],
  ];
  for (const [op, error, expected] of cases) {
    const pending = op();
    await flush();
    const req = fake.requests.at(-1) as NlMessage;
    fake.deliver(errorTo(req.header, fake.portId, { error }));
    const err = await t.throwsAsync(pending);
    t.like(err, { name: 'IpsetError', errno: -error, ...expected });
  }
});

test('test() is false when the kernel says IPSET_ERR_EXIST, true on an ACK', async (t) => {
  const { client, fake } = await fakeIpset();
  const missing = client.test('bl', '10.9.9.9');
  await flush();
  fake.deliver(errorTo((fake.requests.at(-1) as NlMessage).header, fake.portId, { error: -4103 }));
  t.false(await missing);
  const present = client.test('bl', '10.1.2.3');
  await answer(fake);
  t.true(await present);
});

test('fixtures are re-sequenced only in nlmsg_seq/nlmsg_pid and the seq of an echoed request', (t) => {
  const original = fixture('reply-error-lineno');
  const moved = resequence(original, 77, 5);
  t.is(moved.readUInt32LE(8), 77);
  t.is(moved.readUInt32LE(12), 5);
  t.is(moved.readUInt32LE(16 + 4 + 8), 77);
  t.deepEqual(moved.subarray(16, 24), original.subarray(16, 24));
  t.deepEqual(moved.subarray(32), original.subarray(32));
});

test('addMany splits at maxAdtBytes: every message within the limit, line numbers counting on across messages', async (t) => {
  const { client, fake } = await fakeIpset();
  const entries = Array.from({ length: 10 }, (_, i) => `192.0.2.${i + 1}`);
  const progress: number[] = [];
  const adding = client.addMany('bl', entries, { maxAdtBytes: 100, onProgress: (p) => progress.push(p.done) });
  await answer(fake, 'reply-header');
  await flush();
  const batches = fake.requests.slice(2); // after PROTOCOL and HEADER
  t.is(batches.length, 3);
  const linenos: number[][] = [];
  for (const m of batches) {
    const top = decodeAttrs(m.payload, 4);
    const adt = top.find((a) => a.type === 8);
    t.true((adt?.value.length ?? 0) + 4 <= 100);
    linenos.push(attrNested(adt as Attr).map((d) => attrNested(d).find((a) => a.type === 9)?.value.readUInt32BE(0) ?? 0));
    t.is(top.find((a) => a.type === 9)?.value.readUInt32BE(0), linenos.at(-1)?.[0], 'command-level LINENO = its first element\'s');
  }
  t.deepEqual(linenos, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
  fake.deliver(batches.map((m) => errorTo(m.header, fake.portId)));
  t.deepEqual(await adding, { applied: 10, failed: [] });
  t.deepEqual(progress, [4, 8, 10]);
});
