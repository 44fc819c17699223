// layer: benchmarks
// job: what a running `lvskit run` says of its memory (`memory` on its control socket: V8 heaps per thread, malloc, trims), flattened to KiB figures and to one log line.
import { controlRequest } from '../src/daemon/control.js';
import type { MemoryReport } from '../src/daemon/memory.js';

export type DaemonMemory = MemoryReport;

/** The daemon's report; undefined where it does not answer `memory` (builds before it). `gc`: a full GC first (node with --expose-gc). */
export async function readDaemonMemory(control: string, gc = false): Promise<DaemonMemory | undefined> {
  return await controlRequest(control, { command: 'memory', gc }, 5000).catch(() => undefined) as DaemonMemory | undefined;
}

const kib = (n: number | undefined): number => Math.round((n ?? 0) / 1024);

/** The report as flat KiB figures: malloc's, and per thread its heap committed/used/code and each space's committed size. */
export function memoryFigures(r: DaemonMemory): Record<string, number> {
  const out: Record<string, number> = {
    ...(r.mallocTrims ? { trims: r.mallocTrims.trims, trimMs: r.mallocTrims.totalMs } : {}),
    mallocArena: kib(r.malloc.arenaBytes), mallocInUse: kib(r.malloc.inUseBytes), mallocFree: kib(r.malloc.freeBytes), mallocMmapped: kib(r.malloc.mmappedBytes),
  };
  for (const [thread, h] of Object.entries(r.heaps)) {
    out[`${thread}Committed`] = kib(h.committedBytes);
    out[`${thread}Used`] = kib(h.usedBytes);
    out[`${thread}Code`] = kib(h.codeBytes);
    for (const [space, s] of Object.entries(h.spaces)) if (s.committedBytes > 0) out[`${thread}.${space}`] = kib(s.committedBytes);
  }
  return out;
}

const mib = (n: number | undefined): string => ((n ?? 0) / 1048576).toFixed(1);

/** One line, MiB: each thread's heap (committed, used, code, new space), malloc (arenas, in use, free, mmap'd), trims. */
export function memoryLine(r: DaemonMemory): string {
  const heaps = Object.entries(r.heaps).map(([t, h]) => `${t} heap ${mib(h.committedBytes)} (used ${mib(h.usedBytes)}, code ${mib(h.codeBytes)}, new ${mib(h.spaces.new_space?.committedBytes)})`);
  const m = r.malloc;
  const trims = r.mallocTrims ? `; ${r.mallocTrims.trims} trims, ${r.mallocTrims.totalMs.toFixed(1)} ms in all` : '';
  return `MiB: ${heaps.join(', ')}, malloc arenas ${mib(m.arenaBytes)} (in use ${mib(m.inUseBytes)}, free ${mib(m.freeBytes)}), mmap'd ${mib(m.mmappedBytes)}${trims}`;
}
