// layer: shared (all layers)
// job: named events of an EventEmitter as one async iterator: subscribed at the call, buffered in order, ended by 'close' or an AbortSignal.
import type { EventEmitter } from 'node:events';
import { Fifo } from './fifo.js';

/**
 * Every `names` event of `emitter` from now on, each made into one value by `toEvent(name, arg)`,
 * in order. Ends (after what is buffered) when the emitter emits 'close', when `signal` aborts, or
 * at once when `closed`; listeners are removed when the iteration ends.
 */
export function eventStream<T>(
  emitter: EventEmitter, names: readonly string[], toEvent: (name: string, arg: unknown) => T,
  options: { signal?: AbortSignal; closed?: boolean } = {},
): AsyncGenerator<T> {
  const queue = new Fifo<T>();
  let wake: (() => void) | undefined;
  let done = options.closed ?? false;
  const listeners = names.map((name) => {
    const fn = (arg: unknown): void => { queue.push(toEvent(name, arg)); wake?.(); };
    emitter.on(name, fn);
    return [name, fn] as const;
  });
  const unsubscribe = (): void => {
    for (const [name, fn] of listeners) emitter.off(name, fn);
    emitter.off('close', end);
    options.signal?.removeEventListener('abort', end);
  };
  // Nothing after the end is buffered: the listeners go at once, not when the reader next resumes.
  function end(): void {
    done = true;
    unsubscribe();
    wake?.();
  }
  emitter.once('close', end);
  options.signal?.addEventListener('abort', end, { once: true });
  if (done) unsubscribe();
  return (async function* iterate(): AsyncGenerator<T> {
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as T;
        if (done) return;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  })();
}
