// layer: benchmarks
// job: the `lvskit` command as an operator runs it — a new process each time — against its baseline in the same run: --version vs `node -e 0`, `conns top` vs the awk|sort|uniq pipeline on 1,000,000 rows, `check` vs `keepalived -t` on 5,000 services.
//
//   npx tsc && node dist/bench/cli.js [--only version|conns|check] [--update-docs]
//
// Each pair is timed side by side, alternating, as whole processes (spawn to exit: wall clock, and
// the CPU time — user + system — that wait4 reports for the process and its children), after
// warm-up runs that are not counted; the tables show medians and the ratio of medians. The
// machine is shared: the load average is recorded before and after each pair. Where the
// environment sets NODE_EXTRA_CA_CERTS (this machine's does, for its package proxy; Node then
// parses that bundle at every start), `conns top` and `check` are also run with that one variable
// removed from lvskit's environment, as on a host without it (their baselines do not read it).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate, keepalived, scratchNamespace } from './config-site.js';
import { median, repo, updateDocs } from './report.js';

const CLI = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const fmt = (ms: number): string => (ms >= 100 ? Math.round(ms).toLocaleString('en-US') : ms.toFixed(1));

interface Side { name: string; argv: string[]; env?: NodeJS.ProcessEnv; ms: number[]; cpuMs: number[] }

/**
 * Runs argv[1..] with posix_spawn, its output to /dev/null, and prints the wall time (monotonic
 * clock, spawn to reaped) and the CPU time wait4 reports (user + system of the process and the
 * children it waited for), in ns and µs, and its exit status: what Node's spawnSync cannot give.
 */
const WAIT4 = [
  'import os, sys, time',
  'null = os.open(os.devnull, os.O_WRONLY)',
  't = time.monotonic_ns()',
  'pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1)])',
  '_, status, ru = os.wait4(pid, 0)',
  'wall = time.monotonic_ns() - t',
  'print(wall, round((ru.ru_utime + ru.ru_stime) * 1e6), os.waitstatus_to_exitcode(status))',
].join('\n');

/** One run of `side` (spawn to exit): its wall and CPU time in ms. The run must exit 0. */
function timed(side: Pick<Side, 'argv' | 'env'>): { wallMs: number; cpuMs: number } {
  const r = spawnSync('python3', ['-c', WAIT4, ...side.argv], { env: side.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const [wallNs, cpuUs, status] = r.stdout.trim().split(' ').map(Number) as [number, number, number];
  if (r.status !== 0 || status !== 0) throw new Error(`${side.argv.join(' ')}: exit status ${status ?? r.status}: ${String(r.stderr).slice(0, 500)}`);
  return { wallMs: wallNs / 1e6, cpuMs: cpuUs / 1e3 };
}

/** `rounds` rounds of every side after `warmup` uncounted ones; each round starts with the next side in turn. */
function alternate(sides: Side[], rounds: number, warmup: number): { before: string; after: string } {
  const before = load();
  for (let i = 0; i < warmup; i++) for (const s of sides) timed(s);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(i + k) % sides.length] as Side;
      const t = timed(side);
      side.ms.push(t.wallMs);
      side.cpuMs.push(t.cpuMs);
    }
  }
  return { before, after: load() };
}

const quantile = (xs: readonly number[], q: number): number => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * q)] ?? NaN;

function rows(sides: Side[], base: Side): string[] {
  return sides.map((s) => `| ${s.name} | ${fmt(median(s.ms))} ms | ${fmt(quantile(s.ms, 0.1))} – ${fmt(quantile(s.ms, 0.9))} ms | ${fmt(median(s.cpuMs))} ms | ${s.ms.length} | ` +
    `${s === base ? '1×' : `${(median(s.ms) / median(base.ms)).toFixed(2)}×`} |`);
}

const TABLE_HEAD = ['| run (a new process each time) | median (wall) | 10th – 90th percentile (wall) | median CPU time | runs | wall time ÷ baseline\'s |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
const machine = (l: { before: string; after: string }): string =>
  `${process.platform} ${process.arch}, ${os.cpus().length} CPUs shared with other work (load average ${l.before} before, ${l.after} after), Node ${process.version}`;

/** NODE_EXTRA_CA_CERTS as this environment sets it (Node parses that bundle at every start), or undefined. */
const CA_CERTS = process.env['NODE_EXTRA_CA_CERTS'];

/** `side` as on a host whose environment does not set NODE_EXTRA_CA_CERTS: only that variable removed, only for lvskit; undefined where it is not set here. */
function withoutCaCerts(side: Side): Side | undefined {
  if (CA_CERTS === undefined) return undefined;
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return { name: 'the same, as on a host without NODE_EXTRA_CA_CERTS (that variable removed from its environment)', argv: side.argv, env, ms: [], cpuMs: [] };
}

/** The ratio sentence for lvskit against its baseline, in this environment and (where it sets the variable) without NODE_EXTRA_CA_CERTS. */
function ratioSentence(what: string, ratio: (s: Side) => string, lvskit: Side, bare: Side | undefined): string {
  return bare === undefined
    ? `${what}: ${ratio(lvskit)}. This environment does not set NODE_EXTRA_CA_CERTS.`
    : `${what} as this environment runs it (NODE_EXTRA_CA_CERTS=${CA_CERTS}, which Node parses at every start): ${ratio(lvskit)}. ` +
      `**As on a host without NODE_EXTRA_CA_CERTS** (the variable removed from lvskit's environment alone; the baseline does not read it): ${ratio(bare)}.`;
}

function version(): string {
  const node: Side = { name: '`node -e 0`', argv: [process.execPath, '-e', '0'], ms: [], cpuMs: [] };
  const lvskit: Side = { name: '`lvskit --version`', argv: [process.execPath, CLI, '--version'], ms: [], cpuMs: [] };
  const l = alternate([node, lvskit], 60, 5);
  const ratio = median(lvskit.ms) / median(node.ms);
  return [...TABLE_HEAD, ...rows([node, lvskit], node), '',
    `**\`lvskit --version\` ÷ \`node -e 0\`: ${ratio.toFixed(2)}×** (goal ≤ 1.3×: ${ratio <= 1.3 ? 'met' : 'missed'}).`, '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine(l)}; command: \`node dist/bench/cli.js --only version --update-docs\`.`].join('\n');
}

const PIPELINE = (file: string): string => `awk '$8=="ESTABLISHED"{print $2}' ${file} | sort | uniq -c | awk '$1>100'`;

/** The pipeline's clients over 100 as address → count ($2 is %08X of an IPv4 address, or %pI6). */
function pipelineAnswer(file: string): Map<string, number> {
  const answer = new Map<string, number>();
  for (const line of execFileSync('sh', ['-c', PIPELINE(file)], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n').filter(Boolean)) {
    const [count, hex] = line.trim().split(/\s+/) as [string, string];
    const address = hex.includes(':')
      ? hex.split(':').map((g) => parseInt(g, 16).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
      : [24, 16, 8, 0].map((s) => (parseInt(hex, 16) >>> s) & 255).join('.');
    answer.set(address, Number(count));
  }
  return answer;
}

function connsTop(): string {
  const rowsWanted = 1_000_000;
  const file = `/dev/shm/lvskit-cli-bench-${process.pid}.txt`;
  // Written by a child (bench/conns-scan.js --write), as that benchmark does: the same synthetic table.
  execFileSync(process.execPath, [path.join(repo, 'dist', 'bench', 'conns-scan.js'), '--write', file, String(rowsWanted)], { stdio: 'inherit' });
  try {
    const argv = [process.execPath, CLI, 'conns', 'top', '--table-file', file, '--threshold', '100', '--limit', '0'];
    const ours = JSON.parse(execFileSync(argv[0] as string, [...argv.slice(1), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as { overThreshold: { address: string; count: number }[]; rows: number };
    const theirs = pipelineAnswer(file);
    const same = ours.overThreshold.length === theirs.size && ours.overThreshold.every((c) => theirs.get(c.address) === c.count);
    if (!same || ours.rows !== rowsWanted) throw new Error(`lvskit and the pipeline disagree: ${ours.overThreshold.length} vs ${theirs.size} clients over 100`);
    const pipeline: Side = { name: `\`sh -c "${PIPELINE('FILE').replace(/\|/g, '\\|')}"\``, argv: ['sh', '-c', PIPELINE(file)], ms: [], cpuMs: [] };
    const lvskit: Side = { name: '`lvskit conns top --table-file FILE --threshold 100`', argv, ms: [], cpuMs: [] };
    const bare = withoutCaCerts(lvskit);
    const sides = bare === undefined ? [pipeline, lvskit] : [pipeline, lvskit, bare];
    const l = alternate(sides, 15, 1);
    const ratio = (s: Side): string => {
      const wall = median(pipeline.ms) / median(s.ms);
      return `**${wall.toFixed(1)}×** wall time (goal ≥ 5×: ${wall >= 5 ? 'met' : 'missed'}; CPU time ${(median(pipeline.cpuMs) / median(s.cpuMs)).toFixed(1)}×)`;
    };
    return [`${rowsWanted.toLocaleString('en-US')} rows, ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB in /dev/shm (the table of \`bench/conns-scan.ts\`); both find the same ${theirs.size} clients over 100 ESTABLISHED with the same counts.`, '',
      ...TABLE_HEAD, ...rows(sides, pipeline), '',
      ratioSentence('Pipeline ÷ `lvskit conns top`', ratio, lvskit, bare), '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine(l)}; \`sort\` with LC_ALL=${process.env['LC_ALL'] ?? '(unset)'}, LANG=${process.env['LANG'] ?? '(unset)'}; command: \`node dist/bench/cli.js --only conns --update-docs\`.`].join('\n');
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function check(): string {
  const layout = generate(5000);
  const ns = scratchNamespace(layout.interfaces);
  try {
    const k = keepalived(ns.prefix, layout.main);
    if (k.status !== 0) throw new Error(`keepalived -t refuses the generated file (exit ${k.status}):\n${k.stderr.slice(0, 2000)}`);
    const out = spawnSync(process.execPath, [CLI, 'check', '-f', layout.main], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (out.status !== 0 || !out.stderr.endsWith(`: 0 errors, 0 warnings; ${layout.files} files read\n`)) throw new Error(`lvskit check: ${out.stderr.slice(0, 2000)}`);
    const theirs: Side = { name: '`keepalived -t -f FILE`', argv: [...ns.prefix, 'keepalived', '-t', '-f', layout.main], ms: [], cpuMs: [] };
    const ours: Side = { name: '`lvskit check -f FILE`', argv: [process.execPath, CLI, 'check', '-f', layout.main], ms: [], cpuMs: [] };
    const bare = withoutCaCerts(ours);
    const sides = bare === undefined ? [theirs, ours] : [theirs, ours, bare];
    const l = alternate(sides, 11, 1);
    const ratio = (side: Side): string => {
      const r = median(theirs.ms) / median(side.ms);
      return `**${r.toFixed(2)}×** (goal > 1: lvskit faster; ${r > 1 ? 'met' : 'missed'}; CPU time ${(median(theirs.cpuMs) / median(side.cpuMs)).toFixed(2)}×)`;
    };
    const v = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
    return [`5,000 services: ${layout.files.toLocaleString('en-US')} files, ${layout.lines.toLocaleString('en-US')} lines, ${(layout.bytes / 2 ** 20).toFixed(1)} MiB (the configuration of \`bench/config-parse.ts\`); \`keepalived -t\` exits 0 on it and \`lvskit check\` reports 0 errors, 0 warnings.`, '',
      ...TABLE_HEAD, ...rows(sides, theirs), '',
      ratioSentence('keepalived ÷ `lvskit check`', ratio, ours, bare), '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine(l)}, ${`${v.stderr}${v.stdout}`.split('\n')[0]?.trim()}; ${ns.note}; command: \`node dist/bench/cli.js --only check --update-docs\` (root).`].join('\n');
  } finally {
    ns.cleanup();
    fs.rmSync(layout.dir, { recursive: true, force: true });
  }
}

const sections: Record<string, () => string> = { version, conns: connsTop, check };
for (const [name, run] of Object.entries(sections)) {
  if (only !== undefined && only !== name) continue;
  const text = run();
  console.log(`## ${name}\n${text}\n`);
  if (process.argv.includes('--update-docs')) updateDocs(`cli-${name}`, text);
}
