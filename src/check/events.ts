// layer: behaviour (check)
// job: what HealthChecks reports: its typed events and its status snapshot.
import type { ProgramOutcome } from './process.js';
import type { RealServerEvent } from './real-server.js';
import type { CheckerState } from './retry.js';
import type { AttemptReport, OverdueReport, SchedulerStats } from './scheduler.js';
import type { SinkOp } from './sink.js';
import type { CheckFailure, CheckKind, CheckResult } from './types.js';

/** A real server of a virtual server went UP or DOWN, or its weight changed. */
export interface RealServerChange {
  vs: string;
  rs: string;
  event: RealServerEvent;
}

/** Quorum gained or lost (`weight` = sum of weights of UP real servers; `threshold` = what was crossed). */
export interface QuorumChange {
  vs: string;
  up: boolean;
  weight: number;
  threshold: number;
}

/** The sorry server was put in or taken out of the service (keepalived's `sorry_server`). */
export interface SorryServerChange {
  vs: string;
  active: boolean;
  /** `address:port`. */
  destination: string;
}

/** A sink operation that succeeded. */
export interface AppliedOp {
  vs: string;
  op: SinkOp;
}

/** A sink operation that failed; the change is retried with the next one (or `resync()`). */
export interface SinkFailure {
  vs: string;
  op: SinkOp;
  error: unknown;
}

/**
 * `replace()` changed a virtual server's settings (`address:port` of the real servers added,
 * removed, and kept with new settings). What follows from it comes as the usual events.
 */
export interface VirtualServerReplaced {
  vs: string;
  added: string[];
  removed: string[];
  changed: string[];
  /** quorum, hysteresis, sorry_server or sorry_server_inhibit changed. */
  policyChanged: boolean;
}

/** A notify or quorum script ended. */
export interface ScriptRun {
  /** `quorum_up`, `quorum_down`, `notify_up`, `notify_down`. */
  kind: 'quorum_up' | 'quorum_down' | 'notify_up' | 'notify_down';
  vs: string;
  rs?: string;
  argv: string[];
  outcome: ProgramOutcome;
}

/** One attempt of a (possibly shared) check. */
export interface CheckAttempt {
  key: string;
  report: AttemptReport;
}

/**
 * A failed attempt as one real server of one virtual server sees it: a check shared by several
 * real servers reports its failure once to each (for counters by service; `attempt` is per probe).
 */
export interface AttemptFailure {
  vs: string;
  rs: string;
  /** The shared check's key. */
  key: string;
  failure: CheckFailure;
  /** The failure will be retried before a verdict. */
  retrying: boolean;
}

/** Events of `HealthChecks` (its `on()` names and their arguments). */
export interface HealthCheckEvents {
  'real-server': [RealServerChange];
  quorum: [QuorumChange];
  'sorry-server': [SorryServerChange];
  applied: [AppliedOp];
  'sink-error': [SinkFailure];
  replaced: [VirtualServerReplaced];
  attempt: [CheckAttempt];
  /** Emitted only while someone listens (one per subscriber of a failed attempt); not in HEALTH_CHECK_EVENT_NAMES. */
  'attempt-failed': [AttemptFailure];
  overdue: [OverdueReport];
  recovered: [OverdueReport];
  script: [ScriptRun];
  /** After stop(). */
  close: [];
}

/** Names of the `HealthChecks` events that `events()` follows. */
export const HEALTH_CHECK_EVENT_NAMES = [
  'real-server', 'quorum', 'sorry-server', 'applied', 'sink-error', 'replaced', 'attempt', 'overdue', 'recovered', 'script',
] as const satisfies readonly (keyof HealthCheckEvents)[];

type Named = (typeof HEALTH_CHECK_EVENT_NAMES)[number];
/** Any event, tagged with its name (what `events()` yields). */
export type HealthCheckEvent = { [K in Named]: { type: K } & HealthCheckEvents[K][0] }[Named];

/** One checker's state as `HealthChecks.status()` reports it. */
export interface CheckerStatus {
  kind: CheckKind;
  /** The shared check's key (equal keys: one probe). */
  key: string;
  up: boolean;
  state?: CheckerState;
  /** Not finished in time: a hung or starved checker. */
  overdue: boolean;
  attempts: number;
  last?: CheckResult;
}

/** One real server's state in `HealthStatus`: up or down, weight, and why. */
export interface RealServerStatus {
  id: string;
  up: boolean;
  /** The weight it has when UP (configured, or set by misc_dynamic). */
  weight: number;
  /** The weight in the kernel as last applied; undefined: absent. */
  appliedWeight?: number;
  downReason?: { checker: string; failure?: CheckFailure };
  checkers: CheckerStatus[];
}

/** One virtual server's state in `HealthStatus`: quorum, sorry server, real servers. */
export interface VirtualServerStatus {
  id: string;
  quorumUp: boolean;
  /** Sum of weights of UP real servers. */
  liveWeight: number;
  /** The live weight that would flip the quorum next. */
  threshold: number;
  sorryActive: boolean;
  realServers: RealServerStatus[];
}

/** The state of every virtual server (with its real servers and checkers) and of the scheduler, as `HealthChecks.status()` returns it. */
export interface HealthStatus {
  virtualServers: VirtualServerStatus[];
  scheduler: SchedulerStats;
}
