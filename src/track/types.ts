// layer: behaviour (track)
// job: what the VRRP trackers run and report: vrrp_script and track_file specs, the uses instances make of them, their states.
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

/** One use of a tracker by an instance: its weight (0: FAULT) and direction. */
export interface TrackerUse {
  kind: 'script' | 'file';
  name: string;
  weight: number;
  reverse: boolean;
}

/** Everything the trackers of a configuration run, and what each VRRP instance tracks. */
export interface TrackingConfig {
  scripts: TrackScriptSpec[];
  files: TrackFileSpec[];
  /** By instance name: the trackers it uses (its own, and its sync group's). */
  instances: Record<string, TrackerUse[]>;
  /** `enable_script_security`: a script a non-root user can change is disabled. */
  scriptSecurity: boolean;
}

/** A script's state: no result yet, OK, failed, or never run (disabled: not found, not executable, insecure). */
export type ScriptState = 'init' | 'ok' | 'failed' | 'disabled';

/** What status shows of one tracker. */
export interface TrackerStatus {
  kind: 'script' | 'file';
  name: string;
  /** Scripts: their state. Files: 'ok' (a value read; 0 when the file is missing). */
  state: ScriptState;
  /** Files: the number the file holds. */
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
  | { type: 'tracker'; kind: 'script' | 'file'; name: string; state: ScriptState; value?: number; reason?: string; location?: SourceLocation }
  | { type: 'tracker-error'; kind: 'script' | 'file'; name: string; message: string; location?: SourceLocation; error?: Error };
