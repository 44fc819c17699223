// layer: tests (unit)
// job: docs/architecture.md against the tree: a row for every folder of src/, every file of native/ named, nothing named that does not exist.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DOC = fs.readFileSync(path.join(REPO, 'docs', 'architecture.md'), 'utf8');
/** Folders a name in the doc may start from (otherwise it is relative to its row's folder). */
const TOP = ['src/', 'native/', 'test/', 'docs/', 'bench/', 'examples/', 'systemd/'];
/** A backticked name of a code file: `engine.ts`, `convert/*.ts`, `socket.{cc,h}`, `native/conn_*.cc`. */
const CODE_FILE = /^[\w./*-]+\.(?:ts|mjs|cc|h|c|\{[\w,]+\})$/;

/** The table's rows by their folder (first cell), with their text. */
function rows(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const folder = /^\| `([^`]+)`/.exec(line)?.[1];
    if (folder) out.set(folder, line);
  }
  return out;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);
}

/** `a.{cc,h}` → `a.cc`, `a.h`; anything else as it is. */
function expand(name: string): string[] {
  const m = /^(.*)\{([\w,]+)\}$/.exec(name);
  return m ? (m[2] as string).split(',').map((ext) => `${m[1]}${ext}`) : [name];
}

/** The backticked code-file names of a row, expanded, each relative to the repository. */
function namedFiles(folder: string, text: string): string[] {
  const names = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string).filter((n) => CODE_FILE.test(n));
  return names.flatMap(expand).map((n) => (TOP.some((t) => n.startsWith(t)) ? n : path.posix.join(folder, n)));
}

/** Whether `name` (relative to the repository, `*` matching within one path segment) is an existing file. */
function exists(name: string): boolean {
  if (!name.includes('*')) return fs.existsSync(path.join(REPO, name)) && fs.statSync(path.join(REPO, name)).isFile();
  const dir = path.posix.dirname(name);
  const pattern = new RegExp(`^${path.posix.basename(name).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return fs.existsSync(path.join(REPO, dir)) && fs.readdirSync(path.join(REPO, dir)).some((f) => pattern.test(f));
}

test('every folder of src/ has its row', (t) => {
  const table = rows(DOC);
  const folders = fs.readdirSync(path.join(REPO, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}/`);
  t.true(folders.length > 10);
  t.deepEqual(folders.filter((f) => !table.has(f)), [], 'src/ folders without a row in docs/architecture.md');
});

test('every file of native/ is named in its row', (t) => {
  const row = rows(DOC).get('native/') ?? '';
  const named = new Set(namedFiles('native/', row));
  const files = filesUnder(path.join(REPO, 'native')).map((f) => `native/${f}`);
  t.true(files.length > 10);
  t.deepEqual(files.filter((f) => !named.has(f)), [], 'native/ files not named in docs/architecture.md');
});

test('every folder and code file the table names exists', (t) => {
  const table = rows(DOC);
  t.true(table.size > 10);
  const missing: string[] = [];
  for (const [folder, text] of table) {
    if (!fs.existsSync(path.join(REPO, folder)) || !fs.statSync(path.join(REPO, folder)).isDirectory()) missing.push(folder);
    for (const name of namedFiles(folder, text)) if (!exists(name)) missing.push(`${name} (row ${folder})`);
  }
  t.deepEqual(missing, [], 'named in docs/architecture.md but not in the tree');
});

test('no file in src/ is over 500 lines (the house limit; split a file that grows past it)', (t) => {
  const files = filesUnder(path.join(REPO, 'src')).filter((f) => f.endsWith('.ts'));
  t.true(files.length > 100);
  const long = files
    .map((f) => ({ f, lines: fs.readFileSync(path.join(REPO, 'src', f), 'utf8').split('\n').length - 1 }))
    .filter((x) => x.lines > 500)
    .map((x) => `src/${x.f}: ${x.lines} lines`);
  t.deepEqual(long, []);
});
