// layer: daemon (composition), inside a worker thread
// job: the VRRP side in a thread of its own, raised above the process's other threads: adverts and takeovers keep their timing whatever the balancer's main thread is busy with.
import { parentPort, workerData } from 'node:worker_threads';
import type { VrrpRunnerEvent } from '../vrrp/events.js';
import { raiseThreadPriority } from '../native/thread.js';
import { threadHeap } from './memory.js';
import { VrrpSide, type VrrpSideEvent } from './vrrp-side.js';
import { toWire, type VrrpRequest, type VrrpWorkerData, type VrrpWorkerMessage } from './vrrp-wire.js';

const port = parentPort;
if (!port) throw new Error('vrrp-worker.js runs as a worker thread (see vrrp-host.ts)');

function post(message: VrrpWorkerMessage): void {
  port!.postMessage(message);
}

async function handle(side: VrrpSide, request: VrrpRequest): Promise<unknown> {
  switch (request.op) {
    case 'start': return side.start(request.resume);
    case 'reconfigure': return side.reconfigure(request.input);
    case 'status': return side.status();
    case 'memory': return threadHeap(request.gc);
    case 'releaseOnSignal': return side.releaseOnSignal(request.signals);
    case 'track': return side.track(request.tracking);
    case 'stop': return side.stop(request.release);
  }
}

/** Raise this thread (not the process) to `nice`; a warning event, for after `ready`, when the kernel refuses. */
function raisePriority(nice: number | undefined): VrrpRunnerEvent | undefined {
  if (nice === undefined) return undefined;
  try {
    raiseThreadPriority(nice);
    return undefined;
  } catch (error) {
    return { type: 'warning', message: `the VRRP thread stays at the process's priority: raising it to nice ${nice} failed (${(error as Error).message}); ` +
      'under CPU load its adverts and takeovers can be late', error: error as Error };
  }
}

try {
  const { threadNice, ...options } = workerData as VrrpWorkerData;
  const refused = raisePriority(threadNice);
  const side = await VrrpSide.open(options);
  side.on('event', (event: VrrpSideEvent) => post({ kind: 'event', event: toWire(event) as VrrpSideEvent }));
  port.on('message', (request: VrrpRequest) => {
    handle(side, request).then(
      (value) => post({ kind: 'reply', id: request.id, value }),
      (error: unknown) => post({ kind: 'reply', id: request.id, error: toWire(error) }),
    );
  });
  post({ kind: 'ready' });
  if (refused) post({ kind: 'event', event: toWire(refused) as VrrpSideEvent });
} catch (error) {
  post({ kind: 'open-failed', error: toWire(error) });
}
