// layer: tests (unit, fuzz)
// job: build the libFuzzer harnesses of fuzz/ (clang, ASan, UBSan) and run each for a short budget from its seed corpus
//      and its regression inputs (fuzz/regressions/<target>/, every input that once crashed it), which run first. No clang: skipped with its reason, a failure under CI=true.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fuzzDir = path.join(repo, 'fuzz');
const ci = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** Each harness and its share of the budget (a conn_pass input is a whole file, but its pass is sized from it: as cheap). */
const TARGETS: [string, number][] = [['conn_line', 1], ['recv_control', 1], ['conn_pass', 1]];

/**
 * The environment for clang and the harnesses: without the sanitizer pass's LD_PRELOAD of gcc's ASan runtime
 * (the harnesses link clang's own) and its options.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']) delete env[k];
  return env;
}

function run(file: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

function clangMissing(): string | undefined {
  try {
    fs.accessSync('/usr/bin/clang++', fs.constants.X_OK);
    return undefined;
  } catch {
    return 'clang++ is not installed (Debian package clang)';
  }
}

test.serial('the native harnesses build with libFuzzer, ASan and UBSan, and each runs its budget without a finding', async (t) => {
  t.timeout(15 * 60_000);
  const missing = clangMissing();
  if (missing) {
    if (ci) t.fail(`${missing}: the native fuzz harnesses cannot run`);
    else t.log(`skipped: ${missing}`);
    t.pass();
    return;
  }
  const build = await run('make', ['-C', fuzzDir, '-j2', 'all'], repo, 10 * 60_000);
  if (build.code !== 0) {
    t.fail(`make -C fuzz failed:\n${build.output.slice(-4000)}`);
    return;
  }
  for (const [target, share] of TARGETS) {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), `lvskit-fuzz-${target}-`));
    try {
      const runs = Math.max(100, Math.round(FUZZ_RUNS * share));
      const started = performance.now();
      // New inputs go to the temporary directory (first); the kept corpus and the regression inputs are only read.
      const regressions = path.join(fuzzDir, 'regressions', target);
      const seeds = [path.join(fuzzDir, 'corpus', target), ...(fs.existsSync(regressions) ? [regressions] : [])];
      const r = await run(path.join(fuzzDir, 'build', target), [fresh, ...seeds, `-runs=${runs}`, '-timeout=10', '-rss_limit_mb=4096', `-artifact_prefix=${fresh}/`], fuzzDir, 10 * 60_000);
      const ms = Math.round(performance.now() - started);
      if (r.code !== 0) {
        const artifacts = fs.readdirSync(fresh).filter((f) => /^(crash|leak|timeout|oom)-/.test(f));
        t.fail(`${target} found something (exit ${r.code}; artifacts ${artifacts.join(', ') || 'none'} in ${fresh}):\n${r.output.slice(-6000)}`);
        return;
      }
      const done = /Done (\d+) runs/.exec(r.output);
      t.log(`${target}: ${done?.[1] ?? '?'} runs in ${ms} ms`);
      t.truthy(done, `${target} did not report its runs:\n${r.output.slice(-2000)}`);
    } finally {
      if (!fs.readdirSync(fresh).some((f) => /^(crash|leak|timeout|oom)-/.test(f))) fs.rmSync(fresh, { recursive: true, force: true });
    }
  }
});
