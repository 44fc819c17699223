// layer: tests (kernel tier, root)
// job: the balancer's VRRP worker thread raises itself to nice -20 and nothing else: the main thread and the process's other threads keep their priority, a notify script it starts begins at nice 0, inline VRRP changes no thread.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openVrrp, VRRP_THREAD_NICE, type VrrpHost } from '../../src/daemon/vrrp-host.js';
import type { VrrpSideEvent } from '../../src/daemon/vrrp-side.js';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { createVrrpLab } from '../helpers/vrrp-lab.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (vrrp-thread): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.skip : test.serial;

/** Every thread of this process and its nice value (field 19 of /proc/self/task/TID/stat). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      nices.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch { /* the thread ended meanwhile */ }
  }
  return nices;
}

/** One v3 instance alone on the lab's link (MASTER within ~0.2 s), with a notify script that writes its own nice to `file`. */
async function open(t: ExecutionContext, options: { isolation?: 'worker' | 'inline'; threadNice?: number | null }, file: string): Promise<{ host: VrrpHost; events: VrrpSideEvent[] }> {
  const lab = await createVrrpLab(t, 1);
  const instance: VrrpInstanceConfig = {
    name: 'VT', interface: 'eth0', vrid: 61, version: 3, priority: 100, advertIntervalMs: 50, virtualAddresses: [`${lab.net4}.100`],
    notify: { master: ['/bin/sh', '-c', `nice > ${file}`] },
  };
  const host = await openVrrp({ instances: [instance], syncGroups: [], netns: lab.balancers[0]!.ns.name, ...options });
  t.teardown(() => host.stop(true));
  const events: VrrpSideEvent[] = [];
  host.on('event', (e) => events.push(e));
  return { host, events };
}

/** Start, and wait for the MASTER notify script to have run. */
async function masterScriptRan(host: VrrpHost, events: VrrpSideEvent[]): Promise<void> {
  await host.start([]);
  for (let waited = 0; !events.some((e) => e.type === 'script'); waited += 50) {
    if (waited > 10_000) throw new Error(`no notify script ran; events: ${events.map((e) => e.type).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function scratch(t: ExecutionContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-vrrp-thread-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'nice');
}

ktest('the VRRP worker thread runs at nice -20, alone: the other threads keep theirs, and a notify script it starts runs at nice 0', async (t) => {
  const file = scratch(t);
  const before = threadNices();
  const { host, events } = await open(t, {}, file);
  const after = threadNices();
  const raised = [...after].filter(([, nice]) => nice === VRRP_THREAD_NICE).map(([tid]) => tid);
  t.is(raised.length, 1, 'exactly one thread at nice -20');
  t.false(before.has(raised[0]!), 'a thread the VRRP side started');
  for (const [tid, nice] of before) if (after.has(tid)) t.is(after.get(tid), nice, `thread ${tid} kept its nice`);
  t.is(after.get(process.pid), before.get(process.pid), 'the main thread kept its nice');
  await masterScriptRan(host, events);
  t.is(readFileSync(file, 'utf8').trim(), '0', 'the script did not inherit nice -20 (SCHED_RESET_ON_FORK)');
  t.false(events.some((e) => e.type === 'warning'), 'no warning: the priority was raised');
});

ktest('threadNice null leaves the worker thread at the process\'s priority; inline VRRP changes no thread', async (t) => {
  const before = threadNices();
  await open(t, { threadNice: null }, scratch(t));
  await open(t, { isolation: 'inline' }, scratch(t));
  for (const [tid, nice] of threadNices()) t.is(nice, before.get(tid) ?? before.get(process.pid) ?? 0, `thread ${tid}`);
});
