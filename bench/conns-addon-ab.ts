// layer: benchmarks
// job: two builds of the addon side by side in one process — the native scanner over the same tables, alternating — for a change to native/conn_*.
//
//   cp build/Release/lvskit.node /tmp/old.node   # before the change
//   npm run install && npx tsc && node dist/bench/conns-addon-ab.js /tmp/old.node build/Release/lvskit.node [--rounds N]
//
// The 1,000,000-row table of bench/conns-scan.ts (two threads and one) and a 1,000-row one, both in
// /dev/shm, written by a child process. Each round runs both builds, the order alternating; the first
// round is a discarded warm-up. Medians of wall time and of the process's CPU time (user + system,
// every thread), which the shared machine's load disturbs less.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeScanResult } from '../src/conns/native.js';
import { median, repo } from './report.js';

type ScanFn = (options: Record<string, unknown>, callback: (error: Error | null, result?: NativeScanResult) => void) => () => void;

function loadAddon(file: string): ScanFn {
  const module = { exports: {} as { scanConnections?: ScanFn } };
  process.dlopen(module, path.resolve(file));
  if (typeof module.exports.scanConnections !== 'function') throw new Error(`${file}: no scanConnections`);
  return module.exports.scanConnections;
}

const scan = (fn: ScanFn, options: Record<string, unknown>): Promise<NativeScanResult> =>
  new Promise((resolve, reject) => { fn(options, (error, result) => (error ? reject(error) : resolve(result as NativeScanResult))); });

function writeTable(file: string, rows: number): void {
  execFileSync(process.execPath, [path.join(repo, 'dist', 'bench', 'conns-scan.js'), '--write', file, String(rows)], { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const [oldFile, newFile] = process.argv.slice(2).filter((a) => a.endsWith('.node'));
  if (oldFile === undefined || newFile === undefined) throw new Error('usage: conns-addon-ab.js OLD.node NEW.node [--rounds N]');
  const at = process.argv.indexOf('--rounds');
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 31;
  const builds: [string, ScanFn][] = [['before', loadAddon(oldFile)], ['after', loadAddon(newFile)]];
  const big = `/dev/shm/lvskit-conns-ab-${process.pid}.txt`;
  const small = `/dev/shm/lvskit-conns-ab-small-${process.pid}.txt`;
  writeTable(big, 1_000_000);
  writeTable(small, 1_000);
  try {
    const cases: [string, Record<string, unknown>, number][] = [
      ['1,000,000 rows, two threads', { path: big, threshold: 100, countStates: ['ESTABLISHED'] }, rounds],
      ['1,000,000 rows, one thread', { path: big, threshold: 100, countStates: ['ESTABLISHED'], threads: 1 }, rounds],
      ['1,000 rows', { path: small, threshold: 100, countStates: ['ESTABLISHED'] }, rounds * 10],
    ];
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} before`);
    for (const [name, options, n] of cases) {
      const times = new Map(builds.map(([b]) => [b, { wall: [] as number[], cpu: [] as number[], memoryBytes: 0, rows: 0 }]));
      for (let round = 0; round <= n; round++) {
        for (const [build, fn] of round % 2 === 0 ? builds : [...builds].reverse()) {
          const cpu0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          const r = await scan(fn, options);
          const wall = Number(process.hrtime.bigint() - t0) / 1e6;
          const cpu = process.cpuUsage(cpu0);
          const t = times.get(build) as { wall: number[]; cpu: number[]; memoryBytes: number; rows: number };
          Object.assign(t, { memoryBytes: r.memoryBytes, rows: r.rows });
          if (round === 0) continue;
          t.wall.push(wall);
          t.cpu.push((cpu.user + cpu.system) / 1000);
        }
      }
      console.log(`${name} (${n} rounds each, medians): ${[...times].map(([build, t]) =>
        `${build} ${median(t.wall).toFixed(2)} ms wall / ${median(t.cpu).toFixed(2)} ms CPU, ${t.rows} rows, ${(t.memoryBytes / 1024).toFixed(1)} KiB of tables`).join('; ')}`);
    }
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} after`);
  } finally {
    fs.rmSync(big, { force: true });
    fs.rmSync(small, { force: true });
  }
}

await main();
