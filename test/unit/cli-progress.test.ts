// layer: tests (unit)
// job: progress bars only for a person watching: both streams terminals and not --json; on a terminal the bar is drawn and cleared.
import test from 'ava';
import { Writable } from 'node:stream';
import { progressBar, wantsProgress } from '../../src/cli/progress.js';

/** A stream that says it is a terminal and keeps what is written to it. */
function fakeTty(): NodeJS.WriteStream & { text: string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } }) as unknown as NodeJS.WriteStream & { text: string };
  Object.assign(stream, { isTTY: true, columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  Object.defineProperty(stream, 'text', { get: () => chunks.join('') });
  return stream;
}

test('a bar only when stdout and stderr are terminals and the caller wants one', (t) => {
  const tty = fakeTty();
  t.true(wantsProgress({ stdout: { isTTY: true }, stderr: tty }));
  t.false(wantsProgress({ stdout: { isTTY: false }, stderr: tty }), 'stdout piped: nothing extra');
  t.false(wantsProgress({ stdout: {}, stderr: tty }));
  t.false(wantsProgress({ stdout: { isTTY: true }, stderr: tty, enabled: false }), '--json, or too little work');
  t.is(progressBar({ total: 10, unit: 'entries', stdout: { isTTY: false }, stderr: tty }), undefined);
  t.is(tty.text, '');
});

test('on a terminal: the bar shows done/total in the unit, and is cleared when stopped', (t) => {
  const tty = fakeTty();
  const bar = progressBar({ total: 100_000, unit: 'entries', stdout: { isTTY: true }, stderr: tty });
  t.truthy(bar);
  bar?.update(50_000);
  bar?.stop();
  t.regex(tty.text, /50% 50000\/100000 entries/);
});
