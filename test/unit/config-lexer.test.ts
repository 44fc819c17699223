// layer: tests (unit)
// job: keepalived's lexical rules: comments, quotes, escapes, braces as separators, script command splitting.
import test from 'ava';
import { Diagnostics } from '../../src/config/diagnostics.js';
import { decomment, findBrace, splitCommand, tokenize, type LineText } from '../../src/config/lexer.js';
import { messages, parse } from '../helpers/config.js';

const line = (text: string, base = 1): LineText => ({ text, file: 'f.conf', line: 3, base });

test('decomment: # and ! start a comment anywhere outside double quotes; \\# does not', (t) => {
  const cases: [string, string][] = [
    ['  router_id lb1   # the first', 'router_id lb1'],
    ['router_id lb1! old style', 'router_id lb1'],
    ['script "/bin/echo #1 !2" # real comment', 'script "/bin/echo #1 !2"'],
    ['notify \\#not-a-comment', 'notify \\#not-a-comment'],
    ['# whole line', ''],
    ['\t\t', ''],
  ];
  for (const [input, code] of cases) {
    const d = decomment(input);
    t.is(input.slice(d.start, d.end), code, input);
  }
  t.is(decomment('a "open # quote').openQuoteAt, 2);
  t.is(decomment('a # "x').commentAt, 2);
});

test('findBrace: the first { or } outside double quotes', (t) => {
  t.is(findBrace('vrrp_instance VI_1 {'), 19);
  t.is(findBrace('script "a { b" }'), 15);
  t.is(findBrace('no braces here'), -1);
  t.is(findBrace('"{"'), -1);
});

test('tokenize: words with 1-based columns; "quoted" words keep spaces and are marked quoted', (t) => {
  const diags = new Diagnostics();
  const words = tokenize(line('notify_master "/usr/bin/x a b"  root', 5), diags);
  t.deepEqual(words.map((w) => [w.text, w.quoted, w.line, w.column]), [
    ['notify_master', false, 3, 5],
    ['/usr/bin/x a b', true, 3, 19],
    ['root', false, 3, 37],
  ]);
  t.deepEqual(tokenize(line('abc"def" \\#x'), diags).map((w) => w.text), ['abc', 'def', '#x']);
  t.deepEqual(diags.list, []);
});

test('tokenize: an unterminated quote is an error at the quote and the rest of the line is one word', (t) => {
  const diags = new Diagnostics();
  const words = tokenize(line('auth_pass "abc def', 1), diags);
  t.deepEqual(words.map((w) => w.text), ['auth_pass', 'abc def']);
  t.deepEqual(messages(diags.list), ['f.conf:3:11: error: unterminated quoted string (no closing ")']);
});

test('splitCommand: unquoted spaces separate arguments; single and double quotes keep spaces; shell-like escapes', (t) => {
  t.deepEqual(splitCommand('/usr/bin/killall -0 haproxy'), ['/usr/bin/killall', '-0', 'haproxy']);
  t.deepEqual(splitCommand(`/bin/sh -c 'echo "a b"'`), ['/bin/sh', '-c', 'echo "a b"']);
  t.deepEqual(splitCommand('a\\ b \\x41\\102\\tc'), ['a b', 'AB\tc']);
  t.is(splitCommand("unterminated 'quote"), undefined);
});

test('braces separate words whether on one line or many, and a { on the next line belongs to the keyword before', (t) => {
  const texts = [
    'vrrp_script chk { script /bin/true }',
    'vrrp_script chk{script /bin/true}',
    'vrrp_script chk\n{\n  script /bin/true\n}',
    'vrrp_script chk {\n  script /bin/true }',
  ];
  for (const text of texts) {
    const r = parse(text);
    t.deepEqual(r.config.vrrpScripts.map((s) => [s.name, s.script?.command]), [['chk', '/bin/true']], text);
    t.is(r.errorCount, 0, text);
  }
});

test('comments: # and ! anywhere, CRLF line ends, a quoted # is part of the word', (t) => {
  const r = parse('global_defs { ! comment\r\n  router_id "lb#1" # trailing\r\n  notification_email_from a@b.c!x\r\n}\r\n');
  t.is(r.config.globalDefs.routerId, 'lb#1');
  t.is(r.config.globalDefs.notificationEmailFrom, 'a@b.c');
  t.deepEqual(messages(r), []);
});
