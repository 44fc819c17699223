// layer: benchmarks
// job: the tables of bench/daemon-failover.ts: per place it ran, idle vs loaded vs nice 0 vs inline vs keepalived — median and worst takeover against the RFC bound + 20 ms, takeovers while the peer was MASTER, the MASTER's longest advert gap, what the load did.
import { masterDownIntervalMs } from '../src/vrrp/state.js';
import { ADVERT_MS, BACKUP_PRIORITY, PEER_PRIORITY, REAL_SERVERS, SERVICES } from './daemon-failover-lab.js';
import { median } from './report.js';

/**
 * One takeover: from the peer's last advert and from the kill; the peer's last advert on
 * CLOCK_MONOTONIC. Before it, while the peer was MASTER: takeovers under Master_Down_Interval
 * after the peer's previous advert (`spurious`), and after its adverts had stopped that long (`peerLate`).
 */
export interface Sample { fromLastMs: number; fromKillMs: number; spurious: number[]; peerLate: number[]; lastMono: number }

export interface ModeResult {
  mode: 'idle' | 'loaded' | 'loaded-nice0' | 'loaded-inline' | 'loaded-keepalived';
  samples: Sample[];
  master: { maxGapMs: number; adverts: number; overPeerMdi: number; top: Array<{ gapMs: number; atMono: number }> };
  /** The loaded balancer's own report (daemon-failover-daemon.ts, kind `final`). */
  daemon: Record<string, unknown>;
  /** Connections the real servers accepted per second while the mode ran (the checks that reached them). */
  checksPerSec: number;
  loadBefore: number[];
  loadAfter: number[];
}

export interface Run {
  where: 'host' | 'uml';
  ipvs: boolean;
  kernel: string;
  cpus: number;
  node: string;
  keepalived: string;
  reps: number;
  windowMs: number;
  results: ModeResult[];
  loadBefore: number[];
  loadAfter: number[];
  /** For a run in user-mode Linux: the host's load average around it (the guest's own is in loadBefore/After). */
  hostLoadBefore?: number[];
  hostLoadAfter?: number[];
  date: string;
}

export const BOUND_MS = masterDownIntervalMs(3, BACKUP_PRIORITY, ADVERT_MS / 10);
export const PEER_MDI_MS = masterDownIntervalMs(3, PEER_PRIORITY, ADVERT_MS / 10);

const ms = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(1)} ms`);
const load = (l: readonly number[] | undefined): string => (l ? l.map((x) => x.toFixed(2)).join(' ') : '?');
const num = (d: Record<string, unknown>, k: string): number | undefined => (typeof d[k] === 'number' ? d[k] as number : undefined);
const list = (d: Record<string, unknown>, k: string): number[] => (Array.isArray(d[k]) ? d[k] as number[] : []);

const LABEL: Record<ModeResult['mode'], string> = {
  idle: 'idle (the VRRP instance alone, worker thread)',
  loaded: 'loaded, VRRP in its worker thread (the default: nice -20)',
  'loaded-nice0': 'loaded, the worker thread at the process\'s priority (`vrrpThreadNice: null`)',
  'loaded-inline': 'loaded, VRRP inline (`isolation: \'inline\'`)',
  'loaded-keepalived': 'loaded; the backup is keepalived --vrrp in a process of its own beside it',
};

function where(run: Run): string {
  return run.where === 'uml'
    ? `user-mode Linux ${run.kernel} (1 virtual CPU), the whole balancer with IPVS`
    : `the host, Linux ${run.kernel} (${run.cpus} CPUs), ${run.ipvs ? 'the whole balancer with IPVS' : 'everything but IPVS (this kernel has none)'}`;
}

function row(r: ModeResult): string {
  const values = r.samples.map((s) => s.fromLastMs);
  const worst = Math.max(...values);
  const over = values.filter((v) => v > BOUND_MS + 20).length;
  const spurious = r.samples.reduce((a, s) => a + s.spurious.length, 0);
  const peerLate = r.samples.reduce((a, s) => a + s.peerLate.length, 0);
  const d = r.daemon;
  const loaded = r.mode !== 'idle';
  const scans = list(d, 'scanWorkMsAll');
  const reloads = list(d, 'reloadMsAll');
  const goal = `${worst <= BOUND_MS + 20 ? '✔' : '✘'} (${worst - BOUND_MS >= 0 ? '+' : '−'}${Math.abs(worst - BOUND_MS).toFixed(1)} ms)`;
  const gap = `${ms(r.master.maxGapMs)}${r.master.overPeerMdi ? ` (${r.master.overPeerMdi} over ${PEER_MDI_MS.toFixed(1)} ms)` : ''}`;
  return `| ${LABEL[r.mode]} | ${ms(median(values))} | ${ms(worst)} | ${over} of ${values.length} | ${goal} | ${spurious}${peerLate ? ` (and ${peerLate} after the peer's adverts stopped)` : ''} | ${gap} | ` +
    `${ms(num(d, 'mainLoopDelayMaxMs'))} | ${loaded ? `${r.checksPerSec.toFixed(0)}/s` : '–'} | ${loaded ? `${scans.length}, ${ms(median(scans))}` : '–'} | ` +
    `${loaded ? `${reloads.length}${reloads.length ? `, ${(median(reloads) / 1000).toFixed(1)} s` : ''}` : '–'} | ${(num(d, 'cpuPct') ?? NaN).toFixed(0)} % | ${load(r.loadBefore)} → ${load(r.loadAfter)} |`;
}

function table(run: Run): string {
  const lines = [
    `**${where(run)}**`,
    '',
    '| balancer | takeover: median | worst | over bound + 20 ms | goal: worst ≤ bound + 20 ms | spurious takeovers | as MASTER: longest advert gap | main thread: longest event-loop delay | checks reaching the real servers | scans done, median (scanner\'s own time) | reloads done, median | process CPU | load average before → after |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...run.results.map(row),
  ];
  const host = run.hostLoadBefore ? `; load averages in the table are the guest's, the host's was ${load(run.hostLoadBefore)} before the run and ${load(run.hostLoadAfter)} after` : '';
  lines.push('', `${run.reps} repetitions per row; MASTER window ${(run.windowMs / 1000).toFixed(0)} s; measured ${run.date}, Node ${run.node}, keepalived ${run.keepalived}${host}.`);
  return lines.join('\n');
}

/** Every run's table, the bound and the load, as the docs section. */
export function markdown(runs: Run[]): string {
  const head = `Bound: Master_Down_Interval ${BOUND_MS.toFixed(1)} ms (VRRPv3, 50 ms adverts, backup priority ${BACKUP_PRIORITY}); goal: worst ≤ ${(BOUND_MS + 20).toFixed(1)} ms. ` +
    `A MASTER gap over ${PEER_MDI_MS.toFixed(1)} ms (the peer's Master_Down_Interval, priority ${PEER_PRIORITY}) would be a spurious failover. ` +
    `Load: ${SERVICES.toLocaleString('en-US')} services × ${REAL_SERVERS} real servers with TCP_CHECK (delay_loop 6 s), back-to-back scans of a 1,000,000-row table (\`scanConnections\`, one thread), back-to-back reloads (one weight changed each time).`;
  return [head, ...runs.map(table)].join('\n\n');
}
