// layer: tests (kernel tier)
// job: atomic replace against the host kernel: a concurrent `ipset test` loop never sees the set empty; failures leave the set as it was.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { IpsetClient } from '../../src/ipset/client.js';
import { temporarySetName } from '../../src/ipset/replace.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { addresses, oracleList, oracleMembers, oracleNames, oracleTest, openClient } from '../helpers/ipset.js';

const PROBE = '10.255.255.254';

/** A loop of `ipset test SET PROBE` in the namespace, counting hits and misses until stopped. */
async function startProber(t: ExecutionContext, ns: Netns, set: string): Promise<{ probes: () => number; misses: () => number; stop: () => Promise<void> }> {
  const stopFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'lvskit-probe-')), 'stop');
  const script = `while [ ! -e ${stopFile} ]; do if ipset test ${set} ${PROBE} 2>/dev/null; then echo ok; else echo MISS; fi; done`;
  const child = spawn('ip', ['netns', 'exec', ns.name, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let probes = 0;
  let misses = 0;
  let rest = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      probes += 1;
      if (line === 'MISS') misses += 1;
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await fs.writeFile(stopFile, '');
      await exited;
      await fs.rm(path.dirname(stopFile), { recursive: true, force: true });
    })();
    return stopping;
  };
  t.teardown(stop);
  while (probes < 3) await new Promise((resolve) => setTimeout(resolve, 10));
  return { probes: () => probes, misses: () => misses, stop };
}

/** Two different lists of `n` addresses, each ending with the probe address. */
function lists(n: number): [string[], string[]] {
  return [[...addresses(n - 1), PROBE], [...addresses(n - 1, 1 << 20), PROBE]];
}

test('swap is atomic: a concurrent `ipset test` loop never sees the set without the probe while it is replaced again and again', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', maxElements: 100000 });
  await client.add('bans', PROBE);
  await ns.exec(['iptables', '-A', 'INPUT', '-m', 'set', '--match-set', 'bans', 'src', '-j', 'DROP']);
  const [a, b] = lists(20000);
  const prober = await startProber(t, ns, 'bans');
  let rounds = 0;
  while (rounds < 10 || prober.probes() < 100) {
    const result = await client.replace('bans', rounds % 2 === 0 ? a : b);
    t.is(result.applied, 20000);
    rounds += 1;
    if (rounds > 500) break;
  }
  await prober.stop();
  t.log(`${rounds} replacements, ${prober.probes()} concurrent probes`);
  t.true(prober.probes() >= 100);
  t.is(prober.misses(), 0, 'the probe address was always in the set');
  const last = rounds % 2 === 1 ? a : b;
  const oracle = await oracleList(ns, 'bans', true);
  t.is(oracle.entries, 20000);
  t.is(oracle.references, 1, 'the iptables rule still references the set');
  t.true(await oracleTest(ns, 'bans', last[0] as string));
  t.deepEqual(await oracleNames(ns), ['bans'], 'no temporary set left');
  t.regex(await ns.exec(['iptables-save']), /-A INPUT -m set --match-set bans src -j DROP/);
});

test('control: flush and refill (not atomic) is caught by the same loop, so the test above can fail', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  await client.create('bans', { type: 'hash:ip', maxElements: 100000 });
  await client.add('bans', PROBE);
  const [a] = lists(20000);
  const prober = await startProber(t, ns, 'bans');
  let rounds = 0;
  for (; rounds < 50 && prober.misses() === 0; rounds++) {
    await client.flush('bans');
    await client.addMany('bans', a);
  }
  await prober.stop();
  t.log(`${rounds} flush+refill rounds, ${prober.misses()} misses in ${prober.probes()} probes`);
  t.true(prober.misses() > 0, `${prober.misses()} misses in ${prober.probes()} probes`);
});

async function bansWith(t: ExecutionContext, ns: Netns, options: Parameters<IpsetClient['create']>[1], entries: string[]): Promise<IpsetClient> {
  const client = await openClient(t, ns);
  await client.create('bans', options);
  await client.addMany('bans', entries);
  return client;
}

test('replace keeps the set\'s options and makes the list its whole content', async (t) => {
  const ns = await createNetns(t);
  const client = await bansWith(t, ns, { type: 'hash:net', maxElements: 5000, timeoutSec: 0, comment: true }, ['10.0.0.0/8', '192.0.2.1']);
  const before = await oracleList(ns, 'bans', true);
  const result = await client.replace('bans', ['198.51.100.0/24', '203.0.113.9', '203.0.113.9']);
  t.deepEqual(result, { applied: 3, created: false, type: 'hash:net', family: 'inet' });
  t.deepEqual(await oracleMembers(ns, 'bans'), ['198.51.100.0/24 timeout 0', '203.0.113.9 timeout 0']);
  const after = await oracleList(ns, 'bans', true);
  const strip = (h: string): string => h.replace(/ initval 0x[0-9a-f]+/, '');
  t.is(strip(after.header), strip(before.header));
  t.deepEqual(await oracleNames(ns), ['bans']);
});

test('replace creates a missing set (filled, then renamed into place) only when asked to', async (t) => {
  const ns = await createNetns(t);
  const client = await openClient(t, ns);
  const err = await t.throwsAsync(client.replace('bans', ['10.0.0.1']));
  t.like(err, { kind: 'no-such-set', errno: 2 });
  t.deepEqual(await oracleNames(ns), []);
  const result = await client.replace('bans', ['10.0.0.1', '10.0.0.2'], { create: { type: 'hash:ip', maxElements: 1000 } });
  t.deepEqual(result, { applied: 2, created: true, type: 'hash:ip', family: 'inet' });
  t.deepEqual(await oracleMembers(ns, 'bans'), ['10.0.0.1', '10.0.0.2']);
  t.regex((await oracleList(ns, 'bans', true)).header, /maxelem 1000/);
  t.deepEqual(await oracleNames(ns), ['bans']);
});

test('a replace that fails (set full, other type) leaves the set as it was and no temporary set', async (t) => {
  const ns = await createNetns(t);
  const client = await bansWith(t, ns, { type: 'hash:ip', maxElements: 10 }, ['10.0.0.1', '10.0.0.2']);
  const full = await t.throwsAsync(client.replace('bans', addresses(20, 100)));
  t.like(full, { name: 'IpsetBulkError', kind: 'set-full', index: 10, setName: temporarySetName('bans') });
  t.deepEqual(await oracleMembers(ns, 'bans'), ['10.0.0.1', '10.0.0.2']);
  const wrong = await t.throwsAsync(client.replace('bans', ['10.0.0.0/8'], { create: { type: 'hash:net' } }));
  t.like(wrong, { kind: 'wrong-type', errno: 4102, code: 'IPSET_ERR_TYPE_MISMATCH' });
  t.deepEqual(await oracleMembers(ns, 'bans'), ['10.0.0.1', '10.0.0.2']);
  t.deepEqual(await oracleNames(ns), ['bans']);
});

test('a temporary set left by an interrupted replace is cleaned up by the next one', async (t) => {
  const ns = await createNetns(t);
  const client = await bansWith(t, ns, { type: 'hash:ip' }, ['10.0.0.1']);
  const temp = temporarySetName('bans');
  t.is(temp, 'bans~lvk');
  await ns.exec(['ipset', 'create', temp, 'hash:net']);
  await client.replace('bans', ['10.0.0.9']);
  t.deepEqual(await oracleNames(ns), ['bans']);
  t.deepEqual(await oracleMembers(ns, 'bans'), ['10.0.0.9']);
  t.is(temporarySetName('x'.repeat(31)), `${'x'.repeat(27)}~lvk`);
});
