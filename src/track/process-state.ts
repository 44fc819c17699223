// layer: behaviour (track), pure
// job: keepalived's vrrp_track_process rules as pure functions: which process matches (name, command line, param_match), and the quorum with its fork and terminate delays (core/track_process.c).
import type { TrackProcessSpec } from './types.js';

/** What is known of one process: its name (comm) and, when read, its command line's words (argv). */
export interface ProcessIdentity {
  comm: string;
  argv?: readonly string[];
}

/**
 * Whether a process is one a vrrp_track_process counts. By name: its comm equals `process`. With
 * full_command: argv[0] equals `process`, then the parameters by param_match — exact: the same
 * words; partial: these leading words; initial: as partial, the last may be a prefix of its word.
 */
export function processMatches(spec: Pick<TrackProcessSpec, 'process' | 'params' | 'paramMatch' | 'fullCommand'>, who: ProcessIdentity): boolean {
  if (!spec.fullCommand) return who.comm === spec.process;
  const argv = who.argv;
  if (!argv || argv[0] !== spec.process) return false;
  if (spec.paramMatch === 'none') return true;
  const params = argv.slice(1);
  const want = spec.params;
  if (spec.paramMatch === 'exact') return params.length === want.length && want.every((w, i) => params[i] === w);
  if (params.length < want.length) return false;
  const last = want.length - 1;
  return want.every((w, i) => (spec.paramMatch === 'initial' && i === last ? (params[i] ?? '').startsWith(w) : params[i] === w));
}

/** A command line as /proc/PID/cmdline holds it (NUL-terminated words) → its words. */
export function parseCmdline(bytes: string): string[] {
  if (bytes === '') return [];
  const words = bytes.split('\0');
  if (words[words.length - 1] === '') words.pop();
  return words;
}

/** /proc/PID/stat → its name (between the first `(` and the last `)`) and whether it is a zombie; undefined when malformed. */
export function parseStat(text: string): { comm: string; zombie: boolean } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  return { comm: text.slice(open + 1, close), zombie: text[close + 2] === 'Z' };
}

/** A tracked process's quorum: how many match, whether the quorum holds as reported, and a delayed change pending. */
export interface ProcessQuorum {
  count: number;
  ok: boolean;
  /** A fork's gain waiting for fork_delay, or an exit's loss waiting for terminate_delay: settled at `dueMs`. */
  pending?: { kind: 'fork' | 'terminate'; dueMs: number };
}

/** Why the count changed: a fork of a counted process, an exec or a rename (comm) that makes or unmakes a match, an exit. */
export type ProcessCause = 'fork' | 'exec' | 'comm' | 'exit';

/** Whether `count` processes make the quorum: in [quorum, quorumMax]. */
export function inQuorum(spec: Pick<TrackProcessSpec, 'quorum' | 'quorumMax'>, count: number): boolean {
  return count >= spec.quorum && (spec.quorumMax === undefined || count <= spec.quorumMax);
}

/** At start, from the scan of /proc: the quorum as counted, nothing pending. */
export function initialQuorum(spec: Pick<TrackProcessSpec, 'quorum' | 'quorumMax'>, count: number): ProcessQuorum {
  return { count, ok: inQuorum(spec, count) };
}

/**
 * One process more (+1) or fewer (−1). Only a step across a bound of [quorum, quorumMax] changes the
 * state: a crossing cancels the opposite delay pending (the quorum then stands as counted), else a
 * gain by fork waits fork_delay and a loss by exit waits terminate_delay; an exec or rename counts
 * at once (keepalived's check_process, check_process_fork, check_process_termination).
 */
export function countChanged(spec: TrackProcessSpec, q: ProcessQuorum, delta: 1 | -1, cause: ProcessCause, nowMs: number): ProcessQuorum {
  const count = Math.max(0, q.count + delta);
  const now = inQuorum(spec, count);
  if (now === inQuorum(spec, q.count)) return { ...q, count };
  const opposite = delta > 0 ? 'terminate' : 'fork';
  if (q.pending?.kind === opposite) return { count, ok: now };
  if (delta > 0 && cause === 'fork' && spec.forkDelayMs > 0) return { count, ok: q.ok, pending: { kind: 'fork', dueMs: nowMs + spec.forkDelayMs } };
  if (delta < 0 && cause === 'exit' && spec.terminateDelayMs > 0) return { count, ok: q.ok, pending: { kind: 'terminate', dueMs: nowMs + spec.terminateDelayMs } };
  const { pending } = q;
  return { count, ok: now, ...(pending ? { pending } : {}) };
}

/** A pending delay at or past its time: the quorum as counted now. */
export function delayElapsed(spec: Pick<TrackProcessSpec, 'quorum' | 'quorumMax'>, q: ProcessQuorum, nowMs: number): ProcessQuorum {
  if (!q.pending || nowMs < q.pending.dueMs) return q;
  return { count: q.count, ok: inQuorum(spec, q.count) };
}

/**
 * A fresh count after events were lost (ENOBUFS) and /proc was read again: pending delays are
 * dropped; a gain counts at once, a loss waits terminate_delay (keepalived's reinitialise_track_processes).
 */
export function recounted(spec: TrackProcessSpec, q: ProcessQuorum, count: number, nowMs: number): ProcessQuorum {
  if (inQuorum(spec, count) === inQuorum(spec, q.count)) return { count, ok: q.pending ? inQuorum(spec, count) : q.ok };
  if (inQuorum(spec, count)) return { count, ok: true };
  if (spec.terminateDelayMs > 0) return { count, ok: q.ok, pending: { kind: 'terminate', dueMs: nowMs + spec.terminateDelayMs } };
  return { count, ok: false };
}
