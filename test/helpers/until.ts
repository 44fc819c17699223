// layer: tests (helpers)
// job: wait for a condition instead of a fixed time: poll it (or await an event) until it holds, with a deadline that names what never came.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves with the first truthy value of `probe` (called at once, then every `everyMs`), or
 * rejects after `timeoutMs` with `what` and the last value seen. A probe that throws is retried.
 */
export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs: number, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (performance.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}
