// layer: behaviour (check)
// job: one probe attempt's settle-once: a result given at most once, then its timer cleared, its abort listener removed and its own cleanup run (the socket closed).
import type { AttemptSignal } from './signal.js';

/** What a probe holds while its attempt runs. */
export interface Attempt<T> {
  /** Settle with `result`; later calls do nothing. Clears the timer, removes the abort listener, runs the cleanup, resolves. */
  finish(result: T): void;
  /** Whether the attempt has settled. */
  readonly done: boolean;
  /** (Re)arm the attempt's one timer: after `ms`, finish with `onTimeout()`. The previous timer is cleared; nothing is armed once settled. */
  arm(ms: number, onTimeout: () => T): void;
  /** Clear the timer without settling. */
  disarm(): void;
}

/** The results of an abort: while the attempt runs (`aborted`), and when the signal was aborted before it began (`alreadyAborted`, default `aborted`). */
export interface AbortResults<T> {
  aborted(): T;
  alreadyAborted?(): T;
}

/**
 * Run one attempt: `start` begins it (opens its socket, sends) and returns its cleanup, which runs
 * once when the attempt settles — also when `start` settles it before returning. An abort of
 * `signal` settles it with `results.aborted()`; a signal aborted already settles it with
 * `results.alreadyAborted()` without calling `start`. Resolves once, with the first result.
 */
export function runAttempt<T>(signal: AttemptSignal, results: AbortResults<T>, start: (attempt: Attempt<T>) => (() => void) | void): Promise<T> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve((results.alreadyAborted ?? results.aborted)());
    let done = false;
    let started = false;
    let timer: NodeJS.Timeout | undefined;
    let cleanup: (() => void) | void;
    const settle = (): void => {
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const finish = (result: T): void => {
      if (done) return;
      settle();
      if (started) cleanup?.();
      resolve(result);
    };
    const onAbort = (): void => finish(results.aborted());
    const attempt: Attempt<T> = {
      finish,
      get done() { return done; },
      arm(ms, onTimeout) {
        clearTimeout(timer);
        if (!done) timer = setTimeout(() => finish(onTimeout()), ms);
      },
      disarm() { clearTimeout(timer); },
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(attempt);
    } catch (error) {
      settle();
      throw error;
    }
    started = true;
    if (done) cleanup?.();
  });
}
