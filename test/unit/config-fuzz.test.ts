// layer: tests (unit)
// job: thousands of mutations of valid configurations: never a crash or a hang; every diagnostic has a place in its file;
//      whatever model comes out dumps to text that reads back cleanly.
import test from 'ava';
import fs from 'node:fs';
import { dumpConfig } from '../../src/config/dump.js';
import { parseConfigText } from '../../src/config/index.js';
import { fixture } from '../helpers/config.js';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SOURCES = [
  fixture('kitchen-sink.conf'), fixture('layout', 'keepalived.conf'), fixture('layout', 'services', 'example.com.conf'),
  fixture('seed', 'one-line', 'keepalived.conf'), fixture('seed', 'multi-line', 'services', 'takataka.vn.conf'),
].map((f) => fs.readFileSync(f, 'utf8'));

const ALPHABET = ['{', '}', '"', "'", '#', '!', '$', '@', '@^', '\\', '\n', ' ', '\t', '\0', '\x01', 'é', '€', '\uFFFD', 'x', '9', '-', '/', ':',
  '${', '$X=', '$X=$X $X\n$X', 'include ', 'include *\n', 'include x.conf\n', '~SEQ(a,1,2) ', '\\\n', '{{{{', '}}}}', '0', '300', '-1', '0.5', '1e9'];

type Mutation = (text: string, r: () => number) => string;

const pick = <T>(list: readonly T[], r: () => number): T => list[Math.floor(r() * list.length)] as T;
const at = (text: string, r: () => number): number => Math.floor(r() * (text.length + 1));

const MUTATIONS: Mutation[] = [
  (s, r) => { const i = at(s, r); return s.slice(0, i) + s.slice(i + 1 + Math.floor(r() * 8)); },
  (s, r) => { const i = at(s, r); return s.slice(0, i) + pick(ALPHABET, r) + s.slice(i); },
  (s, r) => { const lines = s.split('\n'); const i = Math.floor(r() * lines.length); lines.splice(i, 0, lines[Math.floor(r() * lines.length)] ?? ''); return lines.join('\n'); },
  (s, r) => { const lines = s.split('\n'); lines.splice(Math.floor(r() * lines.length), 1 + Math.floor(r() * 3)); return lines.join('\n'); },
  (s, r) => s.slice(0, at(s, r)),
  (s, r) => { const words = s.split(/(\s+)/); const i = Math.floor(r() * words.length); words[i] = pick(ALPHABET, r) + pick(ALPHABET, r); return words.join(''); },
  (s, r) => { const i = at(s, r); const j = at(s, r); return s.slice(0, Math.min(i, j)) + s.slice(Math.max(i, j)) + s.slice(Math.min(i, j), Math.max(i, j)); },
  (s) => s.replace(/\n\s*/g, ' '),
];

test('3,000 mutated configurations: no crash, every diagnostic located within its file, the model dumps and reads back', (t) => {
  const r = rng(0x1b2c3d4);
  let withErrors = 0;
  for (let n = 0; n < 3000; n++) {
    let text = pick(SOURCES, r);
    const rounds = 1 + Math.floor(r() * 4);
    for (let k = 0; k < rounds; k++) text = pick(MUTATIONS, r)(text, r);
    const files = { 'x.conf': 'vrrp_script inc {\n  script /bin/true\n}\n' };
    let result;
    try {
      result = parseConfigText(text, { file: 'keepalived.conf', files, configId: 'lb1', random: () => 0.25 });
    } catch (err) {
      t.fail(`mutation ${n} threw ${String(err)}:\n${JSON.stringify(text.slice(0, 2000))}`);
      return;
    }
    if (result.errorCount > 0) withErrors++;
    const lines = new Map([['keepalived.conf', text.split('\n')], ['x.conf', files['x.conf'].split('\n')]]);
    for (const d of result.diagnostics) {
      const fileLines = lines.get(d.location.file);
      const line = fileLines?.[d.location.line - 1];
      const ok = fileLines !== undefined && (d.location.line === 0
        ? d.location.column === 0
        : line !== undefined && d.location.column >= 1 && d.location.column <= line.length + 1);
      if (!ok) {
        t.fail(`mutation ${n}: ${d.message} at ${JSON.stringify(d.location)} is not a place in the file:\n${JSON.stringify(text.slice(0, 2000))}`);
        return;
      }
    }
    const dumped = dumpConfig(result.config);
    const again = parseConfigText(dumped, { validate: false });
    if (again.errorCount > 0) {
      t.fail(`mutation ${n}: the dump does not read back: ${JSON.stringify(again.diagnostics.filter((d) => d.severity === "error"))}\n${dumped.slice(0, 3000)}`);
      return;
    }
  }
  t.log(`${withErrors} of 3000 mutations had errors`);
  t.true(withErrors > 1000);
});

test('deleting any one structural brace of the layout is always reported as an error', (t) => {
  const text = fs.readFileSync(fixture('layout', 'keepalived.conf'), 'utf8').replace(/^include.*$/m, '');
  const braces = [...text.matchAll(/[{}]/g)].map((m) => m.index as number);
  t.true(braces.length > 20);
  for (const i of braces) {
    const result = parseConfigText(text.slice(0, i) + text.slice(i + 1), { configId: 'lb1' });
    t.true(result.diagnostics.some((d) => d.severity === 'error' && d.location.line > 0), `deleting the brace at offset ${i} went unreported`);
  }
});
