// layer: benchmarks
// job: parse a generated 5,000-service keepalived configuration with lvskit and with `keepalived -t`, in one run.
//
//   npx tsc && node dist/bench/config-parse.js [--services N] [--update-docs]
//
// The layout is the operator's: keepalived.conf holds one vrrp_instance per service and includes
// services/*.conf, one file per service with its virtual_server and three real servers (TCP_CHECK).
// keepalived checks that interfaces exist, so as root it runs in a scratch network namespace that has
// eth0..eth19 (veth); VRIDs 1..250 are used per interface. Both parsers must prove they read to the
// end: a marker keyword after the include line must be reported by each.
import Benchmark from 'benchmark';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { generate, keepalived, MARKER, scratchNamespace, type Layout } from './config-site.js';
import { updateDocs } from './report.js';

/** Both parsers read the whole file: each reports the marker after the include, and lvskit's model is complete. */
function proveFullParse(layout: Layout, services: number, prefix: string[]): void {
  const ok = keepalived(prefix, layout.main);
  if (ok.status !== 0) throw new Error(`keepalived -t exit status ${ok.status} on the valid file:\n${ok.stderr.slice(0, 2000)}`);
  const marked = keepalived(prefix, layout.marked);
  if (!marked.stderr.includes(`Line ${layout.markerLine}) Unknown keyword '${MARKER}'`)) {
    throw new Error(`keepalived -t did not reach the end marker (line ${layout.markerLine}):\n${marked.stderr.slice(0, 2000)}`);
  }
  const ours = loadConfig(layout.marked);
  const marker = ours.diagnostics.find((d) => d.code === 'unknown-keyword' && d.message.includes(MARKER));
  if (marker?.location.line !== layout.markerLine) throw new Error('lvskit did not report the end marker');
  const real = ours.config.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
  if (ours.config.vrrpInstances.length !== services || ours.config.virtualServers.length !== services || real !== 3 * services || ours.errorCount !== 0) {
    throw new Error(`lvskit read ${ours.config.vrrpInstances.length} instances, ${ours.config.virtualServers.length} virtual servers, ${real} real servers, ${ours.errorCount} errors`);
  }
}

/** `lvskit check` as an operator runs it: a fresh node process, so the parse starts cold (no JIT warm-up). */
function lvskitCheck(file: string): number | null {
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
  return spawnSync(process.execPath, [cli, 'check', '-f', file], { encoding: 'utf8', maxBuffer: 64 << 20 }).status;
}

interface Figures { lvskitMs: number; lvskitCliMs: number; keepalivedMs: number; nodeStartMs: number }

function measure(layout: Layout, prefix: string[]): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const suite = new Benchmark.Suite('config-parse');
    suite.add('lvskit loadConfig (in process)', () => {
      if (!loadConfig(layout.main).ok) throw new Error('lvskit found errors');
    }, { minSamples: 8, maxTime: 10 });
    suite.add('lvskit check (a new process)', () => {
      if (lvskitCheck(layout.main) !== 0) throw new Error('lvskit check failed');
    }, { minSamples: 8, maxTime: 10 });
    suite.add('keepalived -t', () => {
      if (keepalived(prefix, layout.main).status !== 0) throw new Error('keepalived -t failed');
    }, { minSamples: 8, maxTime: 10 });
    // What starting node alone costs here (part of the lvskit check figure).
    suite.add('node -e 0', () => {
      if (spawnSync(process.execPath, ['-e', '0']).status !== 0) throw new Error('node -e 0 failed');
    }, { minSamples: 8, maxTime: 5 });
    suite.on('error', (event: Benchmark.Event) => reject((event.target as unknown as { error?: Error }).error));
    suite.on('complete', () => {
      const [ours, cli, theirs, node] = suite.map((b: Benchmark) => b.stats.mean * 1000) as number[];
      resolve({ lvskitMs: ours ?? 0, lvskitCliMs: cli ?? 0, keepalivedMs: theirs ?? 0, nodeStartMs: node ?? 0 });
    });
    suite.run();
  });
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--services');
  const services = at > 0 ? Number(process.argv[at + 1]) : 5000;
  const layout = generate(services);
  const ns = scratchNamespace(layout.interfaces);
  try {
    proveFullParse(layout, services, ns.prefix);
    const { lvskitMs, lvskitCliMs, keepalivedMs, nodeStartMs } = await measure(layout, ns.prefix);
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    const v = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
    const version = `${v.stderr}${v.stdout}`.split('\n')[0]?.trim() || 'keepalived';
    const load = os.loadavg()[0]?.toFixed(1);
    const markdown = [
      `${fmt(services)} services: ${fmt(layout.files)} files, ${fmt(layout.lines)} lines, ${(layout.bytes / 1048576).toFixed(1)} MiB.`,
      '',
      '| parser | mean time (ms) | keepalived ÷ this |',
      '| --- | ---: | ---: |',
      `| lvskit \`loadConfig\`, in process (as the daemon reloads) | ${fmt(lvskitMs)} | ${(keepalivedMs / lvskitMs).toFixed(2)}× |`,
      `| \`lvskit check -f FILE\`, a new node process each time | ${fmt(lvskitCliMs)} | ${(keepalivedMs / lvskitCliMs).toFixed(2)}× |`,
      `| \`keepalived -t -f FILE\`, a new process each time | ${fmt(keepalivedMs)} | 1.00× |`,
      '',
      `Starting node alone (\`node -e 0\`) took ${fmt(nodeStartMs)} ms in the same run; it is part of the \`lvskit check\` figure.`,
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform} ${process.arch} (${os.cpus().length} CPUs, load average ${load} ` +
        `at the end: the machine is shared), Node ${process.version}, ${version}; mean of ≥ 8 runs each; ${ns.note}; both parsers were ` +
        'checked to read to the end (an unknown keyword after the include is reported by each); command: ' +
        '`node dist/bench/config-parse.js --update-docs`.',
    ].join('\n');
    console.log(markdown);
    if (process.argv.includes('--update-docs')) updateDocs('config-parse', markdown);
  } finally {
    ns.cleanup();
    fs.rmSync(layout.dir, { recursive: true, force: true });
  }
}

await main();
