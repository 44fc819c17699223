// layer: tests (unit)
// job: track_file against a real file and inotify: init_file, a write moving the instance's weight, a removal reading as 0, a rename into place.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Trackers } from '../../src/track/runner.js';
import type { InstanceTracking, TrackingConfig } from '../../src/track/types.js';

function nextChange(trackers: Trackers, timeoutMs = 5000): Promise<Record<string, InstanceTracking>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no change within ${timeoutMs} ms`)), timeoutMs);
    trackers.once('change', (c) => { clearTimeout(timer); resolve(c); });
  });
}

test('writing the file moves the weight (value × weight); removing it reads 0; a file moved into place is read; init_file writes a missing file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-trackfile-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'prio');
  const config: TrackingConfig = {
    scripts: [], files: [{ name: 'tf', path: file, init: { value: 3, overwrite: false } }],
    instances: { VI_1: [{ kind: 'file', name: 'tf', weight: -5, reverse: false }], VI_2: [{ kind: 'file', name: 'tf', weight: 0, reverse: false }] },
    scriptSecurity: false,
  };
  const trackers = new Trackers();
  t.teardown(() => trackers.stop());
  trackers.configure(config);
  trackers.start();
  t.is(fs.readFileSync(file, 'utf8'), '3\n', 'init_file wrote the missing file');
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: -15 }, VI_2: { fault: true, weight: 0 } });

  let change = nextChange(trackers);
  fs.writeFileSync(file, '-2\n');
  t.deepEqual(await change, { VI_1: { fault: false, weight: 10 }, VI_2: { fault: true, weight: 0 } });

  change = nextChange(trackers);
  fs.rmSync(file);
  t.deepEqual(await change, { VI_1: { fault: false, weight: 0 }, VI_2: { fault: false, weight: 0 } }, 'a removed file counts 0');

  change = nextChange(trackers);
  fs.writeFileSync(`${file}.new`, '60');
  fs.renameSync(`${file}.new`, file);
  t.deepEqual(await change, { VI_1: { fault: true, weight: 0 }, VI_2: { fault: true, weight: 0 } }, '60 × -5 is at or below -254: FAULT');
  t.like(trackers.status()[0], { kind: 'file', name: 'tf', state: 'ok', value: 60 });
});

test('init_file does not overwrite an existing file unless `overwrite`; a missing directory disables the tracker with an event', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-trackfile-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.writeFileSync(a, '9\n');
  fs.writeFileSync(b, '9\n');
  const trackers = new Trackers();
  t.teardown(() => trackers.stop());
  const events: string[] = [];
  trackers.on('event', (e) => { if (e.type === 'tracker-error') events.push(e.message); });
  trackers.configure({
    scripts: [], scriptSecurity: false,
    files: [{ name: 'a', path: a, init: { value: 1, overwrite: false } }, { name: 'b', path: b, init: { value: 1, overwrite: true } },
      { name: 'gone', path: path.join(dir, 'nodir', 'x'), location: { file: 'k.conf', line: 9, column: 1 } }],
    instances: { VI_1: [{ kind: 'file', name: 'a', weight: 1, reverse: false }, { kind: 'file', name: 'b', weight: 1, reverse: false }, { kind: 'file', name: 'gone', weight: 0, reverse: false }] },
  });
  trackers.start();
  t.is(fs.readFileSync(a, 'utf8'), '9\n');
  t.is(fs.readFileSync(b, 'utf8'), '1\n');
  t.deepEqual(trackers.tracking(), { VI_1: { fault: false, weight: 10 } });
  t.is(events.length, 1, events.join(' | '));
  t.regex(events.join('\n'), /track_file gone disabled: cannot watch .*nodir \(ENOENT\)/);
});
