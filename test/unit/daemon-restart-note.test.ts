// layer: tests (unit)
// job: the restart note: written 0600 and read once; resumes only instances still configured the same, within their window, from this boot; a symlink is never followed.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monotonicMs, resumeWindowMs, takeRestartNote, writeRestartNote } from '../../src/daemon/restart-state.js';

const instances = [{ name: 'VI_1', interface: 'eth0', vrid: 51, virtualAddresses: ['10.0.0.1'] }, { name: 'VI_2', interface: 'eth0', vrid: 52, virtualAddresses: ['10.0.0.2'] }];
const masters = [{ name: 'VI_1', vrid: 51, interface: 'eth0', windowMs: resumeWindowMs(1000) }, { name: 'VI_2', vrid: 52, interface: 'eth0', windowMs: resumeWindowMs(1000) }];

function dir(t: { teardown(fn: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-note-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('written, then taken once: the MASTERs still configured the same resume', (t) => {
  const file = path.join(dir(t), 'lvskit.restart');
  writeRestartNote(file, masters);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  const changed = [instances[0]!, { ...instances[1]!, vrid: 62 }];
  t.deepEqual(takeRestartNote(file, changed), ['VI_1'], 'VI_2 has another VRID now: it is another router');
  t.deepEqual(takeRestartNote(file, instances), [], 'the note is gone once read');
});

test('too late: nothing resumes (a backup has taken over by now)', (t) => {
  const file = path.join(dir(t), 'lvskit.restart');
  writeRestartNote(file, masters);
  t.deepEqual(takeRestartNote(file, instances, monotonicMs() + 4001), []);
});

test('another boot, garbage, a symlink: nothing resumes', (t) => {
  const d = dir(t);
  const file = path.join(d, 'lvskit.restart');
  fs.writeFileSync(file, JSON.stringify({ bootId: 'another-boot', stoppedAtMs: monotonicMs(), masters }));
  t.deepEqual(takeRestartNote(file, instances), []);
  fs.writeFileSync(file, '{ not json');
  t.deepEqual(takeRestartNote(file, instances), []);
  const real = path.join(d, 'real');
  writeRestartNote(real, masters);
  fs.symlinkSync(real, file);
  t.deepEqual(takeRestartNote(file, instances), [], 'O_NOFOLLOW');
  t.throws(() => writeRestartNote(path.join(d, 'link-dir-missing', 'x'), masters));
});
