// layer: tests (unit)
// job: `lvskit check` refuses what `keepalived -t` refuses (the cases of test/helpers/keepalived-t-cases.ts; the kernel tier checks them against keepalived itself).
import test from 'ava';
import { parseConfigText } from '../../src/config/index.js';
import { ACCEPTED_BY_KEEPALIVED_T, REFUSED_BY_KEEPALIVED_T, keepalivedTConfig } from '../helpers/keepalived-t-cases.js';

for (const c of REFUSED_BY_KEEPALIVED_T) {
  test(`refused as by keepalived -t: ${c.at} ${c.line}`, (t) => {
    const r = parseConfigText(keepalivedTConfig({ [c.at]: c.line }));
    const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    t.false(r.ok);
    t.is(errors.length, 1, errors.join('\n'));
    t.regex(errors[0] ?? '', c.lvskit);
  });
}

test('the values next to them are accepted, as by keepalived -t', (t) => {
  for (const c of ACCEPTED_BY_KEEPALIVED_T) {
    const r = parseConfigText(keepalivedTConfig({ [c.at]: c.line }));
    t.true(r.ok, `${c.at} ${c.line}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  }
});
