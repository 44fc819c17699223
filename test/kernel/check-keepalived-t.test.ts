// layer: tests (kernel tier)
// job: `lvskit check` and `keepalived -t` (2.2.7) agree on the values keepalived -t refuses and on those next to them, run side by side on the same files in a namespace that has eth0.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { lvskit } from '../helpers/cli.js';
import { ACCEPTED_BY_KEEPALIVED_T, REFUSED_BY_KEEPALIVED_T, keepalivedTConfig } from '../helpers/keepalived-t-cases.js';
import { createNetns, createVethPair } from '../helpers/netns.js';

/** keepalived -t's exit status on `file` inside `netns` (0: accepted). */
async function keepalivedT(netns: string, file: string): Promise<{ code: number; output: string }> {
  try {
    await promisify(execFile)('ip', ['netns', 'exec', netns, 'keepalived', '-t', '-f', file]);
    return { code: 0, output: '' };
  } catch (error) {
    const e = error as { code?: number; stderr?: string; stdout?: string };
    return { code: e.code ?? 1, output: `${e.stderr ?? ''}${e.stdout ?? ''}` };
  }
}

test('what keepalived -t refuses, lvskit check refuses (exit status 1, the line named); what it accepts next to those, both accept', async (t) => {
  t.timeout(120_000);
  const a = await createNetns(t);
  const b = await createNetns(t);
  await createVethPair(a, b, { deviceA: 'eth0', deviceB: 'eth0' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-kt-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = async (at: string, line: string): Promise<{ keepalived: number; lvskit: { code: number; stderr: string }; output: string }> => {
    const file = path.join(dir, `${at}-${line.replace(/\W+/g, '_')}.conf`);
    fs.writeFileSync(file, keepalivedTConfig({ [at]: line }));
    const [k, l] = await Promise.all([keepalivedT(a.name, file), lvskit('check', file)]);
    return { keepalived: k.code, lvskit: l, output: k.output };
  };
  for (const c of ACCEPTED_BY_KEEPALIVED_T) {
    const r = await run(c.at, c.line);
    t.is(r.keepalived, 0, `keepalived -t refuses ${c.line}: ${r.output}`);
    t.is(r.lvskit.code, 0, `lvskit check refuses ${c.line}: ${r.lvskit.stderr}`);
  }
  for (const c of REFUSED_BY_KEEPALIVED_T) {
    const r = await run(c.at, c.line);
    t.not(r.keepalived, 0, `keepalived -t accepts ${c.line}`);
    t.is(r.lvskit.code, 1, `lvskit check accepts ${c.line}`);
    t.regex(r.lvskit.stderr, c.lvskit);
  }
});
