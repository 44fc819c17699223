// layer: daemon (composition)
// job: open the VRRP side of a balancer in a worker thread (the default: VRRP timing isolated from the rest) or inline, behind one VrrpHost interface.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { InstanceStatus, VrrpRunnerEvent } from '../vrrp/events.js';
import type { VrrpReconfigureResult } from '../vrrp/reconfigure.js';
import { VrrpSide, type VrrpHost, type VrrpHostEvents, type VrrpInput, type VrrpSideOptions } from './vrrp-side.js';
import { errorFromWire, eventFromWire, type VrrpRequest, type VrrpWorkerMessage } from './vrrp-wire.js';

/** `worker`: VRRP in a thread of its own (keepalived runs it in a process of its own for the same reason). `inline`: on the caller's thread. */
export type VrrpIsolation = 'worker' | 'inline';

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

  static open(options: VrrpSideOptions): Promise<WorkerVrrp> {
    const worker = new Worker(new URL('./vrrp-worker.js', import.meta.url), { workerData: options, stdout: false, stderr: false });
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

  async stop(release: boolean): Promise<void> {
    try {
      await this.#call('stop', { release });
    } finally {
      this.#stopping = true;
      await this.worker.terminate();
    }
  }
}

/** Open the VRRP side: validated and its sockets open, no instance started. Rejects (having sent nothing) when the input cannot run. */
export async function openVrrp(options: VrrpSideOptions & { isolation?: VrrpIsolation }): Promise<VrrpHost> {
  const { isolation, ...side } = options;
  if (isolation === 'inline' || options.instances.length === 0) return VrrpSide.open(side);
  return WorkerVrrp.open(side);
}

export type { VrrpHost, VrrpInput, VrrpRunnerEvent };
