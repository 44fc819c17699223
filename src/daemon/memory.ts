// layer: daemon (composition)
// job: where a daemon's memory is, as the process sees it: RSS, each thread's V8 heap by space (the main thread, the VRRP worker) and glibc malloc's arenas — `lvskit status --memory`.
import v8 from 'node:v8';
import { mallocInfo, type MallocInfo } from '../native/malloc.js';
import type { TrimStats } from './malloc-tuning.js';

/** One V8 space of a thread's heap, in bytes. */
export interface HeapSpace { committedBytes: number; usedBytes: number; physicalBytes: number }

/** A thread's V8 heap (its isolate), in bytes. */
export interface ThreadHeap {
  /** Committed by the heap (`total_heap_size`), of it resident (`total_physical_size`), and live (`used_heap_size`). */
  committedBytes: number;
  physicalBytes: number;
  usedBytes: number;
  /** Outside the heap's spaces: the isolate's malloc'd memory (`malloced_memory`) and ArrayBuffers and strings it counts as external. */
  mallocedBytes: number;
  externalBytes: number;
  /** Compiled code and its metadata (v8.getHeapCodeStatistics()). */
  codeBytes: number;
  /** Per space: new_space, old_space, code_space, large_object_space, ... */
  spaces: Record<string, HeapSpace>;
}

/** The process's memory (`lvskit status --memory`). */
export interface MemoryReport {
  /** process.memoryUsage(): resident set, and the main thread's heap and external memory. */
  rssBytes: number;
  /** V8 heaps per thread: `main`, and `vrrp` when VRRP runs in its worker thread. */
  heaps: Record<string, ThreadHeap>;
  /** glibc malloc over every arena (every thread's), native/malloc_stats.cc. */
  malloc: Partial<MallocInfo>;
  /** `lvskit run` (unless --no-malloc-tuning): the malloc_trim runs after bursts of reloads and transitions. */
  mallocTrims?: TrimStats;
  /** `lvskit run` (unless --no-heap-tuning): the V8 flags it set for its heaps (src/daemon/heap-tuning.ts). */
  v8HeapFlags?: readonly string[];
}

/** The calling thread's V8 heap; `gc`: after a full collection, where node runs with --expose-gc (a debugging aid, never done otherwise). */
export function threadHeap(gc = false): ThreadHeap {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (gc && collect) collect();
  const h = v8.getHeapStatistics();
  const code = v8.getHeapCodeStatistics();
  const spaces: Record<string, HeapSpace> = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    spaces[s.space_name] = { committedBytes: s.space_size, usedBytes: s.space_used_size, physicalBytes: s.physical_space_size };
  }
  return {
    committedBytes: h.total_heap_size, physicalBytes: h.total_physical_size, usedBytes: h.used_heap_size,
    mallocedBytes: h.malloced_memory, externalBytes: h.external_memory,
    codeBytes: code.code_and_metadata_size + code.bytecode_and_metadata_size, spaces,
  };
}

/** The whole report, the VRRP worker's heap given by the caller (it is read in that thread). */
export function memoryReport(vrrpHeap: ThreadHeap | undefined, gc = false): MemoryReport {
  const main = threadHeap(gc);
  return { rssBytes: process.memoryUsage.rss(), heaps: { main, ...(vrrpHeap ? { vrrp: vrrpHeap } : {}) }, malloc: mallocInfo() };
}
