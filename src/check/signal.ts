// layer: behaviour (check)
// job: the abort signal an attempt gets: the part of AbortSignal probes use, and a light implementation the scheduler makes once per attempt.

/**
 * What a probe may ask of its signal. A DOM/Node AbortSignal is one; the scheduler passes a
 * lighter AttemptAbort (thousands of attempts a second make AbortController's cost show).
 */
export interface AttemptSignal {
  readonly aborted: boolean;
  /** `'deadline'` when the attempt ran past its bound, `'aborted'` when its check was removed. */
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A one-shot abort: listeners run once, in order, when `abort()` is first called. */
export class AttemptAbort implements AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.#listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.#listeners!.splice(i, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    for (const l of listeners ?? []) l();
  }
}
