// layer: behaviour (check)
// job: a real server's health as a pure value: UP when every checker is UP, its effective weight, and an event on each change.
import type { CheckerState } from './retry.js';
import type { CheckFailure, CheckResult } from './types.js';

/** One checker as the real server sees it. */
export interface ServerChecker {
  up: boolean;
  /** The last attempt's result (failures included while retrying). */
  last?: CheckResult;
}

/** A real server's health. Values are never mutated: every update returns a new one. */
export interface RealServerHealth {
  /** `weight` as configured. */
  configuredWeight: number;
  /** Set by a misc_dynamic checker (exit code − 2); replaces configuredWeight while set. */
  dynamicWeight?: number;
  checkers: ReadonlyMap<string, ServerChecker>;
  up: boolean;
  /** What took it DOWN (the failing checker's last failure), while DOWN. */
  downReason?: { checker: string; failure?: CheckFailure };
}

/** What the real-server state machine reports: up, down (with the failing checker), or a new weight. */
export type RealServerEvent =
  | { type: 'up' }
  | { type: 'down'; checker: string; failure?: CheckFailure }
  | { type: 'weight'; weight: number; previous: number };

/** The weight the server should have when UP. */
export function effectiveWeight(health: RealServerHealth): number {
  return health.dynamicWeight ?? health.configuredWeight;
}

/** One checker of a server at the start: its key, `alpha`, and the verdict already made (a shared check). */
export interface InitialChecker {
  key: string;
  /** keepalived `alpha`: the checker counts as DOWN until its first success. Otherwise UP until its first failure. */
  alpha: boolean;
  state?: CheckerState;
  /** A misc_dynamic checker (its weight replaces the configured one); `carriedHealth` needs to know. */
  dynamic?: boolean;
}

function downChecker(checkers: ReadonlyMap<string, ServerChecker>): string | undefined {
  for (const [key, c] of checkers) if (!c.up) return key;
  return undefined;
}

function withDown(health: Omit<RealServerHealth, 'up' | 'downReason'>): RealServerHealth {
  const down = downChecker(health.checkers);
  if (down === undefined) return { ...health, up: true };
  const last = health.checkers.get(down)?.last;
  return { ...health, up: false, downReason: last && !last.ok ? { checker: down, failure: last } : { checker: down } };
}

/** A server's health before any attempt (a server without checkers is always UP, as in keepalived). */
export function initialHealth(configuredWeight: number, checkers: readonly InitialChecker[]): RealServerHealth {
  const map = new Map<string, ServerChecker>();
  let dynamicWeight: number | undefined;
  for (const c of checkers) {
    const known = c.state?.up;
    const existing = map.get(c.key);
    map.set(c.key, { up: (existing?.up ?? true) && (known ?? !c.alpha) });
    if (c.state?.weight !== undefined) dynamicWeight = c.state.weight;
  }
  return withDown({ configuredWeight, checkers: map, ...(dynamicWeight !== undefined ? { dynamicWeight } : {}) });
}

/** What an attempt of one of its checkers tells the server. */
export interface CheckerUpdate {
  result: CheckResult;
  /** Present when the checker's verdict (or dynamic weight) changed. */
  verdict?: { up: boolean; weight: number | undefined };
}

/** Apply one attempt of checker `key`; events say what changed (down/up, then weight). */
export function applyCheckerUpdate(health: RealServerHealth, key: string, update: CheckerUpdate): { health: RealServerHealth; events: RealServerEvent[] } {
  const current = health.checkers.get(key);
  if (!current) return { health, events: [] };
  const checkers = new Map(health.checkers);
  checkers.set(key, { up: update.verdict?.up ?? current.up, last: update.result });
  let dynamicWeight = health.dynamicWeight;
  if (update.verdict?.weight !== undefined) dynamicWeight = update.verdict.weight;
  const next = withDown({ configuredWeight: health.configuredWeight, checkers, ...(dynamicWeight !== undefined ? { dynamicWeight } : {}) });
  return { health: next, events: healthEvents(health, next) };
}

/** What changed from `before` to `after`: down/up, then the effective weight. */
export function healthEvents(before: RealServerHealth, after: RealServerHealth): RealServerEvent[] {
  const events: RealServerEvent[] = [];
  if (before.up && !after.up) {
    const reason = after.downReason!;
    events.push(reason.failure ? { type: 'down', checker: reason.checker, failure: reason.failure } : { type: 'down', checker: reason.checker });
  } else if (!before.up && after.up) {
    events.push({ type: 'up' });
  }
  if (effectiveWeight(after) !== effectiveWeight(before)) events.push({ type: 'weight', weight: effectiveWeight(after), previous: effectiveWeight(before) });
  return events;
}

/**
 * A real server's health after a reload, from its health before and its checkers now. When the
 * checkers are the same ones (same keys), everything carries over (UP/DOWN, the reason, a dynamic
 * weight) except the configured weight, which is the new one. Otherwise a checker kept keeps its
 * verdict and a new one starts as `initialHealth` starts it (`alpha`, or a shared check's verdict);
 * a dynamic weight carries over only while a dynamic checker is kept, and a new checker's known
 * weight replaces it.
 */
export function carriedHealth(previous: RealServerHealth, configuredWeight: number, checkers: readonly InitialChecker[]): RealServerHealth {
  const keys = new Set(checkers.map((c) => c.key));
  if (keys.size === previous.checkers.size && [...keys].every((k) => previous.checkers.has(k))) return { ...previous, configuredWeight };
  const fresh = initialHealth(configuredWeight, checkers.filter((c) => !previous.checkers.has(c.key)));
  const map = new Map<string, ServerChecker>();
  for (const c of checkers) map.set(c.key, previous.checkers.get(c.key) ?? fresh.checkers.get(c.key)!);
  const keptDynamic = checkers.some((c) => c.dynamic === true && previous.checkers.has(c.key));
  const dynamicWeight = fresh.dynamicWeight ?? (keptDynamic ? previous.dynamicWeight : undefined);
  return withDown({ configuredWeight, checkers: map, ...(dynamicWeight !== undefined ? { dynamicWeight } : {}) });
}
