// layer: tests (unit)
// job: FILE_CHECK: keepalived's rule (weight 0 is DOWN on a non-zero value, otherwise the value × weight moves the real server's weight), the probe reading a real file, the config read, checked at file:line:col and converted, the plan line.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileCheckResult, fileProbe } from '../../src/check/file.js';
import { validateVirtualServer } from '../../src/check/validate.js';
import type { FileCheckConfig } from '../../src/check/types.js';
import { convertHealthChecks } from '../../src/daemon/convert.js';
import { dumpConfig } from '../../src/config/dump.js';
import { messages, parse } from '../helpers/config.js';

const BASE: FileCheckConfig = { kind: 'FILE_CHECK', path: '/run/f', weight: 1, reverse: false, realServerWeight: 10, delayLoopMs: 1000, retry: 0, delayBeforeRetryMs: 0, warmupMs: 0 };

test('the rule: weight 0 is DOWN while the value is non-zero (reversed: zero); a weight moves the real server\'s weight by value × weight, kept at 0 or more', (t) => {
  t.like(fileCheckResult({ ...BASE, weight: 0 }, 0), { ok: true, value: 0 });
  t.like(fileCheckResult({ ...BASE, weight: 0 }, 3), { ok: false, reason: 'file-value', message: '/run/f holds 3', value: 3 });
  t.like(fileCheckResult({ ...BASE, weight: 0, reverse: true }, 0), { ok: false, reason: 'file-value' });
  t.like(fileCheckResult({ ...BASE, weight: 0, reverse: true }, 7), { ok: true });
  t.deepEqual(fileCheckResult({ ...BASE, weight: 5 }, 2), { ok: true, value: 2, weight: 20 });
  t.deepEqual(fileCheckResult({ ...BASE, weight: 5, reverse: true }, 1), { ok: true, value: 1, weight: 5 });
  t.deepEqual(fileCheckResult({ ...BASE, weight: 5 }, -3), { ok: true, value: -3, weight: 0 }, 'never below 0');
  t.deepEqual(fileCheckResult({ ...BASE, weight: 2 ** 31 - 1 }, 4), { ok: true, value: 4, weight: 2 ** 31 - 1 }, 'never above INT32_MAX');
});

test('the probe reads the file as keepalived does: its number (hex, octal), 0 when missing, the last value when out of range', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-filecheck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'v');
  const probe = fileProbe({ ...BASE, path: file, weight: 2 });
  t.like(await probe(), { ok: true, value: 0, weight: 10 }, 'missing: 0');
  writeFileSync(file, '0x10\n');
  t.like(await probe(), { ok: true, value: 16, weight: 42 });
  writeFileSync(file, '99999999999\n');
  t.like(await probe(), { value: 16 }, 'out of range: the last value kept');
  writeFileSync(file, '-5 junk');
  t.like(await probe(), { ok: true, value: -5, weight: 0 });
});

test('config: FILE_CHECK names a track_file (its weight the default); errors at their place; converted with no retry or warmup; the dump reads back', (t) => {
  const text = [
    'track_file maint {', '  file /run/maint', '  weight 0', '}',
    'track_file load {', '  file /run/load', '  weight 5 reverse', '}',
    'virtual_server 10.0.0.1 80 {', '  delay_loop 2', '  lb_algo rr', '  lb_kind DR', '  protocol TCP',
    '  real_server 10.0.1.1 80 {', '    weight 10', '    FILE_CHECK {', '      track_file maint', '    }', '  }',
    '  real_server 10.0.1.2 80 {', '    weight 3', '    FILE_CHECK {', '      track_file load', '      weight 2', '    }', '  }',
    '}', '',
  ].join('\n');
  const r = parse(text);
  t.deepEqual(messages(r), []);
  const c = convertHealthChecks(r.config);
  t.deepEqual(messages(c.diagnostics), []);
  const [rs1, rs2] = c.virtualServers[0]!.realServers;
  t.deepEqual(rs1?.checkers, [{ kind: 'FILE_CHECK', retry: 0, warmupMs: 0, path: '/run/maint', weight: 0, reverse: false, realServerWeight: 10, trackFile: 'maint' }]);
  t.deepEqual(rs2?.checkers, [{ kind: 'FILE_CHECK', retry: 0, warmupMs: 0, path: '/run/load', weight: 2, reverse: false, realServerWeight: 3, trackFile: 'load' }], 'FILE_CHECK\'s weight replaces the track_file\'s, and its reverse');
  t.like(validateVirtualServer(c.virtualServers[0]!).realServers[0]!.checkers[0]!.config, { kind: 'FILE_CHECK', delayLoopMs: 2000 });
  t.deepEqual(messages(parse(dumpConfig(r.config)).diagnostics), []);
  const checkers = (cfg: typeof r.config) => cfg.virtualServers[0]!.realServers.map((x) => x.checkers.map(({ location: _l, ...k }) => k));
  t.deepEqual(checkers(parse(dumpConfig(r.config)).config), checkers(r.config), 'the dump reads back to the same checkers');

  const bad = parse([
    'virtual_server 10.0.0.1 80 {', '  protocol TCP', '  real_server 10.0.1.1 80 {',
    '    FILE_CHECK {', '      weight 1', '    }',
    '    FILE_CHECK {', '      track_file nope', '      weight 3 sideways', '      delay_loop 3', '    }',
    '  }', '}', '',
  ].join('\n'));
  t.deepEqual(messages(bad), [
    'keepalived.conf:9:16: error: `weight` expects reverse|noreverse, not `sideways`',
    'keepalived.conf:10:7: warning: unknown keyword `delay_loop` in FILE_CHECK; ignored',
    'keepalived.conf:4:5: error: FILE_CHECK of real_server 10.0.1.1 has no track_file',
    'keepalived.conf:7:5: error: FILE_CHECK of real_server 10.0.1.1 names track_file `nope`, which is not defined',
  ]);
});
