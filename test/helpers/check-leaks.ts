// layer: test helpers (kernel tier)
// job: what a check may leave behind — open file descriptors, live handles and timers, child processes — snapshotted and compared.
import fs from 'node:fs';
import type { ExecutionContext } from 'ava';

export interface Resources {
  fds: number;
  /** process.getActiveResourcesInfo() counted by kind (TCPSocketWrap, Timeout, ProcessWrap, ...). */
  handles: Record<string, number>;
  /** Pids whose parent is this process. */
  children: number[];
}

/** Pids of this process's children (any state, zombies included). */
export function childPids(parent = process.pid): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** A process's state letter (R, S, Z, ...) and parent, or undefined when it does not exist. */
export function processState(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Requests in progress (a close, a connect being cancelled) are not resources: they end by themselves. */
const TRANSIENT = /Req$|^ConnectWrap$|^WriteWrap$|^ShutdownWrap$|^GetAddrInfo|^Immediate$/;

function now(): Resources {
  const handles: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (!TRANSIENT.test(kind)) handles[kind] = (handles[kind] ?? 0) + 1;
  return { fds: fs.readdirSync('/proc/self/fd').length, handles, children: childPids() };
}

/** The resources after letting pending closes finish (a few loop turns). */
export async function snapshot(): Promise<Resources> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return now();
}

/**
 * Waits (up to `withinMs`) for fds, handles and children to return to `before`, then asserts they
 * did. Closing is asynchronous (libuv closes handles on the next loop turn; servers see FIN later).
 */
export async function assertNoLeaks(t: ExecutionContext, before: Resources, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let current = await snapshot();
  const same = (a: Resources, b: Resources): boolean => a.fds === b.fds && JSON.stringify(a.children) === JSON.stringify(b.children)
    && JSON.stringify(Object.entries(a.handles).sort()) === JSON.stringify(Object.entries(b.handles).sort());
  while (!same(current, before) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    current = await snapshot();
  }
  t.deepEqual(current, before, 'no socket, timer or child process left behind');
}
