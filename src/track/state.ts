// layer: behaviour (track), pure
// job: keepalived's tracking rules as pure functions: a vrrp_script's rise/fall counter, and an instance's FAULT and weight from its trackers' states.
import type { InstanceTracking, ScriptState, TrackerKind, TrackerUse, TrackScriptSpec } from './types.js';

/** The configuration block that defines each kind of tracker (for messages and status). */
export const TRACKER_BLOCK: Readonly<Record<TrackerKind, string>> = { script: 'vrrp_script', file: 'track_file', process: 'vrrp_track_process' };

/**
 * A vrrp_script's result counter as keepalived keeps it (vrrp_scheduler.c): 0..rise-1 is failed,
 * rise..rise+fall-1 is OK. `init`: no result yet (keepalived's SCRIPT_INIT_STATE_INIT).
 */
export interface ScriptCounter {
  result: number;
  init: boolean;
}

/** At start: one success is enough (result rise-1), or with init_fail, failed until `rise` successes. */
export function initialCounter(spec: Pick<TrackScriptSpec, 'rise' | 'initFail'>): ScriptCounter {
  return spec.initFail ? { result: 0, init: false } : { result: spec.rise - 1, init: true };
}

/** A vrrp_script's state from its rise/fall counter: `init` until its first result decides, then `ok` or `failed`. */
export function counterState(c: ScriptCounter, spec: Pick<TrackScriptSpec, 'rise'>): Exclude<ScriptState, 'disabled'> {
  if (c.init) return 'init';
  return c.result >= spec.rise ? 'ok' : 'failed';
}

/**
 * One result. A success below rise-1 counts up; at rise-1 or above it jumps to OK's top
 * (rise+fall-1). A failure above rise counts down; at rise or below it drops to 0 (failed). While
 * `init`, the first result decides.
 */
export function recordResult(c: ScriptCounter, ok: boolean, spec: Pick<TrackScriptSpec, 'rise' | 'fall'>): ScriptCounter {
  if (ok) {
    if (c.result < spec.rise - 1) return { result: c.result + 1, init: false };
    return { result: spec.rise + spec.fall - 1, init: false };
  }
  if (c.result > spec.rise) return { result: c.result - 1, init: false };
  return { result: 0, init: false };
}

/** What a tracker is now, as the combination reads it. */
export type TrackerReading =
  | { kind: 'script'; state: ScriptState }
  | { kind: 'file'; value: number }
  /** A vrrp_track_process: whether its quorum holds (its rules are a script's, OK meaning the quorum). */
  | { kind: 'process'; ok: boolean };

/** keepalived's bound of a tracked file's weighted value: at or below -254 the instance is in FAULT; above 253 it counts 253. */
const FILE_FAULT = -254;
const FILE_MAX = 253;

/**
 * One use's part: weight 0 means FAULT while failing (reversed: while OK; a file: while non-zero,
 * reversed: while zero); a positive weight is added while OK, a negative one while failing, each
 * negated by `reverse` (a process is OK while its quorum holds). A file adds value × weight (× −1 reversed). A script with no result yet or
 * disabled counts nothing (keepalived drops a disabled script from the instances that track it).
 */
export function useTracking(use: TrackerUse, reading: TrackerReading | undefined): InstanceTracking {
  const m = use.reverse ? -1 : 1;
  if (!reading) return { fault: false, weight: 0 };
  if (reading.kind === 'file') {
    if (use.weight === 0) return { fault: (reading.value !== 0) === !use.reverse, weight: 0 };
    const status = reading.value * use.weight * m;
    if (status <= FILE_FAULT) return { fault: true, weight: 0 };
    return { fault: false, weight: status === 0 ? 0 : Math.min(status, FILE_MAX) };
  }
  if (reading.kind === 'script' && reading.state !== 'ok' && reading.state !== 'failed') return { fault: false, weight: 0 };
  const ok = reading.kind === 'process' ? reading.ok : reading.state === 'ok';
  if (use.weight === 0) return { fault: ok === use.reverse, weight: 0 };
  const w = ok ? Math.max(use.weight, 0) : Math.min(use.weight, 0);
  return { fault: false, weight: w === 0 ? 0 : w * m };
}

/** An instance's tracking from every tracker it uses: FAULT if any says so, the weights summed. */
export function instanceTracking(uses: readonly TrackerUse[], reading: (use: TrackerUse) => TrackerReading | undefined): InstanceTracking {
  let fault = false;
  let weight = 0;
  for (const use of uses) {
    const t = useTracking(use, reading(use));
    fault ||= t.fault;
    weight += t.weight;
  }
  return { fault, weight };
}

/**
 * The number a tracked file holds, read as keepalived reads it (strtol base 0: leading blanks, a
 * sign, 0x hex, 0 octal; digits up to the first other character; none → 0). Outside the 32-bit
 * range: undefined (keepalived ignores that content and keeps the last value).
 */
export function parseTrackFileValue(text: string): number | undefined {
  const m = /^[\s]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?/.exec(text);
  const digits = m?.[2];
  if (!digits) return 0;
  const magnitude = /^0[xX]/.test(digits) ? Number.parseInt(digits.slice(2), 16) : digits.startsWith('0') ? Number.parseInt(digits, 8) : Number(digits);
  const value = m?.[1] === '-' ? -magnitude : magnitude;
  if (value < -(2 ** 31) || value > 2 ** 31) return undefined;
  return value;
}
