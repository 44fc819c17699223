// layer: daemon (composition), inside a worker thread
// job: the VRRP side in a thread of its own: adverts and takeovers keep their timing whatever the balancer's main thread is busy with.
import { parentPort, workerData } from 'node:worker_threads';
import type { VrrpRunnerEvent } from '../vrrp/events.js';
import { VrrpSide, type VrrpSideOptions } from './vrrp-side.js';
import { toWire, type VrrpRequest, type VrrpWorkerMessage } from './vrrp-wire.js';

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
    case 'releaseOnSignal': return side.releaseOnSignal(request.signals);
    case 'stop': return side.stop(request.release);
  }
}

try {
  const side = await VrrpSide.open(workerData as VrrpSideOptions);
  side.on('event', (event: VrrpRunnerEvent) => post({ kind: 'event', event: toWire(event) as VrrpRunnerEvent }));
  port.on('message', (request: VrrpRequest) => {
    handle(side, request).then(
      (value) => post({ kind: 'reply', id: request.id, value }),
      (error: unknown) => post({ kind: 'reply', id: request.id, error: toWire(error) }),
    );
  });
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'open-failed', error: toWire(error) });
}
