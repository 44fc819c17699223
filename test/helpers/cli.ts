// layer: test helpers
// job: run the built `lvskit` command line as an operator would: its stdout, stderr and exit status.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** dist/src/cli/main.js (this file runs from dist/test/helpers). */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

const run = promisify(execFile);

/** `lvskit ARGS` in a new node process; never rejects: a failure is a non-zero `code`. */
export async function lvskit(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
  }
}
