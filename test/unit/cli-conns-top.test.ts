// layer: tests (unit)
// job: `conns top` without commander: main.ts's reading of a plain line gives commander's options or none, and the command prints the same and fails the same either way.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { plainTopOptions, topScanOptions, type TopOptions } from '../../src/cli/conns-top.js';
import { registerConnsCommands } from '../../src/cli/conns.js';
import { CLI } from '../helpers/cli.js';
import { CAPTURE_DIR } from '../helpers/conns-kernel-capture.js';

const TABLE = path.join(CAPTURE_DIR, 'ip_vs_conn.txt');

/** The options commander gives `conns top` for these words (its action replaced), or the error it reports. */
function commanderReads(words: string[]): TopOptions | string {
  const quiet = { writeErr: () => undefined, writeOut: () => undefined };
  const program = new Command('lvskit').exitOverride().configureOutput(quiet);
  registerConnsCommands(program);
  const top = program.commands.find((c) => c.name() === 'conns')!.commands.find((c) => c.name() === 'top')!;
  let parsed: TopOptions | undefined;
  top.exitOverride().configureOutput(quiet).action((o: TopOptions) => { parsed = o; });
  try {
    program.parse(words, { from: 'user' });
  } catch (err) {
    return (err as Error).message;
  }
  return parsed!;
}

const LINES: string[][] = [
  [], ['--table-file', TABLE, '--threshold', '100', '--limit', '0'], [`--table-file=${TABLE}`, '--state', 'SYN_RECV'],
  ['--state=TIME_WAIT', '--per-service', '--json'], ['--limit', '5', '--limit', '6'], ['--netns', 'lb1'], ['-n', 'lb1'],
  ['--state', 'ESTABLISHD'], ['--limit', '-1'], ['--limit', '07'], ['--limit', 'ten'], ['--help'], ['--table-file'],
  ['--json=yes'], ['--threshold', '4294967296'], ['extra'], ['--table-file', TABLE, '--', '--limit'], ['--file', TABLE],
];

test('a plain line is read as commander reads it, and anything else is left to commander', (t) => {
  let plain = 0;
  for (const words of LINES) {
    const ours = plainTopOptions(['conns', 'top', ...words]);
    if (ours === undefined) continue;
    plain++;
    const theirs = commanderReads(['conns', 'top', ...words]);
    t.not(typeof theirs, 'string', `${words.join(' ')}: commander refused a line read as plain: ${String(theirs)}`);
    const { json, ...rest } = theirs as TopOptions;
    t.deepEqual({ ...topScanOptions(ours), json: ours.json === true }, { ...topScanOptions(rest), json: json === true }, words.join(' '));
  }
  t.is(plain, 4, 'the four plain lines');
  for (const other of [['conns', 'list'], ['conns'], ['top'], ['autoban', 'top']]) t.is(plainTopOptions(other), undefined);
});

function lvskit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'conns', 'top', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.replace(/; [\d.]+ ms, /, '; MS, '), stderr: r.stderr };
}

test('the command prints the same, and fails the same, with or without commander', (t) => {
  // `--limit 3` twice is one option to commander but not a plain line: that run goes through commander.
  const words = ['--table-file', TABLE, '--threshold', '1', '--limit', '3'];
  t.truthy(plainTopOptions(['conns', 'top', ...words]));
  t.is(plainTopOptions(['conns', 'top', ...words, '--limit', '3']), undefined);
  const plain = lvskit(...words);
  t.is(plain.status, 0, plain.stderr);
  t.regex(plain.stdout, /^CLIENT +ESTABLISHED +TOTAL\n(\S+ +\d+ +\d+\n)+# \S+ip_vs_conn\.txt: 64 rows/);
  t.deepEqual(lvskit(...words, '--limit', '3'), plain);
  const json = lvskit('--table-file', TABLE, '--json');
  t.is(JSON.parse(json.stdout.replace('; MS, ', '')).rows, 64);
  // A missing table: the plain run fails, commander reads the line and reports it as it always has.
  const missing = lvskit('--table-file', '/nonexistent/ip_vs_conn');
  t.is(missing.status, 1);
  t.deepEqual(missing, lvskit('--table-file', '/nonexistent/ip_vs_conn', '--limit', '20', '--limit', '20'));
  t.regex(missing.stderr, /^lvskit: option '--table-file <FILE>' argument '\/nonexistent\/ip_vs_conn' is invalid\. \/nonexistent\/ip_vs_conn does not exist/);
});
