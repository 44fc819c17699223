// layer: tests (unit)
// job: an open client keeps a user's process alive after a failed call until it is closed, and `using` closes it when the scope ends (docs: README, "Using the library").
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const program = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'api', 'client-lifetime.js');

/**
 * Runs the program until it exits, or until `graceMs` after it printed its failed call (then it is
 * killed and reported `alive`); at most 60 s.
 */
function run(mode: string, graceMs: number): Promise<{ code: number | null; alive: boolean; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [program, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const alive = (): void => { child.kill('SIGKILL'); };
    let sawFailure = false;
    const onData = (d: Buffer): void => {
      out += d;
      if (/failed/.test(out) && !sawFailure) {
        sawFailure = true;
        clearTimeout(timer);
        timer = setTimeout(alive, graceMs);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, alive: signal === 'SIGKILL', out }); });
  });
}

test('`using` closes the client when its scope ends: the program exits by itself after a failed call', async (t) => {
  const r = await run('using', 10_000);
  t.false(r.alive, `still running 10 s after its last call: ${r.out}`);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /links \d+\nfailed ENODEV/);
});

test('without close(), the open client keeps the program alive after its last (failed) call', async (t) => {
  const r = await run('open', 3_000);
  t.regex(r.out, /failed ENODEV/);
  t.true(r.alive, `exited by itself (code ${r.code})`);
});
