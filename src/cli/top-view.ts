// layer: cli (pure)
// job: `lvskit top`'s frame: two status samples of a running daemon (the earlier one chosen to span whole periods of the kernel's counters) → rates from the counters between them (TopFrame), and the frame as text lines for a terminal.
import { trafficCounters, type BalancerStatus, type RealServerView, type ServiceView, type TrafficCounters } from '../daemon/events.js';
import type { RecentEvent } from '../daemon/recent-events.js';

/** One reading of the daemon: its status and last events, and when the answer came (wall clock). */
export interface TopSample {
  atMs: number;
  status: BalancerStatus;
  events: RecentEvent[];
}

/** Per second over the interval between two samples: connections, packets and bytes in and out. */
export interface TrafficRates {
  connsPerSec: number;
  inPktsPerSec: number;
  outPktsPerSec: number;
  inBytesPerSec: number;
  outBytesPerSec: number;
}

export interface TopRealServer {
  /** `10.0.1.1:8080`, `[2001:db8::1]:80`. */
  name: string;
  /** From the health checks; undefined without checks. */
  health?: 'UP' | 'DOWN';
  /** Why DOWN: the checker and its failure. */
  why?: string;
  /** The weight in the kernel (undefined: not in the table). */
  weight?: number;
  activeConns?: number;
  inactiveConns?: number;
  stats?: TrafficCounters;
  /** Undefined on the first sample, for a real server new since the last one, or when a counter went down (reset or wrapped). */
  rates?: TrafficRates;
}

export interface TopService {
  name: string;
  scheduler?: string;
  present: boolean;
  quorumUp?: boolean;
  stats?: TrafficCounters;
  rates?: TrafficRates;
  realServers: TopRealServer[];
}

/** What `lvskit top` shows at one refresh (also what `--json` prints, one object per line). */
export interface TopFrame {
  atMs: number;
  /** The time the rates are over (undefined: no earlier reading to compare with, no rates yet). */
  ratesOverMs?: number;
  daemon: { pid: number; config: string; startedAtMs: number; reloads: number; reloadFailures: number };
  instances: BalancerStatus['instances'];
  services: TopService[];
  /** Bans in force; undefined when the autoban is off. */
  bans?: number;
  autoban?: { set: string; source: string; threshold: number };
  events: RecentEvent[];
}

const COUNTERS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const;

/**
 * How often the counters a dump reports move: the kernel adds its per-CPU counters into them at
 * each tick of its rate estimator, every 2 s (IPVS's estimation timer). Rates over 1 s would read
 * 0 or double; over a whole number of these periods they are right.
 */
export const KERNEL_COUNTER_PERIOD_MS = 2000;

/**
 * The earlier reading to compute rates from: among those at least 0.9 period before `cur`, the one
 * whose distance is closest to a whole number of periods (relative to it), the most recent on a
 * tie. Undefined until there is one (the first 2 s).
 */
export function rateBase(history: readonly TopSample[], cur: TopSample, periodMs = KERNEL_COUNTER_PERIOD_MS): TopSample | undefined {
  let best: TopSample | undefined;
  let bestError = Infinity;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    const periods = (cur.atMs - h.atMs) / periodMs;
    if (periods < 0.9) continue;
    const whole = Math.max(1, Math.round(periods));
    const error = Math.abs(periods - whole) / whole;
    if (error < bestError - 1e-9) {
      best = h;
      bestError = error;
    }
  }
  return best;
}

/**
 * Rates from two readings of the same counters `elapsedMs` apart; undefined when either is missing,
 * the time did not move, or a counter went down (the entry was re-created, or a 32-bit counter wrapped).
 */
export function trafficRates(prev: TrafficCounters | undefined, cur: TrafficCounters | undefined, elapsedMs: number): TrafficRates | undefined {
  if (!prev || !cur || !(elapsedMs > 0)) return undefined;
  if (COUNTERS.some((k) => cur[k] < prev[k])) return undefined;
  const per = (k: (typeof COUNTERS)[number]): number => ((cur[k] - prev[k]) * 1000) / elapsedMs;
  return { connsPerSec: per('conns'), inPktsPerSec: per('inPkts'), outPktsPerSec: per('outPkts'), inBytesPerSec: per('inBytes'), outBytesPerSec: per('outBytes') };
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Why a real server is DOWN, in words: the checker's kind (its key is the whole check as JSON) and
 * its last failure, e.g. `TCP_CHECK: connect to 10.0.1.2:8080: ECONNREFUSED`.
 */
export function whyDown(r: Pick<RealServerView, 'downReason' | 'checkers'>): string | undefined {
  const reason = r.downReason;
  if (!reason) return undefined;
  const checker = r.checkers?.find((c) => c.key === reason.checker)?.kind ?? reason.checker;
  return `${checker}${reason.failure ? `: ${reason.failure.message}` : ''}`;
}

function realServer(r: RealServerView, before: RealServerView | undefined, elapsedMs: number | undefined): TopRealServer {
  const stats = trafficCounters(r.traffic);
  const rates = elapsedMs === undefined ? undefined : trafficRates(trafficCounters(before?.traffic), stats, elapsedMs);
  return {
    name: hostPort(r.address, r.port),
    ...(r.up === undefined ? {} : { health: r.up ? 'UP' : 'DOWN' }),
    ...(r.up === false && r.downReason ? { why: whyDown(r)! } : {}),
    ...(r.kernelWeight === undefined ? {} : { weight: r.kernelWeight }),
    ...(r.activeConns === undefined ? {} : { activeConns: r.activeConns }),
    ...(r.inactiveConns === undefined ? {} : { inactiveConns: r.inactiveConns }),
    ...(stats ? { stats } : {}), ...(rates ? { rates } : {}),
  };
}

function service(s: ServiceView, before: ServiceView | undefined, elapsedMs: number | undefined): TopService {
  const previous = new Map((before?.realServers ?? []).map((r) => [hostPort(r.address, r.port), r]));
  const stats = trafficCounters(s.traffic);
  const rates = elapsedMs === undefined ? undefined : trafficRates(trafficCounters(before?.traffic), stats, elapsedMs);
  return {
    name: s.name, present: s.present, ...(s.scheduler ? { scheduler: s.scheduler } : {}), ...(s.quorumUp === undefined ? {} : { quorumUp: s.quorumUp }),
    ...(stats ? { stats } : {}), ...(rates ? { rates } : {}),
    realServers: s.realServers.map((r) => realServer(r, previous.get(hostPort(r.address, r.port)), elapsedMs)),
  };
}

/** The frame of sample `cur`, with rates over the time since `prev` (none without it; rateBase() chooses it). */
export function topFrame(cur: TopSample, prev?: TopSample): TopFrame {
  const s = cur.status;
  const elapsedMs = prev ? cur.atMs - prev.atMs : undefined;
  const before = new Map((prev?.status.services ?? []).map((v) => [v.name, v]));
  return {
    atMs: cur.atMs, ...(elapsedMs === undefined ? {} : { ratesOverMs: elapsedMs }),
    daemon: { pid: s.pid, config: s.config, startedAtMs: s.startedAtMs, reloads: s.reloads, reloadFailures: s.reloadFailures },
    instances: s.instances,
    services: s.services.map((v) => service(v, before.get(v.name), elapsedMs)),
    ...(s.autoban ? { bans: s.autoban.bans.length, autoban: { set: s.autoban.set, source: s.autoban.source, threshold: s.autoban.threshold } } : {}),
    events: cur.events,
  };
}

/** A rate as a few characters: `0`, `0.4`, `12`, `980`, `1.2K`, `34K`, `5.6M` (K = 1000, as ipvsadm); `-` when unknown. */
export function rateText(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n === 0) return '0';
  let v = n;
  let unit = 0;
  while (v >= 999.5 && unit < 4) { v /= 1000; unit++; }
  const text = v < 9.95 ? v.toFixed(1) : String(Math.round(v));
  return `${text}${['', 'K', 'M', 'G', 'T'][unit]}`;
}

/** `5s`, `3m7s`, `2h5m`. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** HH:MM:SS in local time. */
export function timeOfDay(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Rows as columns: each padded to its widest cell, `right` ones aligned right; the last cell is not padded. */
function columns(rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (right.has(i) ? cell.padStart(widths[i] ?? 0) : i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

const RATE_TITLES = ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];

function rateCells(r: TrafficRates | undefined): string[] {
  return r ? [r.connsPerSec, r.inPktsPerSec, r.outPktsPerSec, r.inBytesPerSec, r.outBytesPerSec].map(rateText) : RATE_TITLES.map(() => '-');
}

function instanceLines(f: TopFrame): string[] {
  if (f.instances.length === 0) return [];
  return ['VRRP', ...columns([['INSTANCE', 'STATE', 'PRIO', 'VRID', 'INTERFACE', 'MASTER SEEN', 'VIPS'],
    ...f.instances.map((i) => [i.name, i.state, String(i.priority), String(i.vrid), i.interface,
      i.master ? `${i.master.address} (${i.master.priority})` : i.state === 'MASTER' ? '(this)' : '-', i.vips.join(' ') || '-'])]).map((l) => `  ${l}`)];
}

function serviceLines(f: TopFrame): string[] {
  if (f.services.length === 0) return [];
  const rows = [['SERVICE / REAL SERVER', 'HEALTH', 'WEIGHT', 'ACTIVE', 'INACT', ...RATE_TITLES, 'WHY']];
  for (const s of f.services) {
    const sum = (k: 'activeConns' | 'inactiveConns'): string => (s.present ? String(s.realServers.reduce((n, r) => n + (r[k] ?? 0), 0)) : '-');
    const head = `${s.name}${s.scheduler ? ` ${s.scheduler}` : ''}`;
    const note = !s.present ? 'NOT IN THE KERNEL' : s.quorumUp === false ? 'quorum LOST' : '';
    rows.push([head, '', '', sum('activeConns'), sum('inactiveConns'), ...rateCells(s.rates), note]);
    for (const r of s.realServers) {
      rows.push([`  -> ${r.name}`, r.health ?? '-', r.weight === undefined ? '(absent)' : String(r.weight),
        String(r.activeConns ?? '-'), String(r.inactiveConns ?? '-'), ...rateCells(r.rates), r.why ?? '']);
    }
  }
  return columns(rows, new Set([2, 3, 4, 5, 6, 7, 8, 9]));
}

export interface RenderOptions {
  /** Cut each line to this many characters (a terminal's width). */
  width?: number;
  /** At most this many lines (a terminal's height): the events give way first, then the end is cut. */
  height?: number;
  /** The last line of the header, e.g. `q quits`. */
  hint?: string;
  /** A problem of this refresh, shown under the header (the frame is the last one read). */
  problem?: string;
}

/** The frame as lines of text: header, VRRP instances, services and real servers with rates, bans, recent events (newest last). */
export function renderTop(f: TopFrame, options: RenderOptions = {}): string[] {
  const d = f.daemon;
  const head = [`lvskit top  ${timeOfDay(f.atMs)}  pid ${d.pid}  ${d.config}  up ${durationText(f.atMs - d.startedAtMs)}  ${d.reloads} reload(s)${d.reloadFailures ? `, ${d.reloadFailures} refused` : ''}`
    + `  ${f.ratesOverMs === undefined ? `rates: after ${KERNEL_COUNTER_PERIOD_MS / 1000}s` : `rates over ${(f.ratesOverMs / 1000).toFixed(1)}s`}${options.hint ? `  ${options.hint}` : ''}`];
  if (options.problem) head.push(`not updated: ${options.problem}`);
  const body = [...instanceLines(f), ...serviceLines(f)];
  body.push(f.autoban ? `BANS ${f.bans ?? 0} (autoban: set ${f.autoban.set}, ${f.autoban.source}, threshold ${f.autoban.threshold})` : 'BANS - (autoban off)');
  const events = f.events.length === 0 ? [] : ['EVENTS', ...f.events.map((e) => `  ${timeOfDay(e.atMs)}  ${e.level.padEnd(5)}  ${e.source.padEnd(7)}  ${e.message}`)];
  let lines = [...head, ...body];
  const height = options.height;
  if (height === undefined) {
    lines.push(...events);
  } else {
    const room = height - lines.length;
    // The newest events that fit (with their title line); none when fewer than two lines are left.
    if (room >= 2 && events.length > 0) lines.push('EVENTS', ...events.slice(1).slice(-(room - 1)));
    if (lines.length > height) lines = [...lines.slice(0, Math.max(0, height - 1)), `… ${lines.length - height + 1} more line(s): a taller terminal shows them`];
  }
  return options.width === undefined ? lines : lines.map((l) => (l.length > options.width! ? l.slice(0, Math.max(0, options.width! - 1)) + '…' : l));
}
