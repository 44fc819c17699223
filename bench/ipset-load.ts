// layer: benchmarks
// job: 100,000 addresses into a fresh hash:ip set: lvskit addMany vs `ipset restore` of the same list, in one run, in a scratch netns.
//
//   npm run bench:ipset [-- --update-docs]     (root; needs ipset)
import Benchmark from 'benchmark';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpsetClient } from '../src/ipset/client.js';
import { median, updateDocs } from './report.js';

const ENTRIES = 100_000;
const CREATE = 'hash:ip family inet hashsize 1024 maxelem 131072';
const NETNS = `lvskit-bench-${process.pid}`;
const MiB = 1024 * 1024;

function addresses(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return out;
}

function ipset(...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', NETNS, 'ipset', ...args], { encoding: 'utf8', maxBuffer: 64 * MiB });
}

function destroyIfPresent(name: string): void {
  if (ipset('list', '-n').split('\n').includes(name)) ipset('destroy', name);
}

/** `ipset restore -f FILE` in the namespace; resolves when it exited successfully. */
function restore(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NETNS, 'ipset', 'restore', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ipset restore exited ${code}: ${stderr.trim()}`))));
  });
}

interface Row { name: string; meanMs: number; rmePct: number; samples: number }

/**
 * Memory of one load, measured in fresh processes: the peak RSS (getrusage maxRSS) of a process
 * that makes the list, opens a client, creates the set and loads it, minus that of a process that
 * does all but the load; and the JS heap + external bytes still held after the load and a GC.
 */
interface MemoryFigures { extraMaxRssMiB: number; retainedMiB: number }

/** In a child process (`--memory-probe load|baseline`): print {maxRssKiB, retainedBytes} as JSON. */
async function memoryProbe(mode: string, netns: string): Promise<void> {
  const list = addresses(ENTRIES);
  const client = await IpsetClient.open({ netns });
  try {
    await client.create('bench-probe', { type: 'hash:ip', hashSize: 1024, maxElements: 131072 });
    global.gc?.();
    const held = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.external; };
    const before = held();
    if (mode === 'load') await client.addMany('bench-probe', list);
    global.gc?.();
    console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, retainedBytes: held() - before, entries: list.length }));
    await client.destroy('bench-probe');
  } finally {
    client.close();
  }
}

function probe(mode: 'load' | 'baseline'): { maxRssKiB: number; retainedBytes: number } {
  const script = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--expose-gc', script, '--memory-probe', mode, NETNS], { encoding: 'utf8' });
  return JSON.parse(out) as { maxRssKiB: number; retainedBytes: number };
}

function measureMemory(): MemoryFigures {
  const extra: number[] = [];
  const retained: number[] = [];
  for (let i = 0; i < 3; i++) {
    const base = probe('baseline');
    const load = probe('load');
    extra.push((load.maxRssKiB - base.maxRssKiB) / 1024);
    retained.push(load.retainedBytes / MiB);
  }
  return { extraMaxRssMiB: median(extra), retainedMiB: median(retained) };
}

async function measure(client: IpsetClient, list: string[], files: { full: string; empty: string }): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const suite = new Benchmark.Suite('ipset-load');
    let failure: unknown;
    const fail = (err: unknown): void => {
      failure ??= err;
      suite.abort();
    };
    const options = { defer: true, minSamples: 10, maxTime: 8 };
    suite.add(`lvskit addMany: create + ${ENTRIES.toLocaleString('en-US')} adds`, {
      ...options,
      fn: (deferred: Benchmark.Deferred) => {
        client.create('bench-lvskit', { type: 'hash:ip', hashSize: 1024, maxElements: 131072 })
          .then(() => client.addMany('bench-lvskit', list))
          .then(() => deferred.resolve(), fail);
      },
      onCycle: () => destroyIfPresent('bench-lvskit'),
    });
    suite.add(`ipset restore: create + ${ENTRIES.toLocaleString('en-US')} adds`, {
      ...options,
      fn: (deferred: Benchmark.Deferred) => { restore(files.full).then(() => deferred.resolve(), fail); },
      onCycle: () => destroyIfPresent('bench-ipset'),
    });
    suite.add('ipset restore: empty input (process start)', {
      ...options,
      fn: (deferred: Benchmark.Deferred) => { restore(files.empty).then(() => deferred.resolve(), fail); },
    });
    suite.on('error', (event: Benchmark.Event) => fail((event.target as unknown as { error?: unknown }).error ?? new Error('benchmark failed')));
    suite.on('abort', () => reject(failure));
    suite.on('complete', () => {
      if (failure !== undefined) return reject(failure);
      resolve(suite.map((b: Benchmark) => ({ name: b.name ?? '', meanMs: b.stats.mean * 1000, rmePct: b.stats.rme, samples: b.stats.sample.length })) as Row[]);
    });
    suite.run({ async: true });
  });
}

function markdown(rows: Row[], memory: MemoryFigures): string {
  const [ours, theirs, start] = rows as [Row, Row, Row];
  const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
  const lines = [
    '| run | mean | ± | samples |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${fmt(r.meanMs)} | ${r.rmePct.toFixed(1)} % | ${r.samples} |`),
    '',
    `**Ratio (ipset restore ÷ lvskit): ${(theirs.meanMs / ours.meanMs).toFixed(2)}×** — ` +
      `${((theirs.meanMs - start.meanMs) / ours.meanMs).toFixed(2)}× with ipset's process start (\`ip netns exec\` + \`ipset\` on empty input) subtracted.`,
    '',
    `**Memory of one 100,000-entry load: ${memory.extraMaxRssMiB.toFixed(1)} MiB extra peak RSS** (maxRSS of a fresh node ` +
      'process that builds the list, opens the client, creates the set and loads it, minus one that does all but the load; ' +
      `median of 3 pairs). JS heap + external bytes still held after the load and a GC: ${memory.retainedMiB.toFixed(2)} MiB.`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform} ${process.arch}, ${os.cpus().length} CPUs (shared), ` +
      `Node ${process.version}, ${ipset('--version').trim()}, kernel ${os.release()}; ` +
      'command: `npx tsc && node dist/bench/ipset-load.js --update-docs`.',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const list = addresses(ENTRIES);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-bench-'));
  const files = { full: path.join(dir, 'full.restore'), empty: path.join(dir, 'empty.restore') };
  fs.writeFileSync(files.full, `create bench-ipset ${CREATE}\n${list.map((a) => `add bench-ipset ${a}\n`).join('')}`);
  fs.writeFileSync(files.empty, '');
  execFileSync('ip', ['netns', 'add', NETNS]);
  const client = await IpsetClient.open({ netns: NETNS });
  try {
    const rows = await measure(client, list, files);
    const text = markdown(rows, measureMemory());
    console.log(text);
    if (process.argv.includes('--update-docs')) updateDocs('ipset-load', text);
  } finally {
    client.close();
    execFileSync('ip', ['netns', 'del', NETNS]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const probeAt = process.argv.indexOf('--memory-probe');
if (probeAt >= 0) await memoryProbe(process.argv[probeAt + 1] ?? 'load', process.argv[probeAt + 2] ?? '');
else await main();
