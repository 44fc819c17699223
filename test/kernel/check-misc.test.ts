// layer: tests (kernel tier)
// job: MISC_CHECK with real processes: exit codes, misc_dynamic, a hang killed as a process group, a crash, an output flood, no shell, uid; no child left running or unreaped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import test from 'ava';
import { checkOnce } from '../../src/check/probe.js';
import { runProgram } from '../../src/check/process.js';
import type { MiscCheckSpec } from '../../src/check/types.js';
import { validateCheck } from '../../src/check/validate.js';
import { assertNoLeaks, processState, snapshot } from '../helpers/check-leaks.js';
import { CHECK_FIXTURES } from '../helpers/check-servers.js';
import { kernelTierUnavailable } from '../helpers/netns.js';
import { until } from '../helpers/until.js';

const skip = kernelTierUnavailable();
const serial = skip ? test.skip : test.serial;
const script = (name: string): string => path.join(CHECK_FIXTURES, 'misc', name);
const misc = (argv: string[], extra: Partial<MiscCheckSpec> = {}) => validateCheck({ kind: 'MISC_CHECK', argv, timeoutMs: 2000, ...extra }).config;

serial('exit 0 is UP, exit 1 is DOWN with the code and the script’s output', async (t) => {
  const before = await snapshot();
  t.deepEqual(await checkOnce(misc([script('exit.sh'), '0'])), { ok: true });
  const down = await checkOnce(misc([script('exit.sh'), '1']));
  t.like(down, { ok: false, reason: 'exit-code', exitCode: 1, output: 'exiting with 1\n' });
  t.is(down.ok ? '' : down.message, `${script('exit.sh')}: exited with 1`);
  await assertNoLeaks(t, before);
});

serial('misc_dynamic: exit 2..255 is UP with weight code − 2; exit 1 still DOWN; without it exit 12 is DOWN', async (t) => {
  t.deepEqual(await checkOnce(misc([script('exit.sh'), '12'], { dynamic: true })), { ok: true, weight: 10 });
  t.deepEqual(await checkOnce(misc([script('exit.sh'), '2'], { dynamic: true })), { ok: true, weight: 0 });
  t.deepEqual(await checkOnce(misc([script('exit.sh'), '255'], { dynamic: true })), { ok: true, weight: 253 });
  t.like(await checkOnce(misc([script('exit.sh'), '1'], { dynamic: true })), { ok: false, exitCode: 1 });
  t.like(await checkOnce(misc([script('exit.sh'), '12'])), { ok: false, reason: 'exit-code', exitCode: 12 });
});

/** True when `pid` no longer runs and is not an unreaped child of this process. */
function gone(pid: number): boolean {
  const s = processState(pid);
  // A zombie parented elsewhere is its new parent's (init's) to reap, not ours.
  return s === undefined || (s.state === 'Z' && s.ppid !== process.pid);
}

serial('a hanging script is killed with its whole process group at misc_timeout; no process of it survives', async (t) => {
  const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-misc-')), 'pids');
  t.teardown(() => fs.rmSync(path.dirname(pidFile), { recursive: true, force: true }));
  const before = await snapshot();
  const started = performance.now();
  const result = await checkOnce(misc([script('hang.sh'), pidFile], { timeoutMs: 500 }));
  const elapsed = performance.now() - started;
  t.like(result, { ok: false, reason: 'misc-timeout' });
  t.regex(result.ok ? '' : result.message, /still running after 500 ms; process group killed$/);
  t.true(elapsed >= 495 && elapsed < 2500, `elapsed ${elapsed}`);
  const [background, shell] = fs.readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
  await until('the script and its background child are gone', () => gone(shell!) && gone(background!), 2000).catch(() => undefined);
  t.true(gone(shell!), `the script (pid ${shell}) is gone`);
  t.true(gone(background!), `its background child (pid ${background}) is gone too`);
  await assertNoLeaks(t, before);
});

serial('a crashing script is DOWN with the signal', async (t) => {
  const result = await checkOnce(misc([script('crash.sh')]));
  t.like(result, { ok: false, reason: 'signal', signal: 'SIGSEGV' });
});

/** Bytes the JS heap and the ArrayBuffers hold after a full GC: what the process keeps, whatever the allocator (ASan's quarantine included) has not given back. */
const gc = ((): () => void => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();
/**
 * Settled: V8 frees the backing stores of dead ArrayBuffers (the pipe's read chunks) on a sweeper of
 * its own after the GC, and a chunk libuv already read may still be delivered. So: GC, let the loop
 * turn, again, until two readings agree within 64 KiB (at most 20 rounds); the least reading. Memory
 * really kept never goes down, so a flood that is kept still fails.
 */
async function retainedBytes(): Promise<number> {
  let least = Infinity;
  let previous = Infinity;
  for (let round = 0; round < 20; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const m = process.memoryUsage();
    const now = m.heapUsed + m.arrayBuffers;
    least = Math.min(least, now);
    if (Math.abs(now - previous) < 64 << 10) break;
    previous = now;
  }
  return least;
}

serial('an output flood is bounded: 50 MB then exit 0 is UP, 4 KiB kept; an endless flood is killed at misc_timeout; nothing of it retained', async (t) => {
  const before = await snapshot();
  const retained = await retainedBytes();
  const fifty = await runProgram({ argv: [script('flood.sh'), String(50 << 20)], timeoutMs: 10_000, maxOutputBytes: 4096 });
  t.like(fifty, { exitCode: 0, timedOut: false, outputBytes: 50 << 20 });
  t.is(fifty.output.length, 4096, 'only the first maxOutputBytes are kept');
  t.deepEqual(await checkOnce(misc([script('flood.sh'), String(50 << 20)], { timeoutMs: 10_000 })), { ok: true });
  const endless = await checkOnce(misc([script('flood.sh')], { timeoutMs: 500, maxOutputBytes: 64 }));
  t.like(endless, { ok: false, reason: 'misc-timeout' });
  t.is(endless.ok ? -1 : endless.output?.length, 64);
  t.true(endless.ok ? false : endless.output!.startsWith('lvskit-flood\nlvskit-flood\n'));
  // Measured on what the process holds, not its RSS: the same bound with and without a sanitizer's allocator.
  const grown = (await retainedBytes()) - retained;
  t.log(`retained after a GC: ${(grown / 2 ** 20).toFixed(2)} MiB (bound 8 MiB)`);
  t.true(grown < 8 << 20, `the flood was not kept: ${(grown / 2 ** 20).toFixed(1)} MiB retained after a GC`);
  await assertNoLeaks(t, before);
});

serial('never through a shell: an argument that looks like shell code is passed as text', async (t) => {
  const marker = path.join(os.tmpdir(), `lvskit-shell-${process.pid}`);
  const outcome = await runProgram({ argv: ['/bin/echo', `$(touch ${marker})`, ';', 'touch', marker], timeoutMs: 2000, maxOutputBytes: 4096 });
  t.is(outcome.output, `$(touch ${marker}) ; touch ${marker}\n`);
  t.false(fs.existsSync(marker));
});

serial('a missing program is a spawn-error with ENOENT, not a crash', async (t) => {
  const before = await snapshot();
  t.like(await checkOnce(misc(['/nonexistent/check'])), { ok: false, reason: 'spawn-error', code: 'ENOENT' });
  await assertNoLeaks(t, before);
});

serial('uid: the script runs as the configured user', async (t) => {
  // The checkout may sit where uid 65534 cannot read (e.g. under /root): run a copy from a directory it can.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-misc-uid-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  const whoami = path.join(dir, 'whoami.sh');
  fs.copyFileSync(script('whoami.sh'), whoami);
  fs.chmodSync(whoami, 0o755);
  t.deepEqual(await checkOnce(misc([whoami, '65534'], { uid: 65534, gid: 65534 })), { ok: true });
  t.like(await checkOnce(misc([whoami, '0'], { uid: 65534, gid: 65534 })), { ok: false, exitCode: 1 });
});

serial('an aborted attempt (checker removed) kills the script too', async (t) => {
  const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-misc-')), 'pids');
  t.teardown(() => fs.rmSync(path.dirname(pidFile), { recursive: true, force: true }));
  const controller = new AbortController();
  const pending = checkOnce(misc([script('hang.sh'), pidFile], { timeoutMs: 30_000 }), controller.signal);
  // The script is running once it has written both pids (its own and its background child's).
  await until('hang.sh wrote its pids', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim().split(' ').length === 2, 5000);
  controller.abort('aborted');
  t.like(await pending, { ok: false, reason: 'aborted' });
  const [background, shell] = fs.readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
  await until('the script and its background child are gone', () => gone(shell!) && gone(background!), 2000).catch(() => undefined);
  t.true(gone(shell!) && gone(background!));
});
