// layer: tests (kernel tier, root)
// job: `lvskit status --memory` on a running `lvskit run`: each thread's V8 heap (main, VRRP worker) and malloc; a reload is followed by one malloc_trim once the daemon is quiet, and none with --no-malloc-tuning; the V8 heap flags set, and none with --no-heap-tuning.
import test, { type ExecutionContext } from 'ava';
import { daemonFiles, logged, startDaemon, type Daemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { until } from '../helpers/until.js';
import { createVrrpLab } from '../helpers/vrrp-lab.js';
import { DAEMON_V8_FLAGS } from '../../src/daemon/heap-tuning.js';
import type { MemoryReport } from '../../src/daemon/memory.js';
import { binding } from '../../src/native/binding.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (daemon-memory): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

const conf = (vip: string): string => `vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${vip}/32 dev eth0
  }
}
`;

async function daemon(t: ExecutionContext, extra: string[] = []): Promise<Daemon> {
  const lab = await createVrrpLab(t, 1);
  const files = daemonFiles(t, { 'keepalived.conf': conf(`${lab.net4}.100`) });
  const d = startDaemon(t, lab.balancers[0]!.ns, files, extra);
  await d.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  return d;
}

async function memory(t: ExecutionContext, d: Daemon): Promise<MemoryReport> {
  const r = await d.cli('status', '--memory');
  t.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as MemoryReport;
}

ktest('status --memory: both threads\' heaps by space, malloc; a SIGHUP is followed by one trim once the daemon is quiet', async (t) => {
  const d = await daemon(t);
  const m = await memory(t, d);
  t.deepEqual(Object.keys(m.heaps).sort(), ['main', 'vrrp'], 'the VRRP worker reports its own isolate');
  for (const h of Object.values(m.heaps)) t.true(h.usedBytes > 0 && h.usedBytes <= h.committedBytes && h.spaces.old_space!.committedBytes > 0 && h.codeBytes > 0);
  t.true(m.rssBytes > m.heaps.main!.physicalBytes + m.heaps.vrrp!.physicalBytes);
  // The sanitizer pass's addon allocates through ASan: no glibc figures then (this process's addon is the daemon's build).
  if (binding().sanitizerAllocator) t.deepEqual(m.malloc, {});
  else t.true((m.malloc.arenaBytes ?? 0) > 0 && (m.malloc.inUseBytes ?? 0) > 0);
  const before = m.mallocTrims!.trims;
  d.child.kill('SIGHUP');
  await d.waitFor(logged('daemon', 'reloaded'), 10_000, true);
  await until('a trim after the reload', async () => (await memory(t, d)).mallocTrims!.trims > before, 10_000);
  const after = (await memory(t, d)).mallocTrims!;
  t.true(after.maxMs < 1000, `a trim takes ${after.maxMs} ms`);
});

ktest('--no-malloc-tuning: no trims reported, none done', async (t) => {
  const d = await daemon(t, ['--no-malloc-tuning']);
  d.child.kill('SIGHUP');
  await d.waitFor(logged('daemon', 'reloaded'), 10_000, true);
  await new Promise((r) => setTimeout(r, 3000));
  const m = await memory(t, d);
  t.is(m.mallocTrims, undefined);
  t.deepEqual(m.v8HeapFlags, [...DAEMON_V8_FLAGS], 'the heap tuning is a switch of its own');
});

ktest('--no-heap-tuning: V8\'s flags left as node sets them, and reported so', async (t) => {
  const d = await daemon(t, ['--no-heap-tuning']);
  t.is((await memory(t, d)).v8HeapFlags, undefined);
});
