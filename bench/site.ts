// layer: benchmarks
// job: the operator's site end to end, with keepalived and with lvskit as both balancers: failed requests, requests and outage per phase, side by side.
//
//   npm run bench:site [-- --update-docs]   (= npx tsc && node dist/bench/site.js; the table into docs/benchmarks.md)
//   node dist/bench/site.js --only keepalived
//
// Needs IPVS: on a kernel without it the script runs itself as the workload of the IPVS test
// kernel (user-mode Linux, test/uml/boot.mjs), in one boot. The scenario is the one of
// test/ipvs/site.test.ts (test/helpers/site-scenario.ts): each implementation runs as
// both balancers in a lab of its own, and the lab is removed before the next one starts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Implementation } from '../test/helpers/site-driver.js';
import { keepalivedImplementation } from '../test/helpers/site-keepalived.js';
import { lvskitImplementation } from '../test/helpers/site-lvskit.js';
import { Cleanup } from '../test/helpers/site-procs.js';
import { checksReport, failuresTable } from '../test/helpers/site-report.js';
import { runSiteScenario, TRAFFIC, type SiteResults } from '../test/helpers/site-scenario.js';
import { repo, updateDocs } from './report.js';

const IMPLEMENTATIONS: readonly Implementation[] = [keepalivedImplementation, lvskitImplementation];

async function runOne(implementation: Implementation): Promise<SiteResults | undefined> {
  const cleanup = new Cleanup();
  try {
    return await runSiteScenario(implementation.create, { cleanup, log: (line) => console.log(`# ${line}`) });
  } catch (error) {
    console.log(`# ${implementation.id}: the scenario stopped: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  } finally {
    for (const failure of await cleanup.run()) console.log(`# ${failure}`);
  }
}

async function main(): Promise<void> {
  const args = process.env['LVSKIT_TIER_ARGS'] ? JSON.parse(process.env['LVSKIT_TIER_ARGS']) as string[] : process.argv.slice(2);
  if (!fs.existsSync('/proc/net/ip_vs')) {
    const boot = await import(pathToFileURL(path.join(repo, 'test', 'uml', 'boot.mjs')).href) as {
      runInUml(o: { repo: string; script: string; args: string[]; timeoutMs?: number; onOutput: (s: string) => void }): Promise<{ status?: number; console: string }>;
    };
    const guest = await boot.runInUml({ repo, script: path.relative(repo, fileURLToPath(import.meta.url)), args, timeoutMs: 40 * 60_000, onOutput: (s) => process.stdout.write(s) });
    if (guest.status !== 0) console.error(guest.console.split('\n').slice(-30).join('\n'));
    process.exitCode = guest.status ?? 1;
    return;
  }
  const at = args.indexOf('--only');
  const only = at >= 0 ? (args[at + 1] ?? '').split(',') : undefined;
  const runs: SiteResults[] = [];
  const skipped: string[] = [];
  for (const implementation of IMPLEMENTATIONS.filter((i) => !only || only.includes(i.id))) {
    const why = await implementation.unavailable();
    if (why) {
      skipped.push(`${implementation.id}: ${why}`);
      continue;
    }
    const result = await runOne(implementation);
    if (result) runs.push(result);
    else skipped.push(`${implementation.id}: the scenario stopped (see above)`);
  }
  const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const kernel = process.env['LVSKIT_UML_OUT'] ? `user-mode Linux ${release}` : `Linux ${release}`;
  const table = failuresTable(runs);
  const footer = `One run each, measured ${new Date().toISOString().slice(0, 10)} in ${kernel} (${os.cpus().length} CPU), Node ${process.version}; `
    + `the client sends a request on a new connection every ${TRAFFIC.intervalMs} ms (each given ${TRAFFIC.timeoutMs} ms); a phase's window runs from its start to the next one's; `
    + 'outage = the longest time new requests kept failing; command: `npm run bench:site -- --update-docs`.';
  console.log(`\n${table}\n`);
  for (const s of skipped) console.log(`not run: ${s}`);
  console.log(`\n${footer}\n`);
  if (args.includes('--update-docs') && skipped.length === 0) updateDocs('site', `${table}\n\n${footer}`);
  for (const run of runs) console.log(`${checksReport(run)}\n`);
  if (runs.length === 0) process.exitCode = 1;
}

await main();
