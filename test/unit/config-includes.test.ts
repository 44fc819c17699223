// layer: tests (unit)
// job: include as keepalived does it: globs relative to the including file, nesting, cycles, missing files, non-text and huge files.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandBraces, glob, segmentRegExp } from '../../src/config/glob.js';
import { loadConfig } from '../../src/config/index.js';
import { memoryReader, type ConfigReader } from '../../src/config/reader.js';
import { fixture, messages, parseFiles } from '../helpers/config.js';

const script = (name: string): string => `vrrp_script ${name} {\n    script /bin/true\n}\n`;
const names = (r: ReturnType<typeof parseFiles>): string[] => r.config.vrrpScripts.map((s) => s.name);

test('nested includes with a glob, relative to each including file (real files)', (t) => {
  const r = loadConfig(fixture('includes', 'main.conf'));
  t.deepEqual(names(r), ['from_nested', 'from_deeper']);
  t.deepEqual(r.files, [fixture('includes', 'main.conf'), fixture('includes', 'nested', 'one.conf'), fixture('includes', 'nested', 'deeper', 'two.conf')]);
  t.deepEqual(messages(r), []);
  t.is(r.config.vrrpScripts[1]?.location.file, fixture('includes', 'nested', 'deeper', 'two.conf'));
});

test('an include cycle is an error at the include line that closes it, naming the chain', (t) => {
  const a = fixture('includes', 'cycle', 'a.conf');
  const b = fixture('includes', 'cycle', 'b.conf');
  const r = loadConfig(a);
  t.deepEqual(names(r), ['a', 'b']);
  t.deepEqual(messages(r), [
    `${b}:4:1: error: include cycle: ${a} → ${b} → ${a}; not read again\n${a}:4:1: note: ${b} is included here`,
  ]);
});

test('a file including itself is a cycle too', (t) => {
  const r = parseFiles({ '/etc/k/keepalived.conf': `${script('x')}include keepalived.conf\n` }, '/etc/k/keepalived.conf');
  t.deepEqual(messages(r), ['/etc/k/keepalived.conf:4:1: error: include cycle: /etc/k/keepalived.conf → /etc/k/keepalived.conf; not read again']);
});

test('not a cycle: a file with the inode number of one being read that was replaced meanwhile (an editor saving both during a reload)', (t) => {
  const files = { '/etc/k/keepalived.conf': 'include services/*.conf\n', '/etc/k/services/www.conf': script('www') };
  const memory = memoryReader(files);
  let replaced = false;
  // keepalived.conf is read as inode 7; then it is replaced (a new inode) and services/www.conf, saved after it, reuses 7.
  const reader: ConfigReader = {
    ...memory,
    stat: (p) => {
      const st = memory.stat(p);
      return st && p.endsWith('keepalived.conf') && replaced ? { ...st, identity: '1:8' } : st;
    },
    readFile: (p, maxBytes) => {
      const r = memory.readFile(p, maxBytes);
      if (p.endsWith('keepalived.conf')) replaced = true;
      return p.endsWith('keepalived.conf') || p.endsWith('www.conf') ? { ...r, stat: { ...r.stat, identity: '1:7' } } : r;
    },
  };
  const r = loadConfig('/etc/k/keepalived.conf', { reader });
  t.deepEqual(messages(r), []);
  t.deepEqual(names(r), ['www']);
  // The same identity while keepalived.conf is still that file: a cycle, as before.
  const as7 = (st: ReturnType<ConfigReader['stat']>): ReturnType<ConfigReader['stat']> => st && { ...st, identity: '1:7' };
  const still: ConfigReader = {
    ...memory,
    stat: (p) => as7(memory.stat(p)),
    readFile: (p, maxBytes) => {
      const r = memory.readFile(p, maxBytes);
      return { ...r, stat: as7(r.stat)! };
    },
  };
  t.regex(messages(loadConfig('/etc/k/keepalived.conf', { reader: still })).join('\n'), /include cycle: \/etc\/k\/keepalived\.conf → \/etc\/k\/services\/www\.conf; not read again/);
});

test('glob matches are read in sorted order; braces expand; directories are skipped', (t) => {
  const r = parseFiles({
    '/etc/k/keepalived.conf': 'include services/*.conf\ninclude extra/{b,a}.conf\n',
    '/etc/k/services/b.example.conf': script('b'),
    '/etc/k/services/a.example.conf': script('a'),
    '/etc/k/services/dir.conf/ignored.conf': script('never'),
    '/etc/k/services/.hidden.conf': script('hidden'),
    '/etc/k/services/readme.txt': 'not a conf',
    '/etc/k/extra/a.conf': script('extra_a'),
    '/etc/k/extra/b.conf': script('extra_b'),
  }, '/etc/k/keepalived.conf');
  t.deepEqual(names(r), ['a', 'b', 'extra_b', 'extra_a']);
  t.deepEqual(messages(r), []);
});

test('a literal include that does not exist is an error; a wildcard that matches nothing is a warning (an error for includew)', (t) => {
  const r = parseFiles({
    '/k/keepalived.conf': 'include missing.conf\ninclude conf.d/*.conf\nincludew conf.d/*.conf\ninclude a b\n',
  }, '/k/keepalived.conf');
  t.deepEqual(messages(r), [
    '/k/keepalived.conf:1:1: error: include missing.conf: /k/missing.conf does not exist',
    '/k/keepalived.conf:2:1: warning: include conf.d/*.conf: no file matches /k/conf.d/*.conf',
    '/k/keepalived.conf:3:1: error: includew conf.d/*.conf: no file matches /k/conf.d/*.conf',
    '/k/keepalived.conf:4:1: error: `include` takes exactly one file name or pattern (quote a name with blanks); line ignored',
  ]);
});

test('the main file missing is an error naming it', (t) => {
  const r = loadConfig(path.join(os.tmpdir(), 'lvskit-no-such-dir', 'keepalived.conf'));
  t.false(r.ok);
  t.deepEqual(messages(r), [`${path.join(os.tmpdir(), 'lvskit-no-such-dir', 'keepalived.conf')}: error: cannot read ${path.join(os.tmpdir(), 'lvskit-no-such-dir', 'keepalived.conf')}: it does not exist`]);
});

test('a file that is not text is an error at its first binary byte, and is skipped', (t) => {
  const binary = Buffer.concat([Buffer.from('global_defs {\n  router_id a\n}\nab'), Buffer.from([0x7f, 0x45, 0x00, 0x01]), Buffer.from('\n')]);
  const r = parseFiles({ '/k/keepalived.conf': `${script('before')}include bin.conf\n${script('after')}`, '/k/bin.conf': binary }, '/k/keepalived.conf');
  t.deepEqual(messages(r), ['/k/bin.conf:4:5: error: not a text file: character 0x00 at character 34; the file is skipped']);
  t.deepEqual(names(r), ['before', 'after']);
  t.is(r.config.globalDefs.routerId, undefined);
});

test('a file that is not UTF-8 is read as Latin-1 with a warning', (t) => {
  const latin1 = Buffer.from('# caf\xe9\nglobal_defs {\n  router_id b\xe9\n}\n', 'latin1');
  const r = parseFiles({ '/k/keepalived.conf': latin1 }, '/k/keepalived.conf');
  t.deepEqual(messages(r), ['/k/keepalived.conf:1:6: warning: not valid UTF-8; the file is read as Latin-1']);
  t.is(r.config.globalDefs.routerId, 'b\xe9');
});

test('real files, as the file-system reader decodes them: a byte-order mark dropped, Latin-1 and binary files as from memory, U+FFFD kept, the size limit', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-config-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer): string => {
    fs.writeFileSync(path.join(dir, name), bytes);
    return path.join(dir, name);
  };
  const bom = loadConfig(write('bom.conf', Buffer.from('\ufeffglobal_defs {\n  router_id a\n}\n', 'utf8')));
  t.deepEqual(messages(bom), []);
  t.is(bom.config.globalDefs.routerId, 'a');
  const latin1 = loadConfig(write('latin1.conf', Buffer.from('# caf\xe9\nglobal_defs {\n  router_id b\xe9\n}\n', 'latin1')));
  t.deepEqual(messages(latin1), [`${dir}/latin1.conf:1:6: warning: not valid UTF-8; the file is read as Latin-1`]);
  t.is(latin1.config.globalDefs.routerId, 'b\xe9');
  const replacement = loadConfig(write('fffd.conf', Buffer.from('global_defs {\n  router_id c\ufffd\n}\n', 'utf8')));
  t.deepEqual(messages(replacement), []);
  t.is(replacement.config.globalDefs.routerId, 'c\ufffd');
  const utf8 = loadConfig(write('utf8.conf', Buffer.from('global_defs {\n  router_id d\xe9\n}\n', 'utf8')));
  t.deepEqual(messages(utf8), []);
  t.is(utf8.config.globalDefs.routerId, 'd\xe9');
  const binary = loadConfig(write('bin.conf', Buffer.from('global_defs {\n  router_id e\x01\n}\n', 'latin1')));
  t.deepEqual(messages(binary), [`${dir}/bin.conf:2:14: error: not a text file: character 0x01 at character 27; the file is skipped`]);
  const big = write('big.conf', Buffer.from(script('big'), 'utf8'));
  t.deepEqual(messages(loadConfig(big, { limits: { maxFileBytes: 10 } })), [`${big}: error: ${big} is 41 bytes, more than the limit of 10; not read`]);
});

test('a file over the size limit is an error and is not read (default limit 64 MiB)', (t) => {
  const huge = Buffer.alloc(65 << 20, 0x20);
  const r = parseFiles({ '/k/keepalived.conf': `include huge.conf\n${script('after')}`, '/k/huge.conf': huge }, '/k/keepalived.conf');
  t.deepEqual(messages(r), [`/k/keepalived.conf:1:1: error: /k/huge.conf is ${65 << 20} bytes, more than the limit of ${64 << 20}; not read`]);
  t.deepEqual(names(r), ['after']);
  const small = parseFiles({ '/k/keepalived.conf': script('a') }, '/k/keepalived.conf', { limits: { maxFileBytes: 10 } });
  t.deepEqual(messages(small), ['/k/keepalived.conf: error: /k/keepalived.conf is 39 bytes, more than the limit of 10; not read']);
});

test('includes nested deeper than the limit are an error at the include that goes too deep', (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`/k/f${i}.conf`] = `${script(`s${i}`)}include f${i + 1}.conf\n`;
  files['/k/f40.conf'] = script('s40');
  const r = parseFiles(files, '/k/f0.conf');
  t.deepEqual(messages(r), ['/k/f31.conf:4:1: error: includes nested deeper than 32 files; /k/f32.conf is not read']);
  t.is(r.config.vrrpScripts.length, 32);
});

test('executable configuration files are skipped with a warning, as keepalived skips them (an executable main file is an error)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-config-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'services'));
  fs.writeFileSync(path.join(dir, 'keepalived.conf'), 'include services/*.conf\n');
  fs.writeFileSync(path.join(dir, 'services', 'a.conf'), script('plain'));
  fs.writeFileSync(path.join(dir, 'services', 'b.conf'), script('exec'), { mode: 0o755 });
  const r = loadConfig(path.join(dir, 'keepalived.conf'));
  t.deepEqual(names(r), ['plain']);
  t.deepEqual(messages(r), [`${dir}/keepalived.conf:1:1: warning: ${dir}/services/b.conf is executable; keepalived skips executable configuration files, so lvskit does too`]);
  fs.chmodSync(path.join(dir, 'keepalived.conf'), 0o755);
  t.deepEqual(messages(loadConfig(path.join(dir, 'keepalived.conf'))), [`${dir}/keepalived.conf: error: ${dir}/keepalived.conf is executable; keepalived refuses executable configuration files`]);
});

test('symbolic links: a linked include is read; a link back to an including file is a cycle', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-config-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'services'));
  fs.writeFileSync(path.join(dir, 'keepalived.conf'), `${script('main')}include services/*.conf\n`);
  fs.writeFileSync(path.join(dir, 'real.conf'), script('linked'));
  fs.symlinkSync(path.join(dir, 'real.conf'), path.join(dir, 'services', 'a.conf'));
  fs.symlinkSync(path.join(dir, 'keepalived.conf'), path.join(dir, 'services', 'b.conf'));
  const r = loadConfig(path.join(dir, 'keepalived.conf'));
  t.deepEqual(names(r), ['main', 'linked']);
  t.deepEqual(messages(r), [`${dir}/keepalived.conf:4:1: error: include cycle: ${dir}/keepalived.conf → ${dir}/services/b.conf; not read again`]);
});

test('glob helpers: segment patterns, classes, brace expansion, leading dots', (t) => {
  t.true(segmentRegExp('*.conf').test('a.conf'));
  t.false(segmentRegExp('*.conf').test('a.conf.bak'));
  t.true(segmentRegExp('svc[0-9]?.conf').test('svc7x.conf'));
  t.false(segmentRegExp('svc[!0-9].conf').test('svc7.conf'));
  t.true(segmentRegExp('a\\*b').test('a*b'));
  t.deepEqual(expandBraces('{foo/{,cat,dog},bar}'), ['foo/', 'foo/cat', 'foo/dog', 'bar']);
  t.deepEqual(expandBraces('plain{}'), ['plain{}']);
  const reader = memoryReader({ '/d/.x.conf': '', '/d/y.conf': '', '/d/sub/z.conf': '' });
  t.deepEqual(glob('/d/*.conf', reader), [{ path: '/d/y.conf', kind: 'file' }]);
  t.deepEqual(glob('/d/.*.conf', reader), [{ path: '/d/.x.conf', kind: 'file' }]);
  t.deepEqual(glob('/d/*/*.conf', reader), [{ path: '/d/sub/z.conf', kind: 'file' }]);
  t.deepEqual(glob('/d/*', reader).map((m) => `${m.path} ${m.kind}`), ['/d/sub directory', '/d/y.conf file']);
  t.deepEqual(glob('/d/nothing.conf', reader), []);
});
