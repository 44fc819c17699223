#!/usr/bin/env node
// layer: test infrastructure
// job: run every test tier this machine can run (unit, kernel, ipvs), count results, print the summary.
//
//   node test/run-tiers.mjs [--tier unit|kernel|ipvs ...] [--match TITLE] [FILE ...]
//
// Tests are the tsc output under dist/test (`npm test` compiles first). Under CI=true a tier that
// cannot run is a failure; elsewhere it is skipped with its reason. The last line is always
// `tests: N passed, M failed`.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTap } from './tap.mjs';
import { findUmlKernel, hostHasIpvs, runInUml, umlModuleVersions } from './uml/boot.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL_TIERS = ['unit', 'kernel', 'ipvs'];
const ci = process.env.CI === 'true' || process.env.CI === '1';

function parseArgs(argv) {
  const opts = { tiers: [], files: [], avaArgs: [], insideUml: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tier') opts.tiers.push(argv[++i]);
    else if (a === '--inside-uml') opts.insideUml = true;
    else if (a === '--match' || a === '-m') opts.avaArgs.push('--match', argv[++i]);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else opts.files.push(a);
  }
  for (const t of opts.tiers) {
    if (!ALL_TIERS.includes(t)) throw new Error(`unknown tier ${t} (tiers: ${ALL_TIERS.join(', ')})`);
  }
  if (opts.tiers.length === 0) opts.tiers = [...ALL_TIERS];
  return opts;
}

/** Files of `tier` among the given ones (a given file belongs to the tier named in its path). */
function tierPatterns(tier, files) {
  if (files.length === 0) return [`dist/test/${tier}`];
  return files.filter((f) => f.split(path.sep).includes(tier));
}

function runAva(patterns, avaArgs, env) {
  return new Promise((resolve) => {
    const ava = path.join(repo, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
    const child = spawn(process.execPath, [ava, '--tap', ...avaArgs, ...patterns],
      { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tap = '';
    child.stdout.on('data', (d) => { tap += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code, signal) => resolve({ code: code ?? 1, signal, tap }));
  });
}

/** Result of one ava run; a non-zero exit with no failing test (crash, no files) is one failure. */
function avaResult(run, what) {
  const counts = countTap(run.tap);
  if (run.code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.notes = [`${what}: ava exited with ${run.signal ?? run.code} without a failing test (crash or no test files)`];
  }
  return counts;
}

function netnsWithPrefix(prefix) {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n').map((l) => l.split(' ')[0]).filter((n) => n && n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Why the kernel tier cannot run here, or undefined when it can. */
function kernelTierBlocker() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (`ip`)';
  }
  return undefined;
}

async function runKernelTier(opts, patterns) {
  const blocker = kernelTierBlocker();
  if (blocker) return blocked('kernel', blocker);
  // Namespaces of this run are named `lvkt<pid>-<random>`, so leaks can be found and removed.
  const prefix = `lvkt${process.pid}`;
  const run = await runAva(patterns, opts.avaArgs, { LVSKIT_NETNS_PREFIX: prefix });
  const result = avaResult(run, 'kernel tier');
  const leaked = netnsWithPrefix(`${prefix}-`);
  for (const name of leaked) execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  if (leaked.length > 0) {
    result.failed++;
    (result.notes ??= []).push(`kernel tier leaked network namespaces: ${leaked.join(', ')}`);
  }
  return result;
}

async function runIpvsTier(opts, patterns) {
  if (opts.insideUml || hostHasIpvs()) {
    const blocker = kernelTierBlocker();
    if (blocker) return blocked('ipvs', blocker);
    return runKernelTier(opts, patterns);
  }
  if (!findUmlKernel()) return blocked('ipvs', 'no IPVS in this kernel and no user-mode Linux (apt-get install user-mode-linux)');
  if (umlModuleVersions().length === 0) return blocked('ipvs', 'user-mode Linux has no modules under /usr/lib/uml/modules');
  console.log('# ipvs tier: this kernel has no IPVS; booting user-mode Linux');
  const args = ['--tier', 'ipvs', ...opts.avaArgs, ...opts.files];
  const guest = await runInUml({ repo, args, onOutput: (s) => process.stdout.write(s) });
  const sentinel = /^tier-result (\{.*\})$/m.exec(guest.output);
  if (guest.status === undefined || !sentinel) {
    const why = guest.timedOut ? 'timed out' : 'ended without reporting a result';
    console.log(`# user-mode Linux ${why}; its console:\n${guest.console.split('\n').slice(-40).join('\n')}`);
    return { passed: 0, failed: 1, skipped: 0, todo: 0, notes: [`ipvs tier: user-mode Linux ${why}`] };
  }
  const result = JSON.parse(sentinel[1]);
  // ava ended without naming a failure (a crash, its global timeout): the guest kernel's last
  // words (hung tasks, oopses) may say why.
  if ((result.notes ?? []).some((n) => /ava exited/.test(n))) console.log(`# user-mode Linux console, last lines:\n${guest.console.split('\n').slice(-40).join('\n')}`);
  return result;
}

function blocked(tier, reason) {
  if (ci) return { passed: 0, failed: 1, skipped: 0, todo: 0, notes: [`${tier} tier cannot run under CI: ${reason}`] };
  console.log(`#\n# !!! ${tier} tier SKIPPED: ${reason}\n#`);
  return { passed: 0, failed: 0, skipped: 0, todo: 0, notes: [`${tier} tier skipped: ${reason}`] };
}

async function main() {
  const argv = process.argv.slice(2);
  // Inside user-mode Linux the arguments come from the host through the environment.
  if (argv.includes('--inside-uml')) argv.push(...JSON.parse(process.env.LVSKIT_TIER_ARGS ?? '[]'));
  const opts = parseArgs(argv);
  if (!fs.existsSync(path.join(repo, 'build', 'Release', 'lvskit.node'))) {
    console.log('# the native addon is not built: run `npm ci` (or `npx node-gyp rebuild`)');
    console.log('tests: 0 passed, 1 failed');
    process.exit(1);
  }
  const total = { passed: 0, failed: 0 };
  const lines = [];
  for (const tier of opts.tiers) {
    const patterns = tierPatterns(tier, opts.files);
    if (patterns.length === 0) continue;
    console.log(`# --- tier ${tier} ---`);
    const r = tier === 'unit' ? avaResult(await runAva(patterns, opts.avaArgs, {}), 'unit tier')
      : tier === 'kernel' ? await runKernelTier(opts, patterns)
        : await runIpvsTier(opts, patterns);
    total.passed += r.passed;
    total.failed += r.failed;
    lines.push(`# tier ${tier}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.todo ? `, ${r.todo} todo` : ''}`);
    for (const n of r.notes ?? []) lines.push(`#   ${n}`);
    if (opts.insideUml) console.log(`tier-result ${JSON.stringify(r)}`);
  }
  console.log(lines.join('\n'));
  // Inside user-mode Linux the host prints the summary; the guest's would be read twice.
  if (!opts.insideUml) console.log(`tests: ${total.passed} passed, ${total.failed} failed`);
  process.exitCode = total.failed > 0 ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
});
