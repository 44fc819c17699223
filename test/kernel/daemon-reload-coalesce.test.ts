// layer: tests (kernel tier)
// job: Balancer.reload() under a burst (what SIGHUPs become): requests made while one reload waits its turn join it — one reload answers them, its `reloaded` event counts them — while dry runs and explicit sources never join.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Balancer } from '../../src/daemon/balancer.js';
import type { BalancerEvent } from '../../src/daemon/events.js';
import { createNetns } from '../helpers/netns.js';

test('ten reloads asked at once are one reload (it reads the file when it starts, so it answers them all); a dry run does not join; the next request is a reload of its own', async (t) => {
  const ns = await createNetns(t);
  const dir = mkdtempSync('/var/tmp/lvskit-coalesce-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keepalived.conf');
  writeFileSync(file, 'global_defs {\n  router_id coalesce\n}\n');
  const b = await Balancer.open({ file, netns: ns.name, isolation: 'inline' });
  t.teardown(() => b.stop('graceful'));
  const events: BalancerEvent[] = [];
  b.on('event', (e) => events.push(e));
  await b.start();
  const asked = Array.from({ length: 10 }, () => b.reload());
  const dry = b.reload({ dryRun: true });
  const results = await Promise.all(asked);
  await dry;
  t.true(results.every((r) => r === results[0]), 'one answer for the ten');
  t.true((await dry).dryRun);
  t.is((await b.status()).reloads, 1);
  // One running, then a burst: the burst waits behind it as one more reload.
  const running = b.reload();
  await new Promise((resolve) => setImmediate(resolve));
  const burst = Array.from({ length: 5 }, () => b.reload());
  const answers = await Promise.all(burst);
  t.not(await running, answers[0], 'the burst did not join the reload already running');
  t.true(answers.every((r) => r === answers[0]), 'the five behind it got one answer');
  const reloaded = events.filter((e) => e.source === 'daemon' && e.type === 'reloaded').map((e) => (e as { coalesced: number }).coalesced);
  t.deepEqual(reloaded, [9, 0, 4]);
  t.is((await b.status()).reloads, 3);
});
