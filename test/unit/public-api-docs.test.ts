// layer: tests (unit)
// job: every ```ts example in README.md and docs/*.md compiles against the package as a user's project sees it (a temp project that depends on `lvskit`).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** One fenced ```ts block: where it is and its text. */
interface Example { file: string; line: number; code: string }

function examples(): Example[] {
  const files = ['README.md', ...fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: Example[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(path.join(repo, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() !== '```ts') continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && !lines[end]!.startsWith('```')) end++;
      out.push({ file, line: start + 1, code: lines.slice(start, end).join('\n') });
      i = end;
    }
  }
  return out;
}

/** A project in a temp dir whose node_modules/lvskit is this package, one module per example. */
function userProject(list: readonly Example[]): { dir: string; names: Map<string, Example> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-docs-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(repo, path.join(dir, 'node_modules', 'lvskit'));
  fs.symlinkSync(path.join(repo, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipLibCheck: true },
    include: ['*.ts'],
  }));
  const names = new Map<string, Example>();
  list.forEach((ex, i) => {
    const name = `example-${i}.ts`;
    names.set(name, ex);
    // Each example is its own module (export {}), as a user's file would be.
    fs.writeFileSync(path.join(dir, name), `${ex.code}\nexport {};\n`);
  });
  return { dir, names };
}

test('README and docs: every TypeScript example compiles against `lvskit`', (t) => {
  const list = examples();
  t.true(list.length >= 10, `found only ${list.length} examples`);
  for (const ex of list) t.notRegex(ex.code, /from '\.|dist\/src/, `${ex.file}:${ex.line} imports an internal path`);
  const { dir, names } = userProject(list);
  try {
    execFileSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
    t.pass();
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? err);
    // Name each error by the doc it came from: example-N.ts(L,C) → docs/x.md:(line of block + L - 1).
    const located = out.replace(/[^\s]*(example-\d+\.ts)\((\d+),(\d+)\)/g, (_m, name: string, l: string, c: string) => {
      const ex = names.get(name)!;
      return `${ex.file}:${ex.line + Number(l) - 1}:${c}`;
    });
    t.fail(located);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
