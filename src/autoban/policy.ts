// layer: behaviour (autoban), pure
// job: decide who to ban: (config, state, observations, now) → (state, actions, events). No I/O, no clock of its own.
import type { ServiceKey } from '../conns/procfs.js';
import { RangeList } from './cidr.js';

/** The operator's rules. */
export interface AutobanPolicyConfig {
  /** A client is banned when it holds more than this many connections in the counted state. Default 100. */
  threshold: number;
  /** Addresses and networks never banned. */
  whitelist: readonly string[];
  /** How long a ban lasts: the ipset entry's timeout, in seconds. 0 = no end (removed by hand). Default 0. */
  banTimeoutSec: number;
  /** At most this many new bans in any 60 seconds; the rest wait (a valve against banning half the internet). */
  maxBansPerMinute: number;
  /** Decide and report, but ban nothing. */
  dryRun: boolean;
}

/** ESTABLISHED connections from one client above which it is banned, unless configured (`threshold`). */
export const DEFAULT_THRESHOLD = 100;
/** Most new bans per minute unless configured (`max_bans_per_minute`). */
export const DEFAULT_MAX_BANS_PER_MINUTE = 60;
/** Bans without an end, as the old script's static_blacklist (and `lvskit_autoban` without `ban_timeout`). */
export const DEFAULT_BAN_TIMEOUT_SEC = 0;

/** What a source saw of one client: its count of the counted state (ESTABLISHED). */
export interface Observation {
  address: string;
  count: number;
  total?: number;
  service?: ServiceKey;
}

/** A ban in force (or, in a dry run, one that would be). */
export interface BanRecord {
  address: string;
  count: number;
  sinceMs: number;
  /** Wall-clock end of the ban; undefined = no timeout. */
  untilMs: number | undefined;
  dryRun: boolean;
}

/** The autoban's state between evaluations: the bans in force and the recent ban times the rate limit counts. */
export interface AutobanState {
  bans: ReadonlyMap<string, BanRecord>;
  /** Times of the new bans of the last 60 seconds. */
  recentBansMs: readonly number[];
  /** Clients over the threshold that were not banned, reported once each until they fall back. */
  noted: ReadonlyMap<string, 'whitelisted' | 'rate-limited'>;
}

/** What the runner must do. */
export interface BanAction {
  kind: 'ban';
  address: string;
  /** ipset entry timeout; 0 = none. */
  timeoutSec: number;
  count: number;
}

/** What one evaluation decided about one client: banned, spared by the whitelist, held back by the rate limit, or a ban expired. */
export type AutobanEvent =
  | { type: 'ban'; address: string; count: number; untilMs: number | undefined; dryRun: boolean }
  | { type: 'whitelisted'; address: string; count: number; range: string }
  | { type: 'rate-limited'; address: string; count: number; maxBansPerMinute: number }
  | { type: 'expired'; address: string; dryRun: boolean };

/** The result of `evaluate()`: the next state, the bans to add or remove, and the events to report. */
export interface Decision {
  state: AutobanState;
  actions: BanAction[];
  events: AutobanEvent[];
}

const MINUTE_MS = 60_000;

/** The state before the first evaluation: no bans. */
export function initialState(): AutobanState {
  return { bans: new Map(), recentBansMs: [], noted: new Map() };
}

/** Config with defaults; RangeError for values that make no sense. */
export function policyConfig(partial: Partial<AutobanPolicyConfig> = {}): AutobanPolicyConfig {
  const config: AutobanPolicyConfig = {
    threshold: partial.threshold ?? DEFAULT_THRESHOLD,
    whitelist: partial.whitelist ?? [],
    banTimeoutSec: partial.banTimeoutSec ?? DEFAULT_BAN_TIMEOUT_SEC,
    maxBansPerMinute: partial.maxBansPerMinute ?? DEFAULT_MAX_BANS_PER_MINUTE,
    dryRun: partial.dryRun ?? false,
  };
  if (!Number.isInteger(config.threshold) || config.threshold < 0) throw new RangeError(`threshold must be a whole number ≥ 0, got ${config.threshold}`);
  if (!Number.isInteger(config.banTimeoutSec) || config.banTimeoutSec < 0 || config.banTimeoutSec > 2_147_483) {
    throw new RangeError(`banTimeoutSec must be 0…2147483 (ipset's limit), got ${config.banTimeoutSec}`);
  }
  if (!Number.isInteger(config.maxBansPerMinute) || config.maxBansPerMinute < 1) throw new RangeError(`maxBansPerMinute must be ≥ 1, got ${config.maxBansPerMinute}`);
  return config;
}

/**
 * One round of decisions at wall-clock `nowMs`. `observations` are clients with their counts;
 * `complete` says they are every client over the threshold (a full scan), so a noted client
 * absent from them has fallen back and will be reported again if it returns. Bans whose time
 * has come are dropped (`expired`). New bans go to the highest counts first, within the cap.
 */
export function evaluate(config: AutobanPolicyConfig, state: AutobanState, observations: readonly Observation[], nowMs: number,
  options: { complete: boolean; whitelist?: RangeList } = { complete: true }): Decision {
  const whitelist = options.whitelist ?? new RangeList(config.whitelist);
  const bans = new Map(state.bans);
  const noted = new Map(state.noted);
  const events: AutobanEvent[] = [];
  const actions: BanAction[] = [];
  for (const [address, ban] of bans) {
    if (ban.untilMs !== undefined && ban.untilMs <= nowMs) {
      bans.delete(address);
      events.push({ type: 'expired', address, dryRun: ban.dryRun });
    }
  }
  // One count per address: the highest (per-service sources report a client once per service).
  const over = new Map<string, number>();
  for (const o of observations) if (o.count > config.threshold && o.count > (over.get(o.address) ?? -1)) over.set(o.address, o.count);
  if (options.complete) for (const address of noted.keys()) if (!over.has(address)) noted.delete(address);
  const candidates: [string, number][] = [];
  for (const [address, count] of over) {
    if (bans.has(address)) continue;
    const range = whitelist.match(address);
    if (range) {
      if (noted.get(address) !== 'whitelisted') events.push({ type: 'whitelisted', address, count, range: range.text });
      noted.set(address, 'whitelisted');
      continue;
    }
    candidates.push([address, count]);
  }
  candidates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const recent = state.recentBansMs.filter((t) => t > nowMs - MINUTE_MS);
  for (const [address, count] of candidates) {
    if (recent.length >= config.maxBansPerMinute) {
      if (noted.get(address) !== 'rate-limited') events.push({ type: 'rate-limited', address, count, maxBansPerMinute: config.maxBansPerMinute });
      noted.set(address, 'rate-limited');
      continue;
    }
    recent.push(nowMs);
    noted.delete(address);
    const untilMs = config.banTimeoutSec > 0 ? nowMs + config.banTimeoutSec * 1000 : undefined;
    bans.set(address, { address, count, sinceMs: nowMs, untilMs, dryRun: config.dryRun });
    events.push({ type: 'ban', address, count, untilMs, dryRun: config.dryRun });
    if (!config.dryRun) actions.push({ kind: 'ban', address, timeoutSec: config.banTimeoutSec, count });
  }
  return { state: { bans, recentBansMs: recent, noted }, actions, events };
}

/** The state without a ban (the runner's undo when the ipset refused it, so the next round tries again). */
export function withoutBan(state: AutobanState, address: string): AutobanState {
  const bans = new Map(state.bans);
  bans.delete(address);
  return { ...state, bans };
}

/** The state with bans restored from a previous run (e.g. the static_blacklist file), expired ones left out. */
export function withRestoredBans(state: AutobanState, restored: readonly BanRecord[], nowMs: number): AutobanState {
  const bans = new Map(state.bans);
  for (const ban of restored) if (ban.untilMs === undefined || ban.untilMs > nowMs) bans.set(ban.address, ban);
  return { ...state, bans };
}
