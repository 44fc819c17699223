// layer: benchmarks
// job: VRRP failover (v3, 50 ms adverts) of an lvskit balancer loaded with 10,000 TCP checks, 1,000,000-row connection scans and reloads of 1,000 services in the same process, against the same balancer idle, its VRRP thread at nice 0, VRRP inline, and keepalived beside the load; the longest advert gap as MASTER.
//
//   npm run bench:daemon-failover [-- --reps 20] [--where host|uml|both] [--modes idle,loaded,…] [--loads checks,scan,reload]
//                                 [--master-window-ms 20000] [--raw FILE.json] [--update-docs]          (root)
//
// The balancer under test (priority 100, BACKUP) runs in a process of its own in its namespace
// (bench/daemon-failover-daemon.ts) with its load; a keepalived peer (priority 150) is MASTER.
// Each repetition SIGKILLs the peer's VRRP process at a random phase of its advert interval; the
// takeover is the balancer's first advert minus the peer's last one, both as the observer's kernel
// receive timestamps on the bridge; then the peer starts again and preempts. After the
// repetitions the peer is killed once more and the balancer's adverts as MASTER are watched for
// a window. Where: the whole balancer needs IPVS, which this host's kernel lacks, so by default
// it runs in user-mode Linux (one slow virtual CPU shared by everything in the lab) and then on
// the host with everything but IPVS (daemon-failover-daemon.ts says what that leaves out).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { masterDownIntervalMs } from '../src/vrrp/state.js';
import type { Seen } from '../test/helpers/vrrp-lab.js';
import { keepalivedEntered, type Speaker } from '../test/helpers/vrrp-procs.js';
import {
  ADVERT_MS, BACKUP_PRIORITY, context, createDaemonLab, PEER_PRIORITY, startBackupKeepalived, startLoadedBalancer, startPeer, VRID, writeDaemonFiles,
  type DaemonFiles, type DaemonLab, type DaemonOptions,
} from './daemon-failover-lab.js';
import { markdown, type ModeResult, type Run, type Sample } from './daemon-failover-report.js';
import { repo, updateDocs } from './report.js';

const MDI_BACKUP = masterDownIntervalMs(3, BACKUP_PRIORITY, ADVERT_MS / 10);
const MDI_PEER = masterDownIntervalMs(3, PEER_PRIORITY, ADVERT_MS / 10);
/** This process's performance.now() as CLOCK_MONOTONIC ms (the loaded balancer reports its timeline on that clock). */
const toMono = (atMs: number): number => atMs + (Number(process.hrtime.bigint()) / 1e6 - performance.now());
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const advertFrom = (src: string) => (s: Seen): boolean => s.kind === 'vrrp' && s.vrid === VRID && s.src === src && (s.priority ?? 0) > 0;

export type Mode = ModeResult['mode'];
const MODES: Mode[] = ['idle', 'loaded', 'loaded-nice0', 'loaded-inline', 'loaded-keepalived'];

type T = Parameters<typeof startPeer>[0];
/** A peer that is MASTER, since `since` (the balancer had been silent for a while then: it heard the peer and yielded). */
interface Peer { speaker: Speaker; since: number }

async function peerUp(t: T, lab: DaemonLab): Promise<Peer> {
  const speaker = startPeer(t, lab);
  await speaker.waitFor(keepalivedEntered('VB', 'MASTER'), 60_000);
  for (;;) {
    const from = performance.now();
    await sleep(600);
    if (!lab.vrrp.seen.some((s) => s.atMs >= from && advertFrom(lab.lbIp)(s))) return { speaker, since: performance.now() };
  }
}

/**
 * Takeovers by the balancer in [from, to) while the peer was MASTER, each as the time since the
 * peer's advert before it: under Master_Down_Interval the balancer went early (`spurious`), over
 * it the peer's adverts had stopped on the wire for that long (`peerLate`: the takeover was due).
 */
function unaskedTakeovers(lab: DaemonLab, from: number, to: number): { spurious: number[]; peerLate: number[] } {
  const all = lab.vrrp.adverts(VRID, from).filter((s) => s.atMs < to);
  const out = { spurious: [] as number[], peerLate: [] as number[] };
  let lastOwn = -Infinity;
  let lastPeer = from;
  for (const s of all) {
    if (s.src === lab.peerIp) { lastPeer = s.atMs; continue; }
    if (s.src !== lab.lbIp) continue;
    if (s.atMs - lastOwn > 2.5 * ADVERT_MS) (s.atMs - lastPeer < MDI_BACKUP ? out.spurious : out.peerLate).push(s.atMs - lastPeer);
    lastOwn = s.atMs;
  }
  return out;
}

/**
 * One repetition: SIGKILL the peer at a random phase, time the balancer's takeover on the wire,
 * start the peer again; and any takeover while the peer was MASTER before the kill.
 */
async function repetition(t: T, lab: DaemonLab, peer: Peer): Promise<{ sample: Sample; peer: Peer }> {
  await sleep(1000);
  await lab.vrrp.waitFor(advertFrom(lab.peerIp), 5000, performance.now());
  await sleep(Math.random() * ADVERT_MS);
  const killedAt = performance.now();
  peer.speaker.signal('SIGKILL');
  const { spurious, peerLate } = unaskedTakeovers(lab, peer.since, killedAt);
  const takeover = await lab.vrrp.waitFor(advertFrom(lab.lbIp), MDI_BACKUP + 30_000, killedAt);
  const last = lab.vrrp.adverts(VRID).filter((s) => s.src === lab.peerIp && s.atMs <= takeover.atMs).at(-1)!;
  peer.speaker.kill('SIGKILL');
  await peer.speaker.exited;
  const sample = { fromLastMs: takeover.atMs - last.atMs, fromKillMs: takeover.atMs - killedAt, spurious, peerLate, lastMono: toMono(last.atMs) };
  return { sample, peer: await peerUp(t, lab) };
}

/** The balancer's adverts as MASTER over `windowMs` (the peer killed): the longest gap between two. */
async function masterGaps(lab: DaemonLab, peer: Speaker, windowMs: number): Promise<ModeResult['master']> {
  const killedAt = performance.now();
  peer.signal('SIGKILL');
  peer.kill('SIGKILL');
  await lab.vrrp.waitFor(advertFrom(lab.lbIp), MDI_BACKUP + 30_000, killedAt);
  await sleep(1000);
  const from = performance.now();
  await sleep(windowMs);
  const times = lab.vrrp.adverts(VRID, from).filter((s) => s.src === lab.lbIp && s.atMs <= from + windowMs).map((s) => s.atMs);
  const gaps = times.slice(1).map((x, i) => x - times[i]!);
  const top = gaps.map((g, i) => ({ gapMs: g, atMono: toMono(times[i]!) })).sort((a, b) => b.gapMs - a.gapMs).slice(0, 10);
  return { maxGapMs: Math.max(0, ...gaps), adverts: times.length, overPeerMdi: gaps.filter((g) => g > MDI_PEER).length, top };
}

interface Setting { where: 'host' | 'uml'; ipvs: boolean; reps: number; connsFile: string; windowMs: number; loads?: DaemonOptions['loads'] }

/**
 * One mode: the peer MASTER, the balancer (with its load, or idle; for `loaded-keepalived` the
 * load's process has no VRRP instance and keepalived --vrrp beside it is the backup), the
 * repetitions, the MASTER window, the load's report.
 */
async function runMode(t: T, lab: DaemonLab, files: DaemonFiles, s: Setting, mode: Mode): Promise<ModeResult> {
  const options: DaemonOptions = {
    files, connsFile: s.connsFile, scanThreads: 1, ipvs: s.ipvs, load: mode === 'idle' ? 'none' : 'full', ...(s.loads ? { loads: s.loads } : {}),
    isolation: mode === 'loaded-inline' ? 'inline' : 'worker', vrrp: mode !== 'loaded-keepalived', ...(mode === 'loaded-nice0' ? { vrrpThreadNice: null } : {}),
  };
  const loadBefore = os.loadavg();
  let peer = await peerUp(t, lab);
  const daemon = startLoadedBalancer(t, lab, options);
  const ready = await daemon.waitFor((l) => l.json?.kind === 'ready', 20 * 60_000);
  const backup = mode === 'loaded-keepalived' ? startBackupKeepalived(t, lab) : undefined;
  await backup?.waitFor(keepalivedEntered('VB', 'BACKUP'), 60_000);
  const acceptedFrom = lab.accepted();
  const checksFrom = performance.now();
  process.stderr.write(`# ${s.where} ${mode}: ready (${JSON.stringify(ready.json)}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const samples: Sample[] = [];
  for (let i = 0; i < s.reps; i++) {
    const r = await repetition(t, lab, peer);
    peer = r.peer;
    samples.push(r.sample);
    process.stderr.write(`# ${s.where} ${mode} #${i + 1}: ${r.sample.fromLastMs.toFixed(1)} ms from the peer's last advert` +
      `${r.sample.spurious.length ? `; before it, spurious takeovers ${r.sample.spurious.map((x) => x.toFixed(0)).join(', ')} ms after the peer's advert` : ''}` +
      `${r.sample.peerLate.length ? `; takeovers after the peer's adverts stopped for ${r.sample.peerLate.map((x) => x.toFixed(0)).join(', ')} ms` : ''} (load ${os.loadavg()[0]!.toFixed(2)})\n`);
  }
  const gaps = await masterGaps(lab, peer.speaker, s.windowMs);
  const checksPerSec = (lab.accepted() - acceptedFrom) / ((performance.now() - checksFrom) / 1000);
  backup?.kill('SIGTERM');
  daemon.kill('SIGTERM');
  const final = await daemon.waitFor((l) => l.json?.kind === 'final', 60_000, true);
  await Promise.race([Promise.all([daemon.exited, backup?.exited]), sleep(120_000)]);
  process.stderr.write(`# ${s.where} ${mode}: master's longest gaps ${gaps.top.slice(0, 5).map((g) => g.gapMs.toFixed(1)).join(', ')} ms; ${checksPerSec.toFixed(0)} checks/s; ` +
    `daemon ${JSON.stringify({ ...final.json, scanMsAll: undefined, scanWorkMsAll: undefined, reloadMsAll: undefined, timeline: undefined })}\n`);
  return { mode, samples, master: gaps, daemon: final.json ?? {}, checksPerSec, loadBefore, loadAfter: os.loadavg() };
}

/** Every mode in one lab. */
async function measure(s: Setting, modes: Mode[]): Promise<Run> {
  const { t, cleanup } = context();
  const loadBefore = os.loadavg();
  const results: ModeResult[] = [];
  try {
    const lab = await createDaemonLab(t);
    const files = writeDaemonFiles(t, lab.vip);
    for (const mode of modes) results.push(await runMode(t, lab, files, s, mode));
  } finally {
    await cleanup();
  }
  const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const keepalived = /v[\d.]+/.exec(execFileSync('sh', ['-c', 'keepalived --version 2>&1'], { encoding: 'utf8' }))?.[0] ?? '?'; // it prints to stderr
  return { where: s.where, ipvs: s.ipvs, kernel: release, cpus: os.cpus().length, node: process.version, keepalived, reps: s.reps, windowMs: s.windowMs, results,
    loadBefore, loadAfter: os.loadavg(), date: new Date().toISOString().slice(0, 10) };
}

/** The synthetic table, written by a child process (a million rows made here would leave their heap behind). */
function syntheticTable(): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync('/var/tmp/lvskit-daemon-failover-conns-');
  const file = path.join(dir, 'ip_vs_conn');
  execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { writeSyntheticTable } from ${JSON.stringify(pathToFileURL(path.join(repo, 'dist', 'bench', 'conns-synthetic.js')).href)}; writeSyntheticTable(${JSON.stringify(file)}, 1000000);`]);
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const RESULT_PREFIX = '#daemon-failover-result ';

async function main(): Promise<void> {
  const args = process.env['LVSKIT_TIER_ARGS'] ? JSON.parse(process.env['LVSKIT_TIER_ARGS']) as string[] : process.argv.slice(2);
  const arg = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const reps = Number(arg('--reps') ?? 20);
  const windowMs = Number(arg('--master-window-ms') ?? 20_000);
  const modes = (arg('--modes')?.split(',') ?? MODES) as Mode[];
  const loads = arg('--loads')?.split(',') as DaemonOptions['loads'];
  const extra = loads ? { loads } : {};
  if (process.env['LVSKIT_UML_OUT']) {
    // Inside user-mode Linux: the whole balancer, IPVS included; the result goes back to the host as one line.
    const run = await measure({ where: 'uml', ipvs: true, reps, connsFile: arg('--conns')!, windowMs, ...extra }, modes);
    console.log(`${RESULT_PREFIX}${JSON.stringify(run)}`);
    return;
  }
  const hostIpvs = fs.existsSync('/proc/net/ip_vs');
  const where = arg('--where') ?? (hostIpvs ? 'host' : 'both');
  const conns = syntheticTable();
  const runs: Run[] = [];
  try {
    if (where === 'uml' || where === 'both') runs.push(await inUml(args, conns.file));
    if (where === 'host' || where === 'both') runs.push(await measure({ where: 'host', ipvs: hostIpvs, reps, connsFile: conns.file, windowMs, ...extra }, modes));
  } finally {
    conns.remove();
  }
  const text = markdown(runs);
  console.log(text);
  if (arg('--raw')) fs.writeFileSync(arg('--raw')!, JSON.stringify(runs, null, 1));
  if (args.includes('--update-docs')) updateDocs('daemon-failover', text);
}

/** Boot user-mode Linux with this script as its workload; the host's load average around it. */
async function inUml(args: string[], connsFile: string): Promise<Run> {
  const boot = await import(pathToFileURL(path.join(repo, 'test', 'uml', 'boot.mjs')).href) as {
    runInUml(o: { repo: string; script: string; args: string[]; timeoutMs: number; onOutput: (s: string) => void }): Promise<{ status?: number; output: string; console: string }>;
  };
  const hostLoadBefore = os.loadavg();
  const guest = await boot.runInUml({
    repo, script: path.relative(repo, fileURLToPath(import.meta.url)), args: [...args, '--conns', connsFile], timeoutMs: 60 * 60_000,
    onOutput: (s) => process.stderr.write(s.split('\n').filter((l) => !l.startsWith(RESULT_PREFIX)).join('\n')),
  });
  const line = guest.output.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (guest.status !== 0 || !line) throw new Error(`the user-mode Linux run failed (status ${guest.status}):\n${guest.console.split('\n').slice(-30).join('\n')}`);
  const run = JSON.parse(line.slice(RESULT_PREFIX.length)) as Run;
  return { ...run, hostLoadBefore, hostLoadAfter: os.loadavg() };
}

await main();
