// layer: daemon (process-wide state)
// job: V8's heap as `lvskit run` sets it: the old generation grown in small steps (V8's memory-saving mode), so that a long-running daemon's committed heap stays near what it holds.

/**
 * Why: V8 lets a heap allocate up to a limit set at each major collection: what survived plus
 * at least 8 MiB (or a factor of up to 4), plus the young generation. A daemon promotes little, so
 * its heap takes tens of minutes to fill that step, and its RSS climbs all that time: in the soak,
 * the main isolate's committed heap went from 14 to 22 MiB in 20 minutes while what it retained
 * stayed at 14–16 MiB (docs/reliability.md § Soak). `--optimize-for-size` puts V8's heap in its
 * conservative mode (a step of 2 MiB, a factor of at most 1.3) and `--heap-growing-percent`
 * sets the factor; both are read at each collection, so setting them at run time works, for the
 * main isolate and the VRRP worker's alike. The cost is more frequent major collections of a
 * small heap (milliseconds each, on the main thread; VRRP's adverts are sent from the worker).
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--optimize-for-size', '--heap-growing-percent=15'];

/** The flags this process set (`lvskit status --memory`); empty with --no-heap-tuning or when node's options gave their own. */
let applied: readonly string[] = [];

/** Applies the daemon's V8 flags unless NODE_OPTIONS or node's own command line already set heap flags; true when applied. */
export function tuneV8Heap(execArgv: readonly string[], env: NodeJS.ProcessEnv, setFlags: (flags: string) => void): boolean {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => /^--(no-)?(optimize[-_]for[-_]size|heap[-_]growing[-_]percent)/.test(a))) return false;
  for (const flag of DAEMON_V8_FLAGS) setFlags(flag);
  applied = DAEMON_V8_FLAGS;
  return true;
}

/** What tuneV8Heap set in this process. */
export function appliedV8HeapFlags(): readonly string[] {
  return applied;
}
