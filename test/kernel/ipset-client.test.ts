// layer: tests (kernel tier)
// job: every ipset client operation against the host kernel, each test in its own namespace, with `ipset list` as the oracle.
import test from 'ava';
import { formatHeaderOptions, formatListing, formatListings, formatSave } from '../../src/ipset/format.js';
import { createNetns } from '../helpers/netns.js';
import { oracleList, oracleMembers, oracleNames, oracleTest, openClient } from '../helpers/ipset.js';

test('the protocol check agrees with `ipset --version`', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  const version = await ns.exec(['ipset', '--version']);
  t.regex(version, new RegExp(`protocol version: ${client.protocol}\\b`));
  t.is(client.kernelProtocol.protocol, 7);
  t.true(client.kernelProtocol.protocolMin <= client.protocol);
});

test('create: hash:ip, hash:net and hash:ip,port with their options, as `ipset list -t` shows them', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', hashSize: 4096, maxElements: 100000, timeoutSec: 600, counters: true, comment: true });
  await client.create('nets6', { type: 'hash:net', family: 'inet6', timeoutSec: 0 });
  await client.create('svc', { type: 'hash:ip,port' });
  const expected: [string, string, RegExp][] = [
    ['bans', 'hash:ip', /^family inet hashsize 4096 maxelem 100000 timeout 600 counters comment bucketsize \d+ initval 0x[0-9a-f]{8}$/],
    ['nets6', 'hash:net', /^family inet6 hashsize 1024 maxelem 65536 timeout 0 bucketsize \d+ initval 0x[0-9a-f]{8}$/],
    ['svc', 'hash:ip,port', /^family inet hashsize 1024 maxelem 65536 bucketsize \d+ initval 0x[0-9a-f]{8}$/],
  ];
  for (const [name, type, header] of expected) {
    const oracle = await oracleList(ns, name, true);
    t.is(oracle.type, type);
    t.regex(oracle.header, header);
    const info = await client.describe(name);
    t.is(formatHeaderOptions(info), oracle.header, `${name}: our header reads back what ipset prints`);
    t.is(info.revision, oracle.revision);
    t.is(info.revision, (await client.typeInfo(type as 'hash:ip', info.family as 'inet')).revision, 'created with the newest revision');
    t.deepEqual(await client.header(name), { name, type, family: info.family, revision: oracle.revision });
  }
  t.deepEqual(await oracleNames(ns), ['bans', 'nets6', 'svc']);
});

test('create with exist accepts an identical set and refuses another of the same name', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip' });
  await t.notThrowsAsync(client.create('bans', { type: 'hash:ip', exist: true }));
  const err = await t.throwsAsync(client.create('bans', { type: 'hash:net', exist: true }));
  t.like(err, { name: 'IpsetError', errno: 17, code: 'EEXIST', kind: 'set-exists', setName: 'bans' });
});

test('add, test and del single entries (timeout, comment, exist) as `ipset list` and `ipset test` see them', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', timeoutSec: 0, comment: true });
  await client.add('bans', '203.0.113.7');
  await client.add('bans', { address: '198.51.100.1', timeoutSec: 3600, comment: 'autoban: 140 conns' });
  t.deepEqual((await oracleMembers(ns, 'bans')).map((m) => m.replace(/timeout \d+ comment/, 'timeout N comment')),
    ['198.51.100.1 timeout N comment "autoban: 140 conns"', '203.0.113.7 timeout 0']);
  t.true(await client.test('bans', '203.0.113.7'));
  t.false(await client.test('bans', '203.0.113.8'));
  t.true(await oracleTest(ns, 'bans', '198.51.100.1'));

  const dup = await t.throwsAsync(client.add('bans', '203.0.113.7'));
  t.like(dup, { errno: 4103, code: 'IPSET_ERR_EXIST', kind: 'element-exists', reason: "Element cannot be added to the set: it's already added" });
  await client.add('bans', { address: '203.0.113.7', timeoutSec: 50 }, { exist: true }); // exist: updates the timeout
  t.regex((await oracleMembers(ns, 'bans')).find((m) => m.startsWith('203.0.113.7 ')) ?? '', /^203\.0\.113\.7 timeout (4\d|50)$/);

  await client.del('bans', '198.51.100.1');
  t.false(await oracleTest(ns, 'bans', '198.51.100.1'));
  const missing = await t.throwsAsync(client.del('bans', '198.51.100.1'));
  t.like(missing, { errno: 4103, kind: 'element-missing' });
  await t.notThrowsAsync(client.del('bans', '198.51.100.1', { exist: true }));
  t.deepEqual((await oracleList(ns, 'bans')).members.length, 1);
});

test('hash:net and hash:ip,port entries: networks, nomatch, ports and protocols', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('nets', { type: 'hash:net' });
  await client.add('nets', '10.0.0.0/8');
  await client.add('nets', { address: '10.1.0.0', cidr: 16, nomatch: true });
  await client.add('nets', '192.0.2.7');
  t.deepEqual(await oracleMembers(ns, 'nets'), ['10.0.0.0/8', '10.1.0.0/16 nomatch', '192.0.2.7']);
  t.true(await client.test('nets', '10.9.9.9'), 'an address inside a listed network tests positive');
  t.false(await client.test('nets', '10.1.2.3'), 'nomatch carves out its network');
  await client.create('svc', { type: 'hash:ip,port', family: 'inet6' });
  await client.add('svc', '2001:db8::1,udp:53');
  await client.add('svc', { address: '2001:db8::2', port: 443 });
  t.deepEqual(await oracleMembers(ns, 'svc'), ['2001:db8::1,udp:53', '2001:db8::2,tcp:443']);
  t.true(await oracleTest(ns, 'svc', '2001:db8::2,tcp:443'));
});

test('flush, rename, swap and destroy', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('a', { type: 'hash:ip' });
  await client.create('b', { type: 'hash:ip' });
  await client.add('a', '10.0.0.1');
  await client.add('b', '10.0.0.2');
  await client.swap('a', 'b');
  t.deepEqual(await oracleMembers(ns, 'a'), ['10.0.0.2']);
  t.deepEqual(await oracleMembers(ns, 'b'), ['10.0.0.1']);
  await client.rename('b', 'c');
  t.deepEqual(await oracleNames(ns), ['a', 'c']);
  await client.flush('c');
  t.deepEqual(await oracleMembers(ns, 'c'), []);
  await client.destroy('c');
  t.deepEqual(await oracleNames(ns), ['a']);
  t.false(await client.exists('c'));
  t.true(await client.exists('a'));
});

test('list, list all, list -t and save print exactly what `ipset list` and `ipset save` print', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', counters: true, comment: true });
  await client.create('nets', { type: 'hash:net', family: 'inet6' });
  for (const a of ['203.0.113.7', '198.51.100.1', '192.0.2.200']) await client.add('bans', { address: a, comment: `ban ${a}` });
  await client.add('nets', '2001:db8::/32');
  t.is(formatListing(await client.list('bans')), (await ns.exec(['ipset', 'list', 'bans'])).trimEnd());
  t.is(formatListings(await client.listAll()), (await ns.exec(['ipset', 'list'])).trimEnd());
  t.is(formatListings(await client.listAll({ headersOnly: true }), { headerOnly: true }), (await ns.exec(['ipset', 'list', '-t'])).trimEnd());
  t.is(formatSave(await client.save()), (await ns.exec(['ipset', 'save'])).trimEnd());
  t.deepEqual(await client.listNames(), ['bans', 'nets']);
});

test('set full (maxelem): IpsetError set-full with IPSET_ERR_HASH_FULL and ipset\'s words', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('small', { type: 'hash:ip', maxElements: 2 });
  await client.add('small', '10.0.0.1');
  await client.add('small', '10.0.0.2');
  const err = await t.throwsAsync(client.add('small', '10.0.0.3'));
  t.like(err, { name: 'IpsetError', errno: 4352, code: 'IPSET_ERR_HASH_FULL', kind: 'set-full', setName: 'small', entry: '10.0.0.3',
    reason: 'Hash is full, cannot add more elements', syscall: 'IPSET_CMD_ADD small 10.0.0.3' });
  t.is((await oracleList(ns, 'small')).entries, 2);
});

test('wrong family: an IPv6 address for an inet set (and the reverse) is wrong-family', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('v4', { type: 'hash:ip' });
  await client.create('v6', { type: 'hash:ip', family: 'inet6' });
  const err = await t.throwsAsync(client.add('v4', '2001:db8::1'));
  // The kernel answers IPSET_ERR_PROTOCOL (no IPv4 attribute); the client looks at the set to say why.
  t.like(err, { errno: 4097, code: 'IPSET_ERR_PROTOCOL', kind: 'wrong-family', reason: 'Kernel error received: ipset protocol error' });
  t.regex(err?.message ?? '', /a hash:ip set of family inet holds IPv4 addresses only/);
  t.like(await t.throwsAsync(client.add('v6', '10.0.0.1')), { kind: 'wrong-family' });
  const bulk = await t.throwsAsync(client.addMany('v4', ['10.0.0.1', '2001:db8::1']));
  t.like(bulk, { name: 'IpsetBulkError', errno: 4109, code: 'IPSET_ERR_IPADDR_IPV4', kind: 'wrong-family', index: 1, applied: 1 });
  t.deepEqual(await oracleMembers(ns, 'v4'), ['10.0.0.1'], 'the entry before the bad one was added');
});

test('wrong set type: swapping different types, a port for hash:ip, no port for hash:ip,port', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('ips', { type: 'hash:ip' });
  await client.create('nets', { type: 'hash:net' });
  await client.create('svc', { type: 'hash:ip,port' });
  t.like(await t.throwsAsync(client.swap('ips', 'nets')), { errno: 4102, code: 'IPSET_ERR_TYPE_MISMATCH', kind: 'wrong-type',
    reason: 'The sets cannot be swapped: their type does not match' });
  t.like(await t.throwsAsync(client.add('svc', '10.0.0.1')), { errno: 4097, kind: 'wrong-type' });
  t.like(await t.throwsAsync(client.addMany('ips', ['10.0.0.1,tcp:80'])), { errno: 4102, kind: 'wrong-type', index: 0, applied: 0 });
  t.like(await t.throwsAsync(client.addMany('ips', ['10.0.0.0/8'])), { kind: 'wrong-type' });
  t.deepEqual(await oracleMembers(ns, 'ips'), []);
});

test('missing set: add, list, destroy, header and addMany are no-such-set (ENOENT)', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  const ops: [string, () => Promise<unknown>][] = [
    ['IPSET_CMD_ADD nope 10.0.0.1', () => client.add('nope', '10.0.0.1')],
    ['IPSET_CMD_LIST nope', () => client.list('nope')],
    ['IPSET_CMD_DESTROY nope', () => client.destroy('nope')],
    ['IPSET_CMD_HEADER nope', () => client.header('nope')],
    ['IPSET_CMD_HEADER nope', () => client.addMany('nope', ['10.0.0.1'])],
  ];
  for (const [syscall, op] of ops) {
    const err = await t.throwsAsync(op());
    t.like(err, { name: 'IpsetError', errno: 2, code: 'ENOENT', kind: 'no-such-set', setName: 'nope', syscall,
      reason: 'The set with the given name does not exist' });
  }
});
