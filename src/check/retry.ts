// layer: behaviour (check)
// job: keepalived's retry rule as a pure step: after each attempt, the checker's state, the delay to the next attempt, and a verdict when the state changes.
import type { CheckResult, CheckTiming } from './types.js';

/** A checker's verdict so far. `up` is undefined until the first verdict. */
export interface CheckerState {
  up: boolean | undefined;
  /** Failed attempts since the last verdict (keepalived's `retry_it`). */
  retryIt: number;
  /** The weight a dynamic MISC_CHECK last reported. */
  weight: number | undefined;
}

/** A checker's state before its first attempt: no verdict yet. */
export const INITIAL_CHECKER_STATE: CheckerState = { up: undefined, retryIt: 0, weight: undefined };

/** What follows an attempt. `verdict` is present when `up` or the dynamic weight changed. */
export interface RetryStep {
  state: CheckerState;
  delayMs: number;
  /** True when this attempt was a failure that will be retried (delay = delay_before_retry). */
  retrying: boolean;
  verdict?: { up: boolean; weight: number | undefined };
}

/**
 * keepalived's rule (check_tcp.c `tcp_epilog`, the same in every checker): a success is UP at once
 * and the next attempt is after delay_loop. A failure of a checker that is UP, or has no verdict
 * yet, is retried `retry` times `delay_before_retry` apart; when the last retry fails it is DOWN.
 * A DOWN checker is simply tried again after delay_loop.
 */
export function retryStep(state: CheckerState, result: CheckResult, timing: CheckTiming): RetryStep {
  if (result.ok) {
    const weight = result.weight ?? state.weight;
    const next: CheckerState = { up: true, retryIt: 0, weight };
    const changed = state.up !== true || weight !== state.weight;
    return { state: next, delayMs: timing.delayLoopMs, retrying: false, ...(changed ? { verdict: { up: true, weight } } : {}) };
  }
  if (state.up === false) return { state: { ...state, retryIt: 0 }, delayMs: timing.delayLoopMs, retrying: false };
  if (state.retryIt >= timing.retry) {
    return { state: { up: false, retryIt: 0, weight: state.weight }, delayMs: timing.delayLoopMs, retrying: false, verdict: { up: false, weight: state.weight } };
  }
  return { state: { ...state, retryIt: state.retryIt + 1 }, delayMs: timing.delayBeforeRetryMs, retrying: true };
}
