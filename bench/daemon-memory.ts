// layer: benchmarks
// job: memory of `lvskit run` against keepalived's three processes on the 1,000 × 10 configuration with every TCP_CHECK running, in one run; and where lvskit's goes.
//
//   npm run bench:daemon-memory                  (boots user-mode Linux when this kernel has no IPVS)
//   npm run bench:daemon-memory -- --update-docs (writes the section into docs/benchmarks.md)
//
// In the lab of daemon-lab.ts, each daemon in turn runs the same file in its own balancer
// namespace. Once its table is complete and has stayed so over a check round ("start"), its
// processes are sampled after each of ROUNDS more check rounds ("steady": the last sample).
// Memory is read three ways: VmRSS summed (counts pages keepalived's forked children share once
// per process), PSS summed (each shared page split between the processes sharing it: the fair sum
// for keepalived, but it also splits node's code with the benchmark's own node processes), and
// the resident pages of the daemon's processes counted once each (pagemap): the headline.
// After the rounds, three SIGHUP reloads (each flipping one real server's weight) and one more
// check round: memory a daemon keeps after reloading. Then, for lvskit only: node alone, `lvskit
// run` on the VRRP instance without virtual servers, `--no-vrrp-thread`, glibc limited to two
// malloc arenas (MALLOC_ARENA_MAX=2), V8's young generation capped (--max-semi-space-size=2),
// glibc's mmap threshold fixed at 128 KiB (MALLOC_MMAP_THRESHOLD_=131072: large blocks go back
// to the kernel when freed), and a Balancer embedded in a process that measures its V8 heap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IpvsClient } from '../src/ipvs/client.js';
import { Cleanup, sh, sleep, startProc } from '../test/helpers/site-procs.js';
import {
  configText, configWithEditedWeight, DaemonLab, DELAY_LOOP_S, numberOption, reloadedLine, startDaemon, waitStable, WEIGHT,
  type DaemonVariant, type Impl, type LabBalancer,
} from './daemon-lab.js';
import type { HeapStep } from './daemon-heap.js';
import { setMemory, type SetMemory } from './proc-stats.js';
import { median, repo, updateDocs } from './report.js';
import { benchArgs, kernelName, ranInUml } from './uml.js';

const ROUNDS = numberOption('rounds', 5);
/** SIGHUP reloads after the check rounds, each flipping one real server's weight, then one more check round. */
const RELOADS = 3;

interface Sampled { what: string; impl: Impl; start: SetMemory; steady: SetMemory; max: SetMemory; reloaded?: SetMemory; load: number[] }

const mib = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;

/** Start daemon `b.impl` (lvskit as `variant` says), wait for the stable table, sample each check round, then after RELOADS reloads; stopped after. */
async function sample(lab: DaemonLab, b: LabBalancer, what: string, config: string, variant: DaemonVariant, log: (s: string) => void): Promise<Sampled> {
  fs.writeFileSync(b.conf, config);
  const ipvs = IpvsClient.open({ netns: b.netns });
  const daemon = await startDaemon(lab.cleanup, b, variant);
  const show = (label: string, m: SetMemory): void => log(`${what}: ${label}: unique ${mib(m.uniqueKb)}, RSS sum ${mib(m.rssKb)}, PSS sum ${mib(m.pssKb)}; `
    + m.processes.map((p) => `${p.name}[${p.pid}] RSS ${mib(p.rssKb)} PSS ${mib(p.pssKb)} anon ${mib(p.anonKb)} file ${mib(p.fileRssKb)}`).join(', '));
  try {
    const full = config.includes('virtual_server');
    if (full) await waitStable(ipvs);
    else await sleep(DELAY_LOOP_S * 1000);
    const start = setMemory(daemon.pids());
    const samples = [start];
    for (let i = 1; i <= ROUNDS; i++) {
      await sleep(DELAY_LOOP_S * 1000);
      samples.push(setMemory(daemon.pids()));
      show(`round ${i}`, samples.at(-1)!);
    }
    const max = samples.reduce((a, s) => (s.uniqueKb > a.uniqueKb ? s : a));
    const out: Sampled = { what, impl: b.impl, start, steady: samples.at(-1)!, max, load: os.loadavg() };
    if (!full) return out;
    for (let i = 1; i <= RELOADS; i++) {
      fs.writeFileSync(b.conf, i % 2 === 1 ? configWithEditedWeight(WEIGHT + 1) : configText());
      const since = Number(process.hrtime.bigint()) / 1e6;
      process.kill(daemon.mainPid, 'SIGHUP');
      await daemon.proc.waitFor(reloadedLine(b.impl), 300_000, since);
    }
    await sleep(DELAY_LOOP_S * 1000);
    out.reloaded = setMemory(daemon.pids());
    show(`after ${RELOADS} reloads and a check round`, out.reloaded);
    return out;
  } finally {
    await daemon.stop();
    ipvs.close();
  }
}

/** node with nothing loaded, in the namespace, for DELAY_LOOP_S: the floor of any node daemon. */
async function bareNode(lab: DaemonLab, b: LabBalancer): Promise<SetMemory> {
  const proc = startProc(lab.cleanup, 'bare node', ['ip', 'netns', 'exec', b.netns, process.execPath, '-e', 'console.log("ready"); setInterval(() => {}, 1e6)']);
  await proc.waitFor((l) => l.text === 'ready', 60_000);
  await sleep(5000);
  const m = setMemory([proc.child.pid!]);
  proc.kill('SIGKILL');
  await proc.exited;
  return m;
}

/** The embedded Balancer's steps (daemon-heap.ts), run for `runMs`. */
async function heapSteps(b: LabBalancer, runMs: number): Promise<HeapStep[]> {
  fs.writeFileSync(b.conf, configText());
  await sh(['ip', 'netns', 'exec', b.netns, 'ipvsadm', '-C']);
  const out = await sh(['ip', 'netns', 'exec', b.netns, process.execPath, '--expose-gc', path.join(repo, 'dist', 'bench', 'daemon-heap.js'), b.conf, String(runMs)]);
  return JSON.parse(out.trim().split('\n').at(-1)!) as HeapStep[];
}

function markdown(main: Sampled[], extra: Sampled[], bare: SetMemory, heap: HeapStep[]): string {
  const row = (s: Sampled): string => {
    const procs = s.steady.processes.map((p) => `${p.name} ${mib(p.rssKb)}`).join(' + ');
    return `| ${s.what} | ${mib(s.start.uniqueKb)} | **${mib(s.steady.uniqueKb)}** | ${mib(s.max.uniqueKb)} | ${mib(s.steady.rssKb)} (${procs}) | ${mib(s.steady.pssKb)} | ${s.reloaded ? mib(s.reloaded.uniqueKb) : '–'} |`;
  };
  const [k, l] = [main.find((s) => s.impl === 'keepalived')!, main.find((s) => s.impl === 'lvskit')!];
  const ratio = (f: (m: SetMemory) => number): string => `${(f(l.steady) / f(k.steady)).toFixed(2)}×`;
  const lastHeap = heap.find((h) => h.spaces) ?? heap.at(-1)!;
  const loads = [...main, ...extra].map((s) => s.load[0]!);
  return [
    '| daemon | at start (table complete) | steady (after the check rounds) | highest sample | VmRSS summed (per process) | PSS summed | after 3 reloads |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...main.map(row), '',
    `**lvskit ÷ keepalived: ${ratio((m) => m.uniqueKb)}** in resident pages counted once (goal ≤ 2×); ${ratio((m) => m.rssKb)} by VmRSS sums, ${ratio((m) => m.pssKb)} by PSS sums.`,
    '',
    'Where lvskit\'s memory goes (same run, same namespace):',
    '',
    '| what | resident, steady | anonymous | file-backed | after 3 reloads |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| node alone (\`node -e 'setInterval(…)'\`) | ${mib(bare.uniqueKb)} | ${mib(bare.processes[0]!.anonKb)} | ${mib(bare.processes[0]!.fileRssKb)} | |`,
    ...[l, ...extra].map((s) => `| ${s.what} | ${mib(s.steady.uniqueKb)} | ${mib(s.steady.processes[0]!.anonKb)} | ${mib(s.steady.processes[0]!.fileRssKb)} | ${s.reloaded ? mib(s.reloaded.uniqueKb) : ''} |`),
    '',
    'A Balancer embedded in a process (`bench/daemon-heap.ts`, the same file, a full GC before each reading):',
    '',
    '| step | RSS | V8 heap used | V8 heap committed | external | RSS anonymous | of which `[heap]` (malloc) | RSS file-backed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...heap.map((h) => `| ${h.step} | ${mib(h.rssKb)} | ${mib(h.heapUsedKb)} | ${mib(h.heapTotalKb)} | ${mib(h.externalKb)} | ${mib(h.anonKb)} | ${mib(h.brkKb)} | ${mib(h.fileKb)} |`),
    '',
    `V8 heap spaces in use after the check rounds: ${Object.entries(lastHeap.spaces ?? {}).filter(([, v]) => v > 256).map(([k2, v]) => `${k2} ${mib(v)}`).join(', ')}.`,
    '',
    `delay_loop ${DELAY_LOOP_S} s, every check passing; ${ROUNDS} check rounds after the table was complete; memory from /proc/PID/status (VmRSS), /proc/PID/smaps_rollup (Pss, Anonymous) and /proc/PID/pagemap (each resident page frame once). `
    + `Measured ${new Date().toISOString().slice(0, 10)} in ${kernelName()} (guest with ${os.cpus().length} CPU), Node ${process.version}, keepalived 2.2.7; guest load average ${median(loads).toFixed(2)} (median of the samples' 1-minute figures); `
    + 'command: `npm run bench:daemon-memory -- --update-docs`.',
  ].join('\n');
}

async function main(): Promise<void> {
  if (await ranInUml(import.meta.url, 60 * 60_000)) return;
  const args = benchArgs();
  const cleanup = new Cleanup();
  const log = (s: string): void => console.log(`# ${s}`);
  try {
    const lab = await DaemonLab.create(cleanup);
    const [kb, lb] = [lab.balancers.keepalived, lab.balancers.lvskit];
    const main = [await sample(lab, kb, 'keepalived (parent + VRRP child + checker child)', configText(), {}, log),
      await sample(lab, lb, '`lvskit run`', configText(), {}, log)];
    const bare = await bareNode(lab, lb);
    const extra = [await sample(lab, lb, '`lvskit run`, the VRRP instance only (no virtual servers)', configText(new Map(), 0), {}, log),
      await sample(lab, lb, '`lvskit run --no-vrrp-thread`', configText(), { extra: ['--no-vrrp-thread'] }, log),
      await sample(lab, lb, '`lvskit run` with `MALLOC_ARENA_MAX=2`', configText(), { env: ['MALLOC_ARENA_MAX=2'] }, log),
      await sample(lab, lb, '`node --max-semi-space-size=2 … lvskit run`', configText(), { nodeArgs: ['--max-semi-space-size=2'] }, log),
      await sample(lab, lb, '`lvskit run` with `MALLOC_MMAP_THRESHOLD_=131072`', configText(), { env: ['MALLOC_MMAP_THRESHOLD_=131072'] }, log)];
    const heap = await heapSteps(lb, DELAY_LOOP_S * 1000 * ROUNDS);
    for (const h of heap) log(JSON.stringify(h));
    const text = markdown(main, extra, bare, heap);
    console.log(`\n${text}\n`);
    if (args.includes('--update-docs')) updateDocs('daemon-memory', text);
  } finally {
    for (const failure of await cleanup.run()) console.log(`# ${failure}`);
  }
}

await main();
