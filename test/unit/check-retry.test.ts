// layer: tests (unit tier)
// job: keepalived's retry rule, step by step: UP at once on success, DOWN after `retry` failed retries, DOWN checkers not retried.
import test from 'ava';
import { INITIAL_CHECKER_STATE, retryStep, type CheckerState } from '../../src/check/retry.js';
import type { CheckResult, CheckTiming } from '../../src/check/types.js';
import { FAIL, OK } from '../helpers/check-clock.js';

const timing: CheckTiming = { delayLoopMs: 6000, retry: 2, delayBeforeRetryMs: 1000, warmupMs: 0 };

/** Runs `results` from the initial state; each row: [delayMs, verdict up or '-']. */
function run(results: CheckResult[], t: CheckTiming = timing, from: CheckerState = INITIAL_CHECKER_STATE): [number, boolean | '-'][] {
  let state = from;
  return results.map((r) => {
    const step = retryStep(state, r, t);
    state = step.state;
    return [step.delayMs, step.verdict ? step.verdict.up : '-'];
  });
}

test('first success: UP at once, next attempt after delay_loop', (t) => {
  t.deepEqual(run([OK, OK]), [[6000, true], [6000, '-']]);
});

test('failures of a server not yet checked are retried retry times delay_before_retry apart, then DOWN', (t) => {
  t.deepEqual(run([FAIL, FAIL, FAIL, FAIL]), [[1000, '-'], [1000, '-'], [6000, false], [6000, '-']]);
});

test('an UP checker that fails and recovers within its retries never goes DOWN', (t) => {
  t.deepEqual(run([OK, FAIL, FAIL, OK, FAIL]), [[6000, true], [1000, '-'], [1000, '-'], [6000, '-'], [1000, '-']]);
});

test('retry 0: the first failure is DOWN', (t) => {
  t.deepEqual(run([OK, FAIL], { ...timing, retry: 0 }), [[6000, true], [6000, false]]);
});

test('a DOWN checker is tried every delay_loop and is UP on its first success', (t) => {
  t.deepEqual(run([FAIL, FAIL, FAIL, FAIL, OK], { ...timing, retry: 2 }), [[1000, '-'], [1000, '-'], [6000, false], [6000, '-'], [6000, true]]);
});

test('misc_dynamic: a success with a new weight is a verdict even when already UP; the same weight is not', (t) => {
  let state = retryStep(INITIAL_CHECKER_STATE, { ok: true, weight: 5 }, timing).state;
  t.is(state.weight, 5);
  const same = retryStep(state, { ok: true, weight: 5 }, timing);
  t.is(same.verdict, undefined);
  const changed = retryStep(state, { ok: true, weight: 7 }, timing);
  t.deepEqual(changed.verdict, { up: true, weight: 7 });
  // exit 0 keeps the last dynamic weight (keepalived leaves it as set)
  state = retryStep(changed.state, { ok: true }, timing).state;
  t.is(state.weight, 7);
});
