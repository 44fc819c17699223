// layer: tests (kernel tier)
// job: bulk add/delete against the host kernel: 100,000 entries, progress, failures mapped to entries, timeouts expiring.
import test from 'ava';
import type { BulkProgress } from '../../src/ipset/bulk.js';
import { createNetns } from '../helpers/netns.js';
import { addresses, oracleList, oracleMembers, oracleSave, oracleTest, openClient } from '../helpers/ipset.js';
import { until } from '../helpers/until.js';

test('a 100,000-entry load works: every address is in the set, as ipset sees it', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('big', { type: 'hash:ip', maxElements: 200000 });
  const list = addresses(100000);
  const progress: BulkProgress[] = [];
  const result = await client.addMany('big', list, { onProgress: (p) => progress.push(p) });
  t.deepEqual(result, { applied: 100000, failed: [] });
  t.is((await oracleList(ns, 'big', true)).entries, 100000);
  const saved = (await oracleSave(ns, 'big')).trim().split('\n');
  t.is(saved.length, 100001);
  t.deepEqual(saved.slice(1).map((l) => l.replace('add big ', '')).sort(), [...list].sort());
  for (const probe of ['10.0.0.0', '10.0.134.159', '10.1.134.159']) t.true(await oracleTest(ns, 'big', probe), probe);
  t.false(await oracleTest(ns, 'big', '10.1.134.160'));
  // Our own listing of the same set, across its multipart dump.
  const listed = await client.list('big');
  t.is(listed.members.length, 100000);
  t.is(new Set(listed.members.map((m) => m.address)).size, 100000);
  // Progress after each message: increasing, ending at the total; far fewer messages than entries.
  t.true(progress.length >= 10 && progress.length <= 100, `${progress.length} messages`);
  t.deepEqual(progress.at(-1), { done: 100000, applied: 100000, failed: 0, total: 100000 });
  t.true(progress.every((p, i) => i === 0 || p.done > (progress[i - 1] as BulkProgress).done));
});

test('continueOnError: each failing entry is reported with its index and reason; the others are applied', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', maxElements: 6 });
  await client.add('bans', '10.0.0.3');
  const input = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'not-an-ip', '2001:db8::1', '10.0.0.1', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7'];
  const result = await client.addMany('bans', input, { continueOnError: true });
  t.deepEqual(result.failed.map((f) => [f.index, f.entry, f.error.kind, f.error.code]), [
    [2, '10.0.0.3', 'element-exists', 'IPSET_ERR_EXIST'],
    [3, 'not-an-ip', 'invalid-entry', 'EINVAL'],
    [4, '2001:db8::1', 'wrong-family', 'IPSET_ERR_IPADDR_IPV4'],
    [5, '10.0.0.1', 'element-exists', 'IPSET_ERR_EXIST'],
    [9, '10.0.0.7', 'set-full', 'IPSET_ERR_HASH_FULL'],
  ]);
  t.is(result.applied, 5);
  t.deepEqual(await oracleMembers(ns, 'bans'), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
});

test('without continueOnError a bulk add stops at the first failure and says how much was applied', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('small', { type: 'hash:ip', maxElements: 1000 });
  const err = await t.throwsAsync(client.addMany('small', addresses(5000)));
  t.like(err, { name: 'IpsetBulkError', kind: 'set-full', errno: 4352, index: 1000, entry: '10.0.3.232', applied: 1000 });
  t.is((await oracleList(ns, 'small', true)).entries, 1000);
  // exist: duplicates are not failures.
  await t.notThrowsAsync(client.addMany('small', addresses(10), { exist: true }));
});

test('delMany removes many entries; missing ones are failures unless exist', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:net' });
  await client.addMany('bans', ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.7', '2.2.2.2']);
  const missing = await t.throwsAsync(client.delMany('bans', ['192.0.2.0/24', '203.0.113.1']));
  t.like(missing, { kind: 'element-missing', index: 1, applied: 1 });
  await client.delMany('bans', ['198.51.100.7', '203.0.113.1'], { exist: true });
  t.deepEqual(await oracleMembers(ns, 'bans'), ['10.0.0.0/8', '2.2.2.2']);
});

test('timeouts expire: per-entry and the set default, as ipset and test() see them', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', timeoutSec: 3 });
  await client.add('bans', '10.0.0.1'); // the set's default: 3 s
  await client.add('bans', { address: '10.0.0.2', timeoutSec: 600 });
  await client.addMany('bans', [{ address: '10.0.0.3', timeoutSec: 3 }, { address: '10.0.0.4', timeoutSec: 0 }]);
  t.deepEqual((await oracleMembers(ns, 'bans')).map((m) => m.split(' ')[0]), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  t.true(await client.test('bans', '10.0.0.3'));
  // The kernel's garbage collection of expired entries runs on its own period: poll until the 3 s ones are gone.
  await until('the entries with a 3 s timeout expired', async () => (await oracleMembers(ns, 'bans')).length === 2, 15_000, 200);
  const left = await oracleMembers(ns, 'bans');
  t.deepEqual(left.map((m) => m.split(' ')[0]), ['10.0.0.2', '10.0.0.4']);
  t.regex(left[0] ?? '', /^10\.0\.0\.2 timeout 59\d$/);
  t.is(left[1], '10.0.0.4 timeout 0', 'timeout 0: never expires');
  t.false(await client.test('bans', '10.0.0.1'));
  t.false(await client.test('bans', '10.0.0.3'));
  t.false(await oracleTest(ns, 'bans', '10.0.0.3'));
  t.deepEqual((await client.list('bans')).members.map((m) => m.address).sort(), ['10.0.0.2', '10.0.0.4']);
});

test('an aborted bulk operation stops sending and rejects with the signal\'s reason', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('big', { type: 'hash:ip', maxElements: 200000 });
  const controller = new AbortController();
  const reason = new Error('shutting down');
  const err = await t.throwsAsync(client.addMany('big', addresses(100000), {
    maxMessagesInFlight: 1,
    onProgress: (p) => { if (p.done >= 5000) controller.abort(reason); },
    signal: controller.signal,
  }));
  t.is(err, reason);
  const entries = (await oracleList(ns, 'big', true)).entries;
  t.true(entries >= 5000 && entries < 100000, `${entries} entries`);
});
