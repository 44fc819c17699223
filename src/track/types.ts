// layer: behaviour (track)
// job: what the VRRP trackers run and report: vrrp_script, track_file and vrrp_track_process specs, the uses instances make of them, their states.
import type { SourceLocation } from '../config/diagnostics.js';

/** A `vrrp_script`: a program run every `intervalMs`, its exit status the result. */
export interface TrackScriptSpec {
  name: string;
  /** Program and arguments, run without a shell. */
  argv: string[];
  intervalMs: number;
  /** Killed (its process group) after this; counted as a failure. keepalived's default: the interval. */
  timeoutMs: number;
  /** Successes in a row from failed to OK (keepalived's default 1). */
  rise: number;
  /** Failures in a row from OK to failed (keepalived's default 1). */
  fall: number;
  /** `init_fail`: failed until it has succeeded `rise` times (default: the first result decides). */
  initFail: boolean;
  uid?: number;
  gid?: number;
  /** Where it was declared (for events and status). */
  location?: SourceLocation;
}

/** A `track_file`: a file holding a number, watched with inotify. */
export interface TrackFileSpec {
  name: string;
  path: string;
  /** `init_file [VALUE] [overwrite]`: written at start when the file is missing (or always, with overwrite). */
  init?: { value: number; overwrite: boolean };
  location?: SourceLocation;
}

/**
 * A `vrrp_track_process`: the processes matching a name (or command line), counted from a scan of
 * /proc and then the kernel's process events; OK while the count is in [quorum, quorumMax].
 */
export interface TrackProcessSpec {
  name: string;
  /** The process name (comm, at most 15 characters) or, with `fullCommand`, argv[0]. */
  process: string;
  /** Arguments after argv[0], compared by `paramMatch` (needs `fullCommand`). */
  params: string[];
  /** none: argv[0] alone; exact: the same arguments; partial: these leading arguments; initial: as partial, the last one may be a prefix. */
  paramMatch: 'none' | 'exact' | 'initial' | 'partial';
  /** Match /proc/PID/cmdline rather than the process name. */
  fullCommand: boolean;
  /** Fewest matching processes that are OK (0 with quorumMax 0: none may run). */
  quorum: number;
  /** Most matching processes that are OK (absent: no bound). */
  quorumMax?: number;
  /** A quorum gained by a fork counts after this (0: at once). */
  forkDelayMs: number;
  /** A quorum lost by an exit counts after this (0: at once). */
  terminateDelayMs: number;
  location?: SourceLocation;
}

/** The kinds of tracker src/track runs. */
export type TrackerKind = 'script' | 'file' | 'process';

/** One use of a tracker by an instance: its weight (0: FAULT) and direction. */
export interface TrackerUse {
  kind: TrackerKind;
  name: string;
  weight: number;
  reverse: boolean;
}

/** Everything the trackers of a configuration run, and what each VRRP instance tracks. */
export interface TrackingConfig {
  scripts: TrackScriptSpec[];
  files: TrackFileSpec[];
  /** vrrp_track_process blocks some instance tracks (absent: none). */
  processes?: TrackProcessSpec[];
  /** By instance name: the trackers it uses (its own, and its sync group's). */
  instances: Record<string, TrackerUse[]>;
  /** `enable_script_security`: a script a non-root user can change is disabled. */
  scriptSecurity: boolean;
}

/** A script's state: no result yet, OK, failed, or never run (disabled: not found, not executable, insecure). */
export type ScriptState = 'init' | 'ok' | 'failed' | 'disabled';

/** What status shows of one tracker. */
export interface TrackerStatus {
  kind: TrackerKind;
  name: string;
  /** Scripts: their state. Files: 'ok' (a value read; 0 when the file is missing). Processes: 'ok' with the quorum, 'failed' without, 'init' before the first scan, 'disabled' without process events. */
  state: ScriptState;
  /** Files: the number the file holds. Processes: how many matching processes run. */
  value?: number;
  /** Why the last result was a failure, or why the script is disabled. */
  reason?: string;
}

/** An instance's tracking from its trackers: FAULT, and the sum of the weights in effect. */
export interface InstanceTracking {
  fault: boolean;
  weight: number;
}

/** What a tracker reports when its result changes, or when it cannot run. */
export type TrackerEvent =
  | { type: 'tracker'; kind: TrackerKind; name: string; state: ScriptState; value?: number; reason?: string; location?: SourceLocation }
  | { type: 'tracker-error'; kind: TrackerKind; name: string; message: string; location?: SourceLocation; error?: Error };
