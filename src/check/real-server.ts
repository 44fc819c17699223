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
  const events: RealServerEvent[] = [];
  if (health.up && !next.up) {
    const reason = next.downReason!;
    events.push(reason.failure ? { type: 'down', checker: reason.checker, failure: reason.failure } : { type: 'down', checker: reason.checker });
  } else if (!health.up && next.up) {
    events.push({ type: 'up' });
  }
  if (effectiveWeight(next) !== effectiveWeight(health)) events.push({ type: 'weight', weight: effectiveWeight(next), previous: effectiveWeight(health) });
  return { health: next, events };
}
