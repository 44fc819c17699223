// layer: benchmarks
// job: IPVS reconcile vs ipvsadm in one kernel: 1,000 services × 10 real servers from empty vs `ipvsadm -R`, no-op reconcile vs `ipvsadm -Ln`.
//
//   npm run bench:ipvs                 (boots user-mode Linux when this kernel has no IPVS)
//   npm run bench:ipvs -- --update-docs (writes the table into docs/benchmarks.md)
//
// Two phases, each with a discarded warm-up round and then SAMPLES rounds alternating the two
// sides: filling the empty table (flushed before each side), then reconciling the filled table
// unchanged vs listing it. The table shows medians.
// Operations take seconds inside user-mode Linux, so this times whole runs with hrtime rather
// than letting benchmark.js calibrate cycles.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { apply } from '../src/ipvs/apply.js';
import { IpvsClient } from '../src/ipvs/client.js';
import type { VirtualService } from '../src/ipvs/model.js';
import { plan } from '../src/ipvs/plan.js';
import { validateServices } from '../src/ipvs/validate.js';
import { median, timeMs, updateDocs } from './report.js';

const SERVICES = 1000;
const REAL_SERVERS = 10;
// Nine: a sample inside user-mode Linux moves by 2× with the host's load and the guest's memory behaviour, and a
// median of nine is steadier than one of five (same expectation, less spread between runs).
const SAMPLES = Number(process.env['LVSKIT_BENCH_SAMPLES'] ?? 9);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The operator's shape of service: TCP port 80, rr, DR, weight 10. */
function desiredTable(): VirtualService[] {
  return Array.from({ length: SERVICES }, (_, i) => ({
    protocol: 'tcp', address: `10.${10 + (i >> 8)}.${i & 255}.1`, port: 80, scheduler: 'rr',
    destinations: Array.from({ length: REAL_SERVERS }, (_, j) => ({
      address: `172.16.${i & 255}.${10 + j + 20 * (i >> 8)}`, port: 80, forward: 'dr', weight: 10,
    })),
  }) as VirtualService);
}

/** The same rules as `ipvsadm -R` input. */
function restoreScript(table: VirtualService[]): string {
  const lines: string[] = [];
  for (const s of table) {
    if (!('address' in s)) continue;
    lines.push(`-A -t ${s.address}:${s.port} -s ${s.scheduler}`);
    for (const d of s.destinations ?? []) lines.push(`-a -t ${s.address}:${s.port} -r ${d.address}:${d.port} -g -w ${d.weight}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Run ipvsadm with `input` on stdin and its output discarded; resolves when it exits 0. */
function ipvsadm(args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ipvsadm', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ipvsadm ${args.join(' ')} exited with ${code}`))));
    if (input !== undefined) child.stdin?.end(input);
  });
}

interface Row { what: string; lvskitMs: number; baselineMs: number; pairRatio: number; baseline: string; goal: string }

/** lvskit-only rounds after the cold one, before the paired samples: V8 compiles hot code after some calls. */
const WARMUP_ROUNDS = 3;
/** The paired rows, and the first (cold) reconcile from empty in ms. */
async function measure(): Promise<{ rows: Row[]; coldMs: number }> {
  const table = desiredTable();
  const script = restoreScript(table);
  const ipvs = IpvsClient.open();
  try {
    const applyMs: number[] = [];
    const restoreMs: number[] = [];
    const noopMs: number[] = [];
    const listMs: number[] = [];
    const fill = (): Promise<number> => {
      const desired = desiredTable(); // the input, as the configuration conversion hands it over (not timed)
      return timeMs(async () => {
        const ops = plan(await ipvs.dumpTable({ stats: false }), validateServices(desired)); // includes validation
        const result = await apply(ipvs, ops);
        if (!result.ok || ops.length !== SERVICES * (1 + REAL_SERVERS)) throw new Error(`apply: ${ops.length} ops, ok=${result.ok}`);
      });
    };
    // Phase 1: fill the empty table, both ways. First lvskit alone, cold (what a daemon's first
    // reconcile after start costs: V8 has not compiled the code yet), then warm-up rounds, then
    // the samples, each side in turn.
    await ipvs.flush();
    const coldMs = await fill();
    console.log(`# cold: apply ${coldMs.toFixed(0)} ms`);
    for (let i = 1; i <= WARMUP_ROUNDS; i++) {
      await ipvs.flush();
      console.log(`# warm-up ${i}: apply ${(await fill()).toFixed(0)} ms`);
    }
    for (let i = 0; i <= SAMPLES; i++) {
      await ipvs.flush();
      const restore = await timeMs(() => ipvsadm(['-R'], script));
      await ipvs.flush();
      const applied = await fill();
      console.log(`# ${i === 0 ? 'warm-up' : `sample ${i}`}: apply ${applied.toFixed(0)} ms vs ipvsadm -R ${restore.toFixed(0)} ms`);
      if (i > 0) { applyMs.push(applied); restoreMs.push(restore); }
    }
    // What a daemon holds after loading its configuration: the table validated once.
    const loaded = validateServices(table);
    // Phase 2: the table stays; a reload that changes nothing, vs listing it (round 0 discarded).
    for (let i = 0; i <= SAMPLES; i++) {
      const list = await timeMs(() => ipvsadm(['-Ln']));
      const noop = await timeMs(async () => {
        const ops = plan(await ipvs.dumpTable({ stats: false }), loaded);
        if (ops.length !== 0) throw new Error(`no-op reconcile planned ${ops.length} operations`);
      });
      console.log(`# ${i === 0 ? 'warm-up' : `sample ${i}`}: no-op ${noop.toFixed(0)} ms vs ipvsadm -Ln ${list.toFixed(0)} ms`);
      if (i > 0) { noopMs.push(noop); listMs.push(list); }
    }
    await ipvs.flush();
    const rules = `${SERVICES.toLocaleString('en-US')} services × ${REAL_SERVERS} real servers`;
    const rows: Row[] = [
      { what: `reconcile from empty (validate + dump + plan + apply), ${rules}`, lvskitMs: median(applyMs), baselineMs: median(restoreMs),
        pairRatio: median(restoreMs.map((b, i) => b / (applyMs[i] ?? NaN))), baseline: '`ipvsadm -R` of the same rules', goal: '≥ 20×' },
      { what: `no-op reconcile (dump + plan of the loaded table, 0 operations) of ${rules}`, lvskitMs: median(noopMs), baselineMs: median(listMs),
        pairRatio: median(listMs.map((b, i) => b / (noopMs[i] ?? NaN))), baseline: '`ipvsadm -Ln` of the same table', goal: '≥ 1×' },
    ];
    return { rows, coldMs };
  } finally {
    ipvs.close();
  }
}

function markdown({ rows, coldMs }: { rows: Row[]; coldMs: number }, kernel: string): string {
  const fmt = (ms: number): string => Math.round(ms).toLocaleString('en-US');
  const lines = [
    '| operation | lvskit (ms) | baseline | baseline (ms) | baseline ÷ lvskit (medians) | median of per-run ratios | goal |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.what} | ${fmt(r.lvskitMs)} | ${r.baseline} | ${fmt(r.baselineMs)} | ${(r.baselineMs / r.lvskitMs).toFixed(1)}× | ${r.pairRatio.toFixed(1)}× | ${r.goal} |`),
  ];
  const when = new Date().toISOString().slice(0, 10);
  return `${lines.join('\n')}\n\nThe first reconcile from empty, cold (the daemon's first after it starts, before V8 has compiled the code): ${fmt(coldMs)} ms. `
    + `Then ${WARMUP_ROUNDS} lvskit-only warm-up rounds and one paired warm-up round, all discarded. `
    + `Medians of ${SAMPLES} alternating runs (a per-run ratio compares two runs made back to back, which cancels most of the host's load swings), measured ${when} inside ${kernel}, `
    + `Node ${process.version} (guest with ${os.cpus().length} CPU, on a shared host); apply: fenced requests, 128 KiB datagrams with one fence each; `
    + 'dumps: 4 sockets; command: `npm run bench:ipvs`.';
}

async function main(): Promise<void> {
  const args = process.env['LVSKIT_TIER_ARGS'] ? JSON.parse(process.env['LVSKIT_TIER_ARGS']) as string[] : process.argv.slice(2);
  if (!fs.existsSync('/proc/net/ip_vs')) {
    // No IPVS here: run this same script as the workload of the IPVS test kernel (user-mode Linux).
    const boot = await import(pathToFileURL(path.join(repo, 'test', 'uml', 'boot.mjs')).href) as {
      runInUml(o: { repo: string; script: string; args: string[]; onOutput: (s: string) => void }): Promise<{ status?: number; console: string }>;
    };
    const guest = await boot.runInUml({ repo, script: path.relative(repo, fileURLToPath(import.meta.url)), args, onOutput: (s) => process.stdout.write(s) });
    if (guest.status !== 0) console.error(guest.console.split('\n').slice(-30).join('\n'));
    process.exitCode = guest.status ?? 1;
    return;
  }
  const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const kernel = process.env['LVSKIT_UML_OUT'] ? `user-mode Linux ${release}` : `Linux ${release}`;
  const text = markdown(await measure(), kernel);
  console.log(text);
  if (args.includes('--update-docs')) updateDocs('ipvs-apply', text);
}

await main();
