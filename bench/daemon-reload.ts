// layer: benchmarks
// job: SIGHUP reload of a 1,000 × 10 keepalived.conf that changes one real server's weight: time from the signal to the kernel holding the new weight, and what each daemon did to the table, lvskit vs keepalived in one run.
//
//   npm run bench:daemon-reload                  (boots user-mode Linux when this kernel has no IPVS)
//   npm run bench:daemon-reload -- --update-docs (writes the section into docs/benchmarks.md)
//
// In the lab of daemon-lab.ts, each daemon in turn (keepalived, then lvskit) runs the same file
// in its own balancer namespace with every TCP_CHECK passing. Once its table is complete and has
// stayed so over a check round, each round rewrites the file with the edited real server's weight
// flipped (10 → 11, 11 → 10, …), sends SIGHUP, and polls that service's real servers (IpvsClient,
// one dump of 10 every POLL_MS) until the new weight shows. An nlmon device in the namespace
// captures its IPVS requests with their kernel timestamps: the time the edit went in, and a count
// of the reload's table writes by another witness than the daemon (a request is missed now and
// then: the count is what it saw); full dumps before and after show which real servers changed.
import os from 'node:os';
import { IpvsClient } from '../src/ipvs/client.js';
import type { ServiceState } from '../src/ipvs/model.js';
import { Cleanup, monoMs, sh, sleep } from '../test/helpers/site-procs.js';
import {
  changedDestinations, configText, numberOption, reloadedLine, configWithEditedWeight, DaemonLab, DELAY_LOOP_S, EDITED, realServerAddress, serviceAddress,
  startDaemon, waitStable, WEIGHT, type Daemon, type Impl, type LabBalancer,
} from './daemon-lab.js';
import { countByCommand, IpvsTap } from './ipvs-tap.js';
import { cpuMs, cpuSplitMs, uniqueResidentKb } from './proc-stats.js';
import { median, updateDocs } from './report.js';
import { benchArgs, kernelName, ranInUml } from './uml.js';
import fs from 'node:fs';

const ROUNDS = numberOption('rounds', 6);
/** Poll period: short against a reload (seconds here), long enough that polling takes little of the guest's one CPU. */
const POLL_MS = 25;
/** A reload is over when no IPVS write has been seen for this long (and, for lvskit, it logged `reloaded`). */
const QUIET_MS = 3000;

export interface Round {
  impl: Impl;
  weight: number;
  /** SIGHUP → the kernel received the request that set the new weight (nlmon timestamp; the kernel holds it microseconds later). */
  tappedMs?: number;
  /** SIGHUP → the first poll that saw the new weight returned (an upper bound), and that poll's resolution. */
  polledMs: number;
  resolutionMs: number;
  /** SIGHUP → the daemon said its reload was done (lvskit `reloaded`, keepalived `Reload complete`). */
  finishedMs?: number;
  /** SIGHUP → the last IPVS write of the reload (nlmon). */
  lastWriteMs?: number;
  /** The reload's IPVS writes by command (nlmon). */
  writes: Record<string, number>;
  /** Real servers whose weight differs between the full dumps before and after (or that are in one only). */
  changed: string[];
  /** CPU time of each of the daemon's processes from SIGHUP to the end of the reload: in user space, in the kernel. */
  cpuMs: { user: number; system: number }[];
  /** lvskit's own account: `ipvs.length + checkOps` of the `reloaded` line, and its durationMs. */
  said?: { ops: number; durationMs: number; phasesMs?: Record<string, number> };
  /** keepalived's lines about the reload, with their time after SIGHUP. */
  lines: string[];
  /** The daemon's resident memory after the round (its processes' pages counted once). */
  memoryKb: number;
  /** Connections the listener accepted per second from SIGHUP until the reload was done: the health checks kept running, or not. */
  checksPerSec: number;
  load: number[];
}

const destination = `${realServerAddress(EDITED.service, EDITED.realServer)}:80`;
const serviceKey = { protocol: 'tcp' as const, address: serviceAddress(EDITED.service), port: 80 };

async function pollWeight(ipvs: IpvsClient, target: number, since: number, timeoutMs = 300_000): Promise<{ atMs: number; resolutionMs: number }> {
  let previousStart = since;
  for (;;) {
    const start = monoMs();
    const dests = await ipvs.listDestinations(serviceKey, { stats: false });
    const end = monoMs();
    if (dests.find((d) => `${d.address}:${d.port}` === destination)?.weight === target) return { atMs: end, resolutionMs: end - previousStart };
    if (end - since > timeoutMs) throw new Error(`the weight did not become ${target} in ${timeoutMs} ms`);
    previousStart = start;
    await sleep(POLL_MS);
  }
}

/** Waits until the reload is over: the daemon said so, and no IPVS write for QUIET_MS. */
async function reloadOver(d: Daemon, tap: IpvsTap, sighupMs: number): Promise<{ finishedMs?: number; said?: Round['said'] }> {
  const line = await d.proc.waitFor(reloadedLine(d.impl), 300_000, sighupMs).catch(() => undefined);
  let said: Round['said'];
  if (line && d.impl === 'lvskit') {
    const j = JSON.parse(line.text) as { result: { ipvs: number; checkOps: number; durationMs: number; phasesMs?: Record<string, number> } };
    said = { ops: j.result.ipvs + j.result.checkOps, durationMs: j.result.durationMs, ...(j.result.phasesMs ? { phasesMs: j.result.phasesMs } : {}) };
  }
  for (;;) {
    const last = tap.writes(sighupMs).at(-1)?.atMs ?? sighupMs;
    if (monoMs() - last >= QUIET_MS) break;
    await sleep(250);
  }
  return { ...(line ? { finishedMs: line.atMs - sighupMs } : {}), ...(said ? { said } : {}) };
}

async function round(lab: DaemonLab, d: Daemon, b: LabBalancer, ipvs: IpvsClient, tap: IpvsTap, weight: number): Promise<Round> {
  fs.writeFileSync(b.conf, configWithEditedWeight(weight));
  const before: ServiceState[] = await ipvs.dumpTable({ stats: false });
  tap.drops();
  const lines0 = d.proc.lines.length;
  const pids = d.pids();
  const cpu0 = pids.map(cpuSplitMs);
  const sighupMs = monoMs();
  process.kill(d.mainPid, 'SIGHUP');
  const polled = await pollWeight(ipvs, weight, sighupMs);
  const over = await reloadOver(d, tap, sighupMs);
  const doneMs = sighupMs + (over.finishedMs ?? polled.atMs - sighupMs);
  const checksPerSec = lab.acceptRateBetween(sighupMs, doneMs);
  const cpu = pids.map((p, i) => { const c = cpuSplitMs(p); return { user: c.user - cpu0[i]!.user, system: c.system - cpu0[i]!.system }; });
  const writes = tap.writes(sighupMs);
  const edit = writes.find((w) => w.destination === destination && w.weight === weight);
  if (!edit) {
    const seen = tap.requests.filter((r) => r.destination === destination).slice(-3);
    console.log(`# the capture has no edit of ${destination} after the SIGHUP; its last requests for it: ${JSON.stringify(seen.map((r) => ({ ...r, atMs: r.atMs - sighupMs })))}`);
  }
  const after = await ipvs.dumpTable({ stats: false });
  if (tap.drops() > 0) throw new Error('the nlmon capture dropped frames: the counts would be short');
  const lines = d.proc.lines.slice(lines0).filter((l) => /reload/i.test(l.text) && !l.text.startsWith('{'))
    .map((l) => `+${((l.atMs - sighupMs) / 1000).toFixed(2)} s ${l.text.replace(/^\w{3} \w{3} +\d+ [\d:]+ \d{4}: /, '')}`);
  return {
    impl: d.impl, weight, ...(edit ? { tappedMs: edit.atMs - sighupMs } : {}), polledMs: polled.atMs - sighupMs, resolutionMs: polled.resolutionMs,
    ...over, ...(writes.length ? { lastWriteMs: writes.at(-1)!.atMs - sighupMs } : {}),
    writes: countByCommand(writes), changed: changedDestinations(before, after), cpuMs: cpu, lines, memoryKb: uniqueResidentKb(pids), checksPerSec, load: os.loadavg(),
  };
}

/** The guest's CPU: total and idle jiffies of /proc/stat. */
function cpuTimes(): { total: number; idle: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3]! + f[4]! };
}

export interface Steady {
  /** The daemon's processes' CPU over one check round, as a share of the guest's one CPU. */
  daemonCpu: number;
  /** The guest's idle share meanwhile (the listener, the benchmark and the kernel take the rest). */
  guestIdle: number;
  /** Connections the listener accepted per second (the checks, all passing). */
  acceptPerSec: number;
}

async function steady(lab: DaemonLab, d: Daemon): Promise<Steady> {
  const [c0, g0, t0] = [cpuMs(d.pids()), cpuTimes(), monoMs()];
  const acceptPerSec = await lab.acceptRate(DELAY_LOOP_S * 1000);
  const [c1, g1, t1] = [cpuMs(d.pids()), cpuTimes(), monoMs()];
  return { daemonCpu: (c1 - c0) / (t1 - t0), guestIdle: (g1.idle - g0.idle) / (g1.total - g0.total), acceptPerSec };
}

export interface ImplRun { impl: Impl; lagMs: number; processes: string[]; stableMs: number; steady: Steady; startWrites: number; memoryKb: number; rounds: Round[] }

async function runImpl(lab: DaemonLab, impl: Impl, log: (s: string) => void): Promise<ImplRun> {
  const b = lab.balancers[impl];
  fs.writeFileSync(b.conf, configText());
  const ipvs = IpvsClient.open({ netns: b.netns });
  const tap = await IpvsTap.open(b.netns, (...args) => sh(['ip', '-n', b.netns, ...args]));
  const lagMs = await tap.calibrate(b.netns);
  log(`${impl}: nlmon timestamps lag a request by ${lagMs.toFixed(2)} ms with the capture left unread for 50 ms`);
  const t0 = monoMs();
  const daemon = await startDaemon(lab.cleanup, b);
  try {
    const stableMs = await waitStable(ipvs) + (monoMs() - t0);
    const s = await steady(lab, daemon);
    const startWrites = tap.writes(t0).length;
    const processes = daemon.pids().map((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim());
    const memoryKb = uniqueResidentKb(daemon.pids());
    log(`${impl}: table complete and stable ${(stableMs / 1000).toFixed(1)} s after the start (${startWrites} IPVS writes), memory ${(memoryKb / 1024).toFixed(1)} MiB; steady: daemon CPU ${(s.daemonCpu * 100).toFixed(0)} %, `
      + `guest idle ${(s.guestIdle * 100).toFixed(0)} %, listener ${s.acceptPerSec.toFixed(0)} connections/s`);
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await round(lab, daemon, b, ipvs, tap, i % 2 === 0 ? WEIGHT + 1 : WEIGHT);
      log(`${impl} round ${i + 1}: weight → ${r.weight}: nlmon ${r.tappedMs?.toFixed(1) ?? '-'} ms, polled ${r.polledMs.toFixed(1)} ms (±${r.resolutionMs.toFixed(1)}), `
        + `finished ${r.finishedMs?.toFixed(0) ?? '-'} ms, last write ${r.lastWriteMs?.toFixed(1) ?? '-'} ms, writes ${JSON.stringify(r.writes)}, changed ${r.changed.length} [${r.changed.slice(0, 3).join('; ')}], `
        + `CPU ${r.cpuMs.map((c) => `${c.user}u/${c.system}s`).join(' + ')} ms${r.said ? `, lvskit said ${r.said.ops} op(s) in ${r.said.durationMs.toFixed(0)} ms${r.said.phasesMs ? ` (${Object.entries(r.said.phasesMs).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})` : ''}` : ''}; `
        + `memory ${(r.memoryKb / 1024).toFixed(1)} MiB; checks ${r.checksPerSec.toFixed(0)}/s; load ${r.load.map((l) => l.toFixed(2)).join(' ')}`);
      for (const l of r.lines) log(`  ${l}`);
      rounds.push(r);
      await sleep(2000);
    }
    return { impl, lagMs, processes, stableMs, steady: s, startWrites, memoryKb, rounds };
  } finally {
    await daemon.stop();
    tap.close();
    ipvs.close();
  }
}

const fmt = (ms: number | undefined): string => (ms === undefined || Number.isNaN(ms) ? '–' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

function markdown(runs: ImplRun[], lagMs: number): string {
  const by = (impl: Impl): Round[] => runs.find((r) => r.impl === impl)?.rounds ?? [];
  const row = (run: ImplRun): string => {
    const rs = run.rounds;
    const writes: Record<string, number> = {};
    for (const r of rs) for (const [c, n] of Object.entries(r.writes)) writes[c] = (writes[c] ?? 0) + n;
    const perRound = Object.entries(writes).map(([c, n]) => `${c} ${n / rs.length}`).join(', ') || 'none';
    const changed = [...new Set(rs.map((r) => r.changed.length))].join(' or ');
    const cpu = run.processes.map((name, i) => {
      const [user, system] = [median(rs.map((r) => r.cpuMs[i]?.user ?? NaN)), median(rs.map((r) => r.cpuMs[i]?.system ?? NaN))];
      return `${name} ${fmt(user + system)}`;
    }).join(' + ');
    const tapped = rs.flatMap((r) => (r.tappedMs === undefined ? [] : [r.tappedMs]));
    return `| ${run.impl} | **${fmt(median(rs.map((r) => r.polledMs)))}** | ${fmt(median(tapped))}${tapped.length < rs.length ? ` (${tapped.length} of ${rs.length} captured)` : ''} `
      + `| ${fmt(median(rs.map((r) => r.finishedMs ?? NaN)))} `
      + `| ${perRound} | ${changed} | ${cpu} | ${(run.steady.daemonCpu * 100).toFixed(0)} % | ${median(rs.map((r) => r.checksPerSec)).toFixed(0)}/s (${run.steady.acceptPerSec.toFixed(0)}/s) |`;
  };
  const [k, l] = [by('keepalived'), by('lvskit')];
  const ratio = median(k.map((r) => r.polledMs)) / median(l.map((r) => r.polledMs));
  const pairRatio = median(k.map((r, i) => r.polledMs / (l[i]?.polledMs ?? NaN)));
  const loads = runs.flatMap((r) => r.rounds.map((x) => x.load[0]!));
  return [
    '| daemon | SIGHUP → a poll sees the new weight | SIGHUP → the request setting it reaches the kernel (nlmon) | SIGHUP → reload done (its log) | IPVS writes per reload (nlmon) | real servers changed (full dumps) | CPU per reload | CPU between reloads (checks) | checks during a reload (between reloads) |',
    '| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |',
    ...runs.map(row), '',
    `**keepalived ÷ lvskit: ${ratio.toFixed(1)}×** (medians; median of per-round ratios ${pairRatio.toFixed(1)}×; goal ≥ 10×). `
    + `lvskit's own account of each reload (\`ipvs.length + checkOps\` of its \`reloaded\` line): ${l.map((r) => r.said?.ops ?? '?').join(', ')} operation(s).`,
    `Resident memory (each page once) before the first reload → after the last: ${runs.map((r) => `${r.impl} ${(r.memoryKb / 1024).toFixed(1)} → ${((r.rounds.at(-1)?.memoryKb ?? NaN) / 1024).toFixed(1)} MiB`).join(', ')}.`,
    '',
    `${ROUNDS} rounds per daemon (weight 10 → 11 → 10 …), medians. Polls every ${POLL_MS} ms (one dump of the service's 10 real servers in the namespace; `
    + `a figure is when the first poll that saw the new weight returned, median resolution ${fmt(median(runs.flatMap((r) => r.rounds.map((x) => x.resolutionMs))))}). `
    + `The nlmon column is the kernel's timestamp of the IPVS request that sets the new weight (it lags a request by ${lagMs.toFixed(2)} ms `
    + 'in a check where the capture was left unread for 50 ms; the capture misses a request now and then, so its counts are what it saw). '
    + `delay_loop ${DELAY_LOOP_S} s, every check passing (the listener accepted ${runs.map((r) => `${r.steady.acceptPerSec.toFixed(0)}/s under ${r.impl}`).join(', ')}; the guest was idle `
    + `${runs.map((r) => `${(r.steady.guestIdle * 100).toFixed(0)} %`).join(' and ')} of the time between reloads). Start: the table complete and stable ${runs.map((r) => `${fmt(r.stableMs)} after ${r.impl} started (${r.startWrites} IPVS writes)`).join(', ')}. `
    + `Measured ${new Date().toISOString().slice(0, 10)} in ${kernelName()} (guest with ${os.cpus().length} CPU, node roughly 8× slower than on the host), Node ${process.version}, keepalived 2.2.7; `
    + `guest load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} during the rounds; command: \`npm run bench:daemon-reload -- ${DELAY_LOOP_S === 6 ? '' : `--delay-loop ${DELAY_LOOP_S} `}--update-docs\`.`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (await ranInUml(import.meta.url, 60 * 60_000)) return;
  const args = benchArgs();
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : ['keepalived', 'lvskit'];
  const cleanup = new Cleanup();
  const runs: ImplRun[] = [];
  try {
    const lab = await DaemonLab.create(cleanup);
    for (const impl of (['keepalived', 'lvskit'] as const).filter((i) => only.includes(i))) runs.push(await runImpl(lab, impl, (s) => console.log(`# ${s}`)));
  } finally {
    for (const failure of await cleanup.run()) console.log(`# ${failure}`);
  }
  const text = markdown(runs, Math.max(...runs.map((r) => r.lagMs)));
  console.log(`\n${text}\n`);
  fs.writeFileSync(`/var/tmp/lvskit-daemon-reload-${Date.now()}.json`, JSON.stringify(runs, null, 1));
  // The operator's delay_loop has its own section; another check period (`--delay-loop 60`) another.
  if (args.includes('--update-docs')) updateDocs(DELAY_LOOP_S === 6 ? 'daemon-reload' : `daemon-reload-delay-loop-${DELAY_LOOP_S}`, text);
}

await main();
