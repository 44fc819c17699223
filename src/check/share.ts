// layer: behaviour (check)
// job: probe sharing: identical checks (same kind, target, parameters and timing) run once in the scheduler and every subscriber gets each attempt.
import type { CheckerState } from './retry.js';
import { INITIAL_CHECKER_STATE } from './retry.js';
import type { AttemptReport, CheckScheduler, ScheduledCheck } from './scheduler.js';
import { scheduledCheck } from './probe.js';
import type { CheckConfig } from './types.js';

/** JSON with object keys sorted (undefined members left out), so equal settings give equal text whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The identity of a check: its kind, target and every parameter (timing included, since one probe
 * runs on one schedule). Checks with equal keys share one probe.
 */
export function checkKey(config: CheckConfig): string {
  return `${config.kind} ${canonicalJson(config)}`;
}

/** Called with the report of each attempt of a shared check. */
export type AttemptListener = (report: AttemptReport) => void;

/** A subscriber's handle on a shared check. */
export interface CheckSubscription {
  key: string;
  /** The check's state when subscribing (a later subscriber starts from the verdict already made). */
  state: CheckerState;
  unsubscribe(): void;
}

interface Shared {
  listeners: Set<AttemptListener>;
}

/**
 * Shares probes among subscribers. The first subscriber of a key adds the check to the scheduler;
 * the last one to leave removes it.
 */
export class SharedChecks {
  readonly #shared = new Map<string, Shared>();

  readonly #toScheduled: (config: CheckConfig) => ScheduledCheck;
  readonly #onAttempt: ((key: string, report: AttemptReport) => void) | undefined;

  /**
   * `toScheduled` turns a config into what the scheduler runs (default: its real probe);
   * `onAttempt` sees each attempt once, before the subscribers.
   */
  constructor(private readonly scheduler: CheckScheduler, options: {
    toScheduled?: (config: CheckConfig) => ScheduledCheck;
    onAttempt?: (key: string, report: AttemptReport) => void;
  } = {}) {
    this.#toScheduled = options.toScheduled ?? scheduledCheck;
    this.#onAttempt = options.onAttempt;
  }

  /** Checks running (distinct keys). */
  get size(): number {
    return this.#shared.size;
  }

  /** Subscribers of `key`. */
  subscribers(key: string): number {
    return this.#shared.get(key)?.listeners.size ?? 0;
  }

  subscribe(config: CheckConfig, listener: AttemptListener): CheckSubscription {
    const key = checkKey(config);
    let shared = this.#shared.get(key);
    if (!shared) {
      const created: Shared = { listeners: new Set() };
      shared = created;
      this.#shared.set(key, created);
      this.scheduler.add(key, this.#toScheduled(config), (report) => {
        this.#onAttempt?.(key, report);
        for (const l of created.listeners) l(report);
      });
    }
    // A distinct function per subscription, so one listener may subscribe twice.
    const own: AttemptListener = (report) => listener(report);
    shared.listeners.add(own);
    const state = this.scheduler.status(key)?.state ?? INITIAL_CHECKER_STATE;
    let active = true;
    return {
      key,
      state,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        const s = this.#shared.get(key);
        if (!s) return;
        s.listeners.delete(own);
        if (s.listeners.size === 0) {
          this.#shared.delete(key);
          this.scheduler.remove(key);
        }
      },
    };
  }
}
