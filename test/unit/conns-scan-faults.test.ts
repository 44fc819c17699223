// layer: tests (unit)
// job: the native scanner under injected faults (a test build's hooks): an allocation failing on its helper thread fails the scan with ENOMEM, and the process lives on.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { binding } from '../../src/native/binding.js';
import { clientAddresses, connsFor, procRow, PROC_HEADER } from '../helpers/conns-fixtures.js';

const conns = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'conns', 'index.js');
// CI's sanitizer pass builds the addon with the hooks and sets this: there the test must run, not skip.
const expected = process.env['LVSKIT_EXPECT_FAULT_HOOKS'] === '1';
const hooked = binding().faultHooks;

test('an allocation that fails on the scanner\'s helper thread fails the scan with ENOMEM; the process lives and scans again', async (t) => {
  if (!hooked) {
    if (expected) return t.fail('LVSKIT_EXPECT_FAULT_HOOKS=1 but the addon was built without fault hooks (binding.gyp -Dfault_hooks=1)');
    t.log('skipped: the addon was built without fault hooks (node-gyp rebuild -- -Dfault_hooks=1; CI\'s sanitizer pass has them)');
    return t.pass();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 16 MiB or more: the scanner splits the file between this thread and a helper.
  const clients = clientAddresses(3000).map((address, i) => ({ address, states: { ESTABLISHED: 60 + (i % 90) } }));
  const file = path.join(dir, 'big');
  fs.writeFileSync(file, PROC_HEADER + connsFor(clients).map((c, i) => procRow(c, i % 900)).join(''));
  t.true(fs.statSync(file).size >= 16 << 20);
  const body = `
    const { scanConnections } = await import(${JSON.stringify(conns)});
    const file = ${JSON.stringify(file)};
    const failed = await scanConnections({ file, threads: 2 }).then(() => undefined, (e) => e);
    console.log(JSON.stringify({ name: failed?.name, code: failed?.code, errno: failed?.errno, syscall: failed?.syscall, path: failed?.path, message: failed?.message }));
    const again = await scanConnections({ file, threads: 1 });
    console.log(JSON.stringify({ rows: again.rows }));`;
  const child = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', body], { env: { ...process.env, LVSKIT_FAULT_SCAN_HELPER_ALLOC: '1' }, timeout: 120_000 }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
  t.is(child.signal, null, `the process was not ended by a signal (std::terminate aborts): ${child.stderr}`);
  t.is(child.code, 0, child.stderr);
  const [failure, again] = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.like(failure, { name: 'ErrnoError', code: 'ENOMEM', errno: 12, syscall: 'scan', path: file });
  t.regex(String(failure?.['message']), /^scan failed: ENOMEM \(Cannot allocate memory\)/);
  t.is(again?.['rows'], connsFor(clients).length, 'the next scan in the same process counts every row');
});
