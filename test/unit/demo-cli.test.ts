// layer: tests (unit)
// job: `lvskit demo` without root: a clear message naming sudo and exit status 2, before anything is touched.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOT_ROOT_MESSAGE, NOT_ROOT_STATUS } from '../../src/cli/demo.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

test('lvskit demo refuses without root: says why and how, exits 2', (t) => {
  // As root, the command is run as nobody (uid 65534); otherwise as the user running the tests.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = spawnSync(process.execPath, [CLI, 'demo', '--no-interactive'], { encoding: 'utf8', timeout: 30_000, ...asUser });
  t.is(r.status, NOT_ROOT_STATUS);
  t.is(r.stderr.trim(), NOT_ROOT_MESSAGE);
  t.regex(r.stderr, /needs root.*sudo npx lvskit demo/s);
  t.is(r.stdout, '');
});
