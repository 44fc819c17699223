// layer: benchmarks
// job: where an lvskit balancer's memory goes: a Balancer embedded in this process (as `lvskit run` holds it) on a configuration, with the V8 heap measured after a GC at each step; prints one JSON line.
//
//   ip netns exec NS node --expose-gc dist/bench/daemon-heap.js FILE RUN_MS
// Steps: node and lvskit's modules loaded; the configuration loaded (loadDesired: the model, the
// IPVS table and the checks' specs, held); dropped again; a Balancer opened and started on the
// same file and run for RUN_MS (its checks running); RELOADS reloads, each changing one real
// server's weight in the file (does the heap keep what a reload made?); stopped for a restart.
import fs from 'node:fs';
import v8 from 'node:v8';
import { Balancer } from '../src/daemon/balancer.js';
import { loadDesired } from '../src/daemon/desired.js';
import { configText, configWithEditedWeight } from './daemon-lab.js';

const RELOADS = 4;

export interface HeapStep {
  step: string;
  rssKb: number;
  /** Live objects of the main thread's V8 heap after a full GC, and the heap's committed size. */
  heapUsedKb: number;
  heapTotalKb: number;
  /** Memory of Buffers and other objects V8 does not allocate (ArrayBuffers included). */
  externalKb: number;
  /** Resident anonymous, file-backed and shared-memory pages of the whole process (all threads): RssAnon, RssFile, RssShmem. */
  anonKb: number;
  fileKb: number;
  shmemKb: number;
  /** Resident part of the brk heap (`[heap]` in smaps): glibc's main malloc arena. */
  brkKb: number;
  spaces?: Record<string, number>;
}

const gc = (globalThis as { gc?: () => void }).gc;

function step(name: string, spaces = false): HeapStep {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const out: HeapStep = {
    step: name, rssKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024), heapTotalKb: Math.round(m.heapTotal / 1024),
    externalKb: Math.round(m.external / 1024), anonKb: kb('RssAnon'), fileKb: kb('RssFile'), shmemKb: kb('RssShmem'), brkKb: brkHeapKb(),
  };
  if (spaces) out.spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_used_size / 1024)]));
  return out;
}

/** Rss of the `[heap]` mapping of /proc/self/smaps. */
function brkHeapKb(): number {
  const smaps = fs.readFileSync('/proc/self/smaps', 'utf8');
  const at = smaps.indexOf('[heap]');
  if (at < 0) return 0;
  return Number(/^Rss:\s+(\d+) kB/m.exec(smaps.slice(at))?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const [file, runMs] = [process.argv[2]!, Number(process.argv[3] ?? 30_000)];
  if (!gc) throw new Error('run with node --expose-gc');
  const steps: HeapStep[] = [step('node and lvskit loaded')];
  let desired: ReturnType<typeof loadDesired> | undefined = loadDesired({ file });
  steps.push(step(`configuration loaded and held (${desired.services.length} services)`));
  desired = undefined;
  steps.push(step('configuration dropped'));
  const balancer = await Balancer.open({ file, releaseIpvs: false });
  steps.push(step('Balancer opened (configuration, VRRP worker)'));
  await balancer.start();
  steps.push(step('Balancer started'));
  await new Promise((r) => setTimeout(r, runMs));
  steps.push(step(`Balancer after ${Math.round(runMs / 1000)} s of checks`, true));
  for (let i = 1; i <= RELOADS; i++) {
    fs.writeFileSync(file, i % 2 === 1 ? configWithEditedWeight(11) : configText());
    const r = await balancer.reload();
    if (r.ipvs.length + r.checkOps !== 1) throw new Error(`reload ${i} made ${r.ipvs.length + r.checkOps} IPVS operations`);
    steps.push(step(`after reload ${i} (one weight changed)`));
  }
  await balancer.stop('restart');
  console.log(JSON.stringify(steps));
  process.exit(0);
}

await main();
