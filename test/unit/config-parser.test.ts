// layer: tests (unit)
// job: blocks and braces: unbalanced, unexpected and too deep braces are errors with their place; never a crash.
import test from 'ava';
import { messages, parse } from '../helpers/config.js';

test('a block never closed is an error at its {, naming the keyword', (t) => {
  const r = parse('global_defs {\n  router_id a\n}\nvrrp_instance VI_1 {\n  state BACKUP\n');
  t.deepEqual(messages(r).filter((m) => m.includes('error')), [
    "keepalived.conf:4:20: error: the `vrrp_instance` block opened here is not closed ('}' missing before the end of the configuration)\n" +
    'keepalived.conf:4:1: note: the block belongs to `vrrp_instance` at keepalived.conf:4:1',
    'keepalived.conf:4:1: error: vrrp_instance VI_1 has no virtual_router_id (1..255): it must be set',
    'keepalived.conf:4:1: error: vrrp_instance VI_1 has no interface (only unicast instances may omit it)',
  ]);
});

test('a } with no open block is an error and is skipped', (t) => {
  const r = parse('global_defs {\n  router_id a\n}\n}\nvrrp_script s {\n  script /bin/true\n}\n');
  t.deepEqual(messages(r), ["keepalived.conf:4:1: error: '}' with no block open; ignored"]);
  t.is(r.config.vrrpScripts.length, 1);
});

test('a { with no keyword before it, and a second block for one keyword, are errors; their contents are dropped', (t) => {
  const r = parse('{\n  router_id x\n}\nglobal_defs {\n  router_id a\n} {\n  router_id b\n}\n');
  t.deepEqual(messages(r), [
    "keepalived.conf:1:1: error: '{' without a keyword before it; its contents are ignored",
    "keepalived.conf:6:3: error: a second '{' block after `global_defs`; its contents are ignored",
  ]);
  t.is(r.config.globalDefs.routerId, 'a');
});

test('blocks nested deeper than the limit are an error at the first too-deep {; 100,000 levels do not overflow the stack', (t) => {
  const deep = 'global_defs ' + 'x {'.repeat(100_000) + '}'.repeat(100_000);
  const r = parse(deep);
  const limit = r.diagnostics.filter((d) => d.code === 'limit');
  t.is(limit.length, 1);
  t.deepEqual(messages(limit), ['keepalived.conf:1:111: error: blocks nested deeper than 32 levels; this block is ignored']);
  t.is(r.diagnostics.filter((d) => d.code === 'unbalanced-brace').length, 0);
  const r2 = parse(deep, { limits: { maxBlockDepth: 4 } });
  t.deepEqual(messages(r2.diagnostics.filter((d) => d.code === 'limit')), ['keepalived.conf:1:27: error: blocks nested deeper than 4 levels; this block is ignored']);
});

test('a keyword that takes a block without one, and a block after a keyword that takes none, are errors', (t) => {
  const r = parse('vrrp_instance VI_1\nvrrp_script s {\n  script /bin/true {\n  }\n}\n');
  t.deepEqual(messages(r.diagnostics.filter((d) => d.code === 'missing-block' || d.code === 'unexpected-block')), [
    'keepalived.conf:1:1: error: `vrrp_instance` needs a { } block',
    'keepalived.conf:3:20: error: `script` takes no { } block; the block is ignored',
  ]);
  t.is(r.config.vrrpScripts[0]?.script?.command, '/bin/true');
});
