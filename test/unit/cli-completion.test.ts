// layer: tests (unit)
// job: `lvskit completion bash`: the script, run by bash, completes commands, subcommands, options, choices and files from the program's own definitions.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../helpers/cli.js';

const script = spawnSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' }).stdout;

/** What the completion function offers for the words typed so far (the last one being completed). */
function complete(...typed: string[]): string[] {
  const words = ['lvskit', ...typed].map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _lvskit; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

test('the script is valid bash and registers the function for lvskit', (t) => {
  t.notThrows(() => execFileSync('bash', ['-n'], { input: script }));
  t.regex(script, /^complete -o filenames -F _lvskit lvskit$/m);
});

test('commands, subcommands and options come from the program itself; hidden 0.1 spellings are not offered', (t) => {
  t.deepEqual(complete('ip'), ['ipvs', 'ipset']);
  t.deepEqual(complete('ipvs', ''), ['list', 'apply']);
  t.deepEqual(complete('conns', 'top', '--t'), ['--table-file', '--threshold']);
  t.deepEqual(complete('ipvs', 'list', '--st'), ['--stats']);
  t.false(complete('conns', 'top', '--').includes('--file'), '0.1\'s --file is hidden');
  t.deepEqual(complete('-n', 'x', 'conns', 'tr'), ['track'], 'an option value does not count as a command');
  t.deepEqual(complete('to'), ['top']);
  t.deepEqual(complete('top', '--'), ['--control', '--netns', '--interval', '--once', '--count', '--json', '--help']);
});

test('values: choices, the kernel\'s state names, files where a file is expected', (t) => {
  t.deepEqual(complete('addrs', '--family', ''), ['4', '6', 'inet', 'inet6']);
  t.deepEqual(complete('conns', 'top', '--state', 'ESTAB'), ['ESTABLISHED']);
  t.deepEqual(complete('conns', 'track', '--role', ''), ['master', 'backup', 'both']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-comp-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'keepalived.conf'), '');
  t.deepEqual(complete('check', `${dir}/kee`), [`${dir}/keepalived.conf`]);
  t.deepEqual(complete('run', '-f', `${dir}/k`), [`${dir}/keepalived.conf`]);
  t.deepEqual(complete('check', '-i', ''), [], 'a config id is free text');
});

test('only bash is offered', (t) => {
  const r = spawnSync(process.execPath, [CLI, 'completion', 'zsh'], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.is(r.stderr, 'lvskit: no completion for zsh; bash is the one supported (`lvskit completion bash`)\n');
});
