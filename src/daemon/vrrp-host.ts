// layer: daemon (composition)
// job: open the VRRP side of a balancer in a worker thread (the default: VRRP timing isolated from the rest) or inline, behind one VrrpHost interface.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { InstanceTracking } from '../track/types.js';
import type { InstanceStatus, VrrpRunnerEvent } from '../vrrp/events.js';
import type { VrrpReconfigureResult } from '../vrrp/reconfigure.js';
import type { ThreadHeap } from './memory.js';
import { VrrpSide, type VrrpHost, type VrrpHostEvents, type VrrpInput, type VrrpSideOptions } from './vrrp-side.js';
import { errorFromWire, eventFromWire, type VrrpRequest, type VrrpWorkerData, type VrrpWorkerMessage } from './vrrp-wire.js';

/** `worker`: VRRP in a thread of its own (keepalived runs it in a process of its own for the same reason). `inline`: on the caller's thread. */
export type VrrpIsolation = 'worker' | 'inline';

/**
 * The VRRP worker thread's nice value. The thread sleeps nearly always; when a timer fires it must
 * run before the rest of the daemon, whose threads (the main thread with its checks and reloads,
 * the connection scanner, V8's garbage-collector helpers) may keep every CPU busy. At nice 0 the
 * scheduler let it wait ~20 ms behind them once in a few takeovers on one loaded CPU
 * (bench/daemon-failover.ts in user-mode Linux: 6 of 40 takeovers over the RFC bound + 20 ms);
 * at -20, none (worst 187 ms against 180.5 ms). keepalived's VRRP has a process of its own, and
 * `vrrp_priority` for the same purpose.
 */
export const VRRP_THREAD_NICE = -20;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Op = VrrpRequest extends infer R ? R extends { op: infer O } ? O : never : never;

/** The VRRP side in a worker thread, driven by messages. */
class WorkerVrrp extends EventEmitter<VrrpHostEvents> implements VrrpHost {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #stopping = false;

  private constructor(private readonly worker: Worker) {
    super();
  }

  static open(options: VrrpSideOptions, threadNice: number | null): Promise<WorkerVrrp> {
    const workerData: VrrpWorkerData = { ...options, ...(threadNice === null ? {} : { threadNice }) };
    const worker = new Worker(new URL('./vrrp-worker.js', import.meta.url), { workerData, stdout: false, stderr: false });
    const host = new WorkerVrrp(worker);
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the VRRP worker exited (${code}) before it was ready`));
      worker.once('exit', onExit);
      worker.once('error', reject);
      worker.on('message', (m: VrrpWorkerMessage) => {
        if (m.kind === 'ready') {
          worker.off('exit', onExit);
          worker.off('error', reject);
          host.#watch();
          resolve(host);
        } else if (m.kind === 'open-failed') {
          worker.off('exit', onExit);
          // The worker ends by itself once it has closed what it opened; terminating it while its
          // addon callbacks may still run aborted the process (napi_define_properties in teardown).
          const ended = new Promise<void>((done) => worker.once('exit', () => done()));
          const stuck = setTimeout(() => { void worker.terminate(); }, 2000);
          void ended.then(() => clearTimeout(stuck)).then(() => reject(errorFromWire(m.error)));
        } else {
          host.#receive(m);
        }
      });
    });
  }

  #watch(): void {
    this.worker.on('error', (error) => this.#fail(error));
    this.worker.on('exit', (code) => { if (!this.#stopping) this.#fail(new Error(`the VRRP worker thread exited (${code})`)); });
  }

  #fail(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.emit('failed', error);
  }

  #receive(m: VrrpWorkerMessage): void {
    if (m.kind === 'event') {
      this.emit('event', eventFromWire(m.event));
    } else if (m.kind === 'reply') {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error !== undefined) p?.reject(errorFromWire(m.error));
      else p?.resolve(m.value);
    }
  }

  #call<T>(op: Op, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, ...args });
    });
  }

  start(resume: readonly string[]): Promise<void> { return this.#call('start', { resume: [...resume] }); }
  reconfigure(input: VrrpInput): Promise<VrrpReconfigureResult> { return this.#call('reconfigure', { input }); }
  status(): Promise<InstanceStatus[]> { return this.#call('status'); }
  releaseOnSignal(signals: readonly NodeJS.Signals[]): Promise<void> { return this.#call('releaseOnSignal', { signals: [...signals] }); }
  track(tracking: Record<string, InstanceTracking>): Promise<void> { return this.#call('track', { tracking }); }
  memory(gc = false): Promise<ThreadHeap> { return this.#call('memory', { gc }); }

  async stop(release: boolean): Promise<void> {
    try {
      await this.#call('stop', { release });
    } finally {
      this.#stopping = true;
      await this.worker.terminate();
    }
  }
}

/**
 * Open the VRRP side: validated and its sockets open, no instance started. Rejects (having sent
 * nothing) when the input cannot run. In a worker thread (the default) the thread raises itself to
 * `threadNice` (default VRRP_THREAD_NICE; null: left as it is), or says why it could not in a
 * `warning` event; inline, nothing changes the caller's thread.
 */
export async function openVrrp(options: VrrpSideOptions & { isolation?: VrrpIsolation; threadNice?: number | null }): Promise<VrrpHost> {
  const { isolation, threadNice, ...side } = options;
  if (isolation === 'inline' || options.instances.length === 0) return VrrpSide.open(side);
  return WorkerVrrp.open(side, threadNice === undefined ? VRRP_THREAD_NICE : threadNice);
}

export type { VrrpHost, VrrpInput, VrrpRunnerEvent };
