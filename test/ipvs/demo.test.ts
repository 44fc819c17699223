// layer: tests (IPVS tier)
// job: `lvskit demo --no-interactive` as a user runs it: every phase in its summary, the steady phase without a failed request, exit status 0, and nothing of it left behind (namespaces, processes, files).
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PREFIX } from '../../src/demo/lab.js';
import { DEMO_PHASES } from '../../src/demo/phases.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** Processes whose command line names the demo (its daemons, servers and client run from its directory and namespaces). */
function demoProcesses(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { continue; }
    if (cmdline.includes(DEMO_PREFIX) || /main\.js run .*lvskit-demo/.test(cmdline)) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

test('lvskit demo --no-interactive: every phase listed, the steady phase loses nothing, exit 0, nothing left behind', async (t) => {
  t.timeout(15 * 60_000);
  const workDir = fs.mkdtempSync('/var/tmp/lvskit-demo-test-');
  t.teardown(() => fs.rmSync(workDir, { recursive: true, force: true }));
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, [CLI, 'demo', '--no-interactive', '--work-dir', workDir], { maxBuffer: 16 << 20, timeout: 14 * 60_000 },
      (_error, out, err) => resolve({ code: child.exitCode, stdout: `${out}${err}` }));
  });
  t.log(stdout.split('\n').slice(-20).join('\n'));
  const rows = new Map<string, { requests: number; failed: number; verdict: string }>();
  for (const m of stdout.matchAll(/^\d+\. ([a-z-]+): .*?\s+(\d+)\s+(\d+)\s+(ok|NOT OK)/gm)) rows.set(m[1]!, { requests: Number(m[2]), failed: Number(m[3]), verdict: m[4]! });
  t.deepEqual([...rows.keys()], DEMO_PHASES.map((p) => p.id), 'the summary lists every phase, in order');
  t.true((rows.get('steady')?.requests ?? 0) > 0, 'steady traffic flowed');
  t.is(rows.get('steady')?.failed, 0, 'no failed request in the steady phase');
  t.regex(stdout, /^result: every phase behaved$/m);
  t.is(code, 0);
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(DEMO_PREFIX));
  t.deepEqual(namespaces, [], 'no demo namespace left');
  t.deepEqual(demoProcesses(), [], 'no demo process left');
  t.deepEqual(fs.readdirSync(workDir), [], 'no demo file left');
});
