// layer: benchmarks
// job: a synthetic 1,000,000-row connection table on tmpfs: the native scanner vs `wc -l` vs the awk|sort|uniq pipeline, side by side; memory.
//
//   npx tsc && node dist/bench/conns-scan.js [--rows N] [--update-docs]
//
// Every method reads the same file in /dev/shm. Rounds alternate the methods; the first round is
// a discarded warm-up; the table shows medians. Shell commands are timed inside their shell
// (date +%s%N around the command), so the figures exclude starting the shell itself. The file is
// written by a child process: making a million rows in this one left a heap that slowed the
// scans measured after it (74-115 ms against 56-64 ms in a process that had not made them).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scanConnections } from '../src/conns/procfs.js';
import { writeSyntheticTable } from './conns-synthetic.js';
import { machine, median, shellTimedMs, timeMs, updateDocs } from './report.js';

const argRows = process.argv.indexOf('--rows');
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const ROUNDS = Number(process.env['LVSKIT_BENCH_ROUNDS'] ?? 11);
const FILE = `/dev/shm/lvskit-conns-${process.pid}.txt`;
const PIPELINE = `awk '$8=="ESTABLISHED"{print $2}' ${FILE} | sort | uniq -c | awk '$1>100'`;

interface Row { name: string; ms: number[] }

/** The pipeline's answer as address → count ($2 is %08X of the address, or %pI6). */
function pipelineAnswer(): Map<string, number> {
  const out = execFileSync('sh', ['-c', PIPELINE], { encoding: 'utf8' });
  const answer = new Map<string, number>();
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [count, hex] = line.trim().split(/\s+/) as [string, string];
    const address = hex.includes(':')
      ? hex.split(':').map((g) => parseInt(g, 16).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
      : [24, 16, 8, 0].map((s) => (parseInt(hex, 16) >>> s) & 255).join('.');
    answer.set(address, Number(count));
  }
  return answer;
}

/** In a child (`--memory-probe scan|baseline FILE`): the peak RSS in KiB after (not) scanning. */
async function memoryProbe(mode: string, file: string): Promise<void> {
  if (mode === 'scan') await scanConnections({ file, threshold: 100 });
  console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
}

function extraMemoryMiB(): number {
  const script = fileURLToPath(import.meta.url);
  const probe = (mode: string): number => (JSON.parse(execFileSync(process.execPath, [script, '--memory-probe', mode, FILE], { encoding: 'utf8' })) as { maxRssKiB: number }).maxRssKiB;
  const extra: number[] = [];
  for (let i = 0; i < 3; i++) extra.push((probe('scan') - probe('baseline')) / 1024);
  return median(extra);
}

async function measure(): Promise<Row[]> {
  const rows: Row[] = [
    { name: 'lvskit scanner (`scanConnections`, threshold 100)', ms: [] },
    { name: 'lvskit scanner, one thread (`threads: 1`)', ms: [] },
    { name: '`wc -l`', ms: [] },
    { name: "`awk '$8==\"ESTABLISHED\"{print $2}' \\| sort \\| uniq -c \\| awk '$1>100'`", ms: [] },
  ];
  const [two, one, wc, pipeline] = rows as [Row, Row, Row, Row];
  for (let round = 0; round <= ROUNDS; round++) {
    const keep = round > 0;
    const a = await timeMs(() => scanConnections({ file: FILE, threshold: 100 }));
    const b = await timeMs(() => scanConnections({ file: FILE, threshold: 100, threads: 1 }));
    const c = shellTimedMs(`wc -l ${FILE} >/dev/null`);
    const d = round % 3 === 0 || round <= 5 ? shellTimedMs(`${PIPELINE} >/dev/null`) : undefined;
    if (!keep) continue;
    two.ms.push(a);
    one.ms.push(b);
    wc.ms.push(c);
    if (d !== undefined) pipeline.ms.push(d);
  }
  return rows;
}

function markdown(rows: Row[], size: number, memoryMiB: number, check: string): string {
  const [two, one, wc, pipeline] = rows.map((r) => median(r.ms)) as [number, number, number, number];
  return [
    `${ROWS.toLocaleString('en-US')} rows, ${(size / 2 ** 20).toFixed(1)} MiB in /dev/shm (tmpfs). ${check}`,
    '',
    '| method | median | rounds | this ÷ scanner |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${median(r.ms).toFixed(1)} ms | ${r.ms.length} | ${(median(r.ms) / two).toFixed(2)}× |`),
    '',
    `**Scanner ÷ \`wc -l\`: ${(two / wc).toFixed(2)}×** (goal ≤ 4×; one thread: ${(one / wc).toFixed(2)}×). ` +
      `**Pipeline ÷ scanner: ${(pipeline / two).toFixed(1)}×** (goal ≥ 10×; one thread: ${(pipeline / one).toFixed(1)}×). ` +
      `**Extra memory: ${memoryMiB.toFixed(1)} MiB** peak RSS (goal < 64 MiB; a fresh node process that scans the file, minus one that only loads lvskit; median of 3 pairs).`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; \`sort\` with LC_ALL=${process.env['LC_ALL'] ?? '(unset)'}, LANG=${process.env['LANG'] ?? '(unset)'}; ` +
      'command: `npx tsc && node dist/bench/conns-scan.js --update-docs`.',
  ].join('\n');
}

/** The synthetic table written by a child process (`--write FILE ROWS`); its size in bytes. */
function writeTableInChild(): number {
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--write', FILE, String(ROWS)], { stdio: 'inherit' });
  return fs.statSync(FILE).size;
}

async function main(): Promise<void> {
  const size = writeTableInChild();
  try {
    const scan = await scanConnections({ file: FILE, threshold: 100 });
    const answer = pipelineAnswer();
    const same = scan.overThreshold.length === answer.size && scan.overThreshold.every((c) => answer.get(c.address) === c.count);
    if (!same) throw new Error(`the scanner and the pipeline disagree: ${scan.overThreshold.length} vs ${answer.size} clients over 100`);
    const check = `Both find the same ${answer.size} clients over 100 ESTABLISHED, with the same counts, among ${scan.clients.toLocaleString('en-US')} clients.`;
    const rows = await measure();
    const text = markdown(rows, size, extraMemoryMiB(), check);
    console.log(text);
    if (process.argv.includes('--update-docs')) updateDocs('conns-scan', text);
  } finally {
    fs.rmSync(FILE, { force: true });
  }
}

const probeAt = process.argv.indexOf('--memory-probe');
const writeAt = process.argv.indexOf('--write');
if (probeAt >= 0) await memoryProbe(process.argv[probeAt + 1] ?? 'baseline', process.argv[probeAt + 2] ?? '');
else if (writeAt >= 0) writeSyntheticTable(process.argv[writeAt + 1] ?? '', Number(process.argv[writeAt + 2]));
else await main();
