// layer: native boundary
// job: glibc malloc from TypeScript: its statistics (mallinfo2), malloc_trim and the arena limit, typed (native/malloc_stats.cc).
import { binding, type MallocInfo, type NativeBinding } from './binding.js';

export type { MallocInfo };

/** mallinfo2(3) summed over every arena, in bytes; empty where the C library has none (musl, glibc < 2.33), or where malloc is not glibc's (an addon built with AddressSanitizer). */
export function mallocInfo(native: Pick<NativeBinding, 'mallocInfo'> = binding()): Partial<MallocInfo> {
  return native.mallocInfo();
}

/**
 * malloc_trim(3): give the kernel back the free pages of every arena (the main heap's top beyond
 * `padBytes`, and whole free pages inside each arena). True when some memory went back.
 */
export function mallocTrim(padBytes = 0, native: Pick<NativeBinding, 'mallocTrim'> = binding()): boolean {
  if (!Number.isSafeInteger(padBytes) || padBytes < 0) throw new RangeError(`padBytes: a whole number of bytes, 0 or more, got ${padBytes}`);
  return native.mallocTrim(padBytes);
}

/**
 * mallopt(M_ARENA_MAX, arenas): at most this many arenas from now on. glibc fixes its limit when it
 * first needs more than 8 arenas, so this takes effect when called early, before the process's
 * threads have made that many; threads without an arena then share the existing ones.
 */
export function mallocArenaMax(arenas: number, native: Pick<NativeBinding, 'mallocArenaMax'> = binding()): boolean {
  if (!Number.isInteger(arenas) || arenas < 1) throw new RangeError(`arenas: an integer, 1 or more, got ${arenas}`);
  return native.mallocArenaMax(arenas);
}
