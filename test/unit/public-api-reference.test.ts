// layer: tests (unit)
// job: every public symbol (the top level and each subpath in package.json's exports) has a doc comment, and docs/api is what `npm run docs` makes from the sources now.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicSymbols } from '../helpers/api-surface.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { exports: Record<string, string | { types?: string }> };

/** Each public entry's declaration file: `lvskit` → dist/src/index.d.ts, `lvskit/ipvs` → dist/src/ipvs/index.d.ts, ... */
function entries(): { name: string; dts: string }[] {
  return Object.entries(pkg.exports).flatMap(([key, target]) => {
    if (typeof target === 'string' || !target.types) return [];
    return [{ name: key === '.' ? 'lvskit' : `lvskit/${key.slice(2)}`, dts: path.join(repo, target.types) }];
  });
}

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  }).sort();
}

test('every public symbol of lvskit and its subpaths has a doc comment', (t) => {
  const list = entries();
  t.true(list.length >= 10, `only ${list.length} entries in package.json exports`);
  const missing: string[] = [];
  for (const { name, dts } of list) {
    t.true(fs.existsSync(dts), `${name}: ${dts} does not exist (build first)`);
    for (const s of publicSymbols(dts)) if (!s.documented) missing.push(`${name}: ${s.name}`);
  }
  t.deepEqual(missing, [], `public symbols without a doc comment:\n${missing.join('\n')}`);
});

test('docs/api is what `npm run docs` makes from the sources (run it and commit the result)', (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-api-'));
  try {
    execFileSync(process.execPath, [path.join(repo, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--treatWarningsAsErrors'],
      { cwd: repo, encoding: 'utf8', stdio: 'pipe' });
    const checkedIn = path.join(repo, 'docs', 'api');
    const want = listFiles(out);
    t.deepEqual(listFiles(checkedIn), want, 'docs/api has other files than typedoc makes');
    const stale = want.filter((f) => fs.existsSync(path.join(checkedIn, f))
      && fs.readFileSync(path.join(checkedIn, f), 'utf8') !== fs.readFileSync(path.join(out, f), 'utf8'));
    t.deepEqual(stale, [], `docs/api is stale in: ${stale.join(', ')}`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
