// layer: native boundary
// job: the calling thread's scheduling priority, raised for that thread alone (the VRRP worker thread), checked and typed.
import { binding, type NativeBinding } from './binding.js';

/**
 * Give the calling thread nice value `nice` (-20, the highest, to 19), and SCHED_RESET_ON_FORK so
 * that threads and processes it starts afterwards (a notify script) begin at nice 0 again. Only
 * this thread changes: Linux keeps nice per thread. Throws an ErrnoError when the kernel refuses
 * (EACCES: a lower nice needs CAP_SYS_NICE, or RLIMIT_NICE high enough).
 */
export function raiseThreadPriority(nice: number, native: Pick<NativeBinding, 'raiseThreadPriority'> = binding()): void {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new RangeError(`nice: an integer from -20 to 19, got ${nice}`);
  native.raiseThreadPriority(nice);
}
