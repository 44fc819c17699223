// layer: tests (unit tier, no privileges)
// job: raiseThreadPriority: the range is checked before the addon is called; the addon changes the calling thread's nice and no other thread's.
import test from 'ava';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { raiseThreadPriority } from '../../src/native/thread.js';

const threadModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/native/thread.js');

test('a nice outside -20..19, or not an integer, is refused before the addon is called', (t) => {
  const calls: number[] = [];
  const native = { raiseThreadPriority: (nice: number) => { calls.push(nice); } };
  for (const nice of [-21, 20, 2.5, Number.NaN]) t.throws(() => raiseThreadPriority(nice, native), { instanceOf: RangeError });
  raiseThreadPriority(-20, native);
  raiseThreadPriority(19, native);
  t.deepEqual(calls, [-20, 19]);
});

test('the addon lowers the calling thread\'s priority (nice 5: allowed without privileges) and leaves the main thread\'s', async (t) => {
  const before = os.getPriority();
  const code = `import { parentPort } from 'node:worker_threads'; import os from 'node:os';
import { raiseThreadPriority } from ${JSON.stringify(pathToFileURL(threadModule).href)};
raiseThreadPriority(5); parentPort.postMessage(os.getPriority());`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
  const inWorker = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  await worker.terminate();
  t.is(inWorker, 5, 'the worker thread: os.getPriority() (pid 0) reads the calling thread');
  t.is(os.getPriority(), before, 'the main thread is unchanged');
});
