// layer: daemon (composition)
// job: what a Balancer reports: its typed events (each subsystem's, tagged with its source, and the daemon's own), its status snapshot, a reload's result.
import type { AutobanEvent } from '../autoban/policy.js';
import type { AutobanRound } from '../autoban/runner.js';
import type { HealthCheckEvent, RealServerStatus } from '../check/events.js';
import type { Diagnostic, SourceLocation } from '../config/diagnostics.js';
import type { Op } from '../ipvs/plan.js';
import type { InstanceTracking, TrackerEvent, TrackerStatus } from '../track/types.js';
import type { InstanceStatus, VrrpRunnerEvent } from '../vrrp/events.js';
import type { VrrpReconfigureResult } from '../vrrp/reconfigure.js';
import type { AutobanStatus } from './autoban-side.js';
import type { SyncInterfaceEvent } from './sync-interface.js';

/** The health checks' part of a reload: virtual servers started, stopped, changed in place (their real servers' changes), unchanged. */
export interface ChecksReload {
  added: string[];
  removed: string[];
  changed: { id: string; changes: string[] }[];
  unchanged: number;
}

/**
 * An address, route or rule a reload removes or adds (static_ipaddress / static_routes /
 * static_rules, or an instance's virtual_routes / virtual_rules), named as its `net` event names it.
 */
export interface NetReloadChange {
  /** `static`, or the vrrp_instance whose virtual routes and rules these are. */
  owner: string;
  op: 'add' | 'remove';
  kind: 'route' | 'rule' | 'address';
  /** In `ip route` / `ip rule` / `ip addr` words. */
  what: string;
  /** A virtual route or rule of an instance that is not MASTER: the kernel is not touched now; the instance holds it for when it becomes MASTER. */
  deferred?: boolean;
}

/** What a reload changed (or, with dryRun, would change). */
export interface ReloadResult {
  dryRun: boolean;
  /** VRRP instances by what became of them (changed and replaced with the resolved fields that differ). */
  vrrp: VrrpReconfigureResult;
  /** The IPVS operations on services (and the real servers of added ones); the checks' own operations follow. */
  ipvs: Op[];
  checks: ChecksReload;
  /** IPVS operations the health checks made (weights, real servers added/removed), counted. */
  checkOps: number;
  /** Static addresses, routes and rules, then the virtual routes and rules of instances changed in place: removals first, as applied. */
  net: NetReloadChange[];
  /** The autoban was restarted with new settings, started, stopped, or left alone. */
  autoban: 'unchanged' | 'restarted' | 'started' | 'stopped';
  /** lvs_timeouts or the always-on sync daemons changed. */
  timeouts: boolean;
  daemons: boolean;
  warnings: Diagnostic[];
  durationMs: number;
  /**
   * Where the time went, ms from the start of the reload: the file read, parsed and converted
   * (`loaded`); the kernel's service list and the plan (`planned`); VRRP reconfigured (`vrrp`);
   * the changes applied: services, and the changed services' checks (`applied`); the drift pass
   * over every other service (`drift`). Absent in a dry run past `planned`.
   */
  phasesMs?: Partial<Record<'loaded' | 'planned' | 'vrrp' | 'applied' | 'drift', number>>;
}

/** Events of the daemon itself: started, reloaded, reload failed, configuration warnings, IPVS applied, drift repaired, stopping, stopped, errors. */
export type DaemonEvent =
  | { type: 'started'; pid: number; config: string; instances: string[]; services: number; ipvsOps: number; resumed: string[]; durationMs: number }
  /** `coalesced`: requests (SIGHUPs, `lvskit reload`) that arrived while this reload waited its turn and were answered by it. */
  | { type: 'reloaded'; result: ReloadResult; coalesced: number }
  | { type: 'reload-failed'; error: Error; diagnostics?: readonly Diagnostic[] }
  | { type: 'config-warning'; diagnostic: Diagnostic }
  | { type: 'ipvs-applied'; ops: Op[]; reason: 'start' | 'reload' }
  /** The wall clock was stepped by `stepMs` (negative: back); `wallMs` is the wall clock after the step. Timers run on the monotonic clock: nothing else follows from it. */
  | { type: 'clock-step'; stepMs: number; wallMs: number }
  /** The drift check found the kernel's table changed behind the daemon's back and put it back (see `driftCheckMs`). */
  | { type: 'drift-repaired'; ops: Op[]; recreated: string[]; checkOps: number }
  | { type: 'stopping'; mode: StopMode }
  | { type: 'stopped'; mode: StopMode }
  /** startup_script / shutdown_script finished (or could not start: `error`). */
  | { type: 'script'; which: 'startup' | 'shutdown'; argv: string[]; exitCode: number | null; signal: string | null; timedOut: boolean; error?: Error }
  /** `fatal`: the balancer cannot go on (its VRRP thread died): stop it. */
  | { type: 'error'; message: string; error?: Error; fatal?: boolean };

/** An autoban event: a decision of the policy, a full round, or a failure. */
export type AutobanBalancerEvent = AutobanEvent | ({ type: 'round' } & Omit<AutobanRound, 'observations'> & { observations: number })
  | { type: 'error'; error: Error } | { type: 'set-created'; set: string }
  /** static_blacklist written again after `failedWrites` failed writes (e.g. the disk was full). */
  | { type: 'blacklist-recovered'; file: string; bans: number; failedWrites: number };

/** Every event of a Balancer, tagged with the part that reported it. */
export type BalancerEvent =
  | ({ source: 'vrrp'; /** Where the setting a warning is about was written. */ location?: SourceLocation } & (VrrpRunnerEvent | SyncInterfaceEvent))
  | ({ source: 'checks' } & HealthCheckEvent)
  | ({ source: 'autoban' } & AutobanBalancerEvent)
  | ({ source: 'track' } & TrackerEvent)
  | ({ source: 'daemon' } & DaemonEvent);

/**
 * How a balancer stops. `graceful` (SIGTERM): priority 0, VIPs removed, IPVS services removed
 * (unless kept by option, as keepalived's --dont-release-ipvs). `restart`: nothing sent and nothing
 * removed — VIPs, IPVS table, sync daemons and bans stay, and the state is written down so that a
 * new `lvskit run` within the Master_Down_Interval resumes as MASTER with no transition anywhere.
 */
export type StopMode = 'graceful' | 'restart';

/**
 * The kernel's counters alone (of a TrafficView), as `lvskit top` differences them: connections,
 * packets and bytes in and out. A counter that goes down between two readings was reset (the entry
 * re-created) or, with 32-bit counters, wrapped.
 */
export interface TrafficCounters {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

/**
 * The kernel's traffic counters of a service or real server (IPVS stats, as `ipvsadm -Ln --stats`
 * and `--rate` show them), as numbers: exact up to 2^53. They start at 0 when the kernel entry is
 * made (a service or real server deleted and added again starts over).
 */
export interface TrafficView {
  /** Connections scheduled (`Conns`). */
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** The kernel's rate estimates (a 2 s estimator), per second. */
  connectionsPerSec: number;
  packetsInPerSec: number;
  packetsOutPerSec: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
}

/** The counters of a TrafficView (undefined stays undefined). */
export function trafficCounters(t: TrafficView | undefined): TrafficCounters | undefined {
  return t && { conns: t.connections, inPkts: t.packetsIn, outPkts: t.packetsOut, inBytes: t.bytesIn, outBytes: t.bytesOut };
}

/** A real server as status shows it: health from the checks, weight, connections and traffic from the kernel. */
export interface RealServerView extends Partial<RealServerStatus> {
  address: string;
  port: number;
  /** The weight in the kernel (absent: not in the table). */
  kernelWeight?: number;
  activeConns?: number;
  inactiveConns?: number;
  traffic?: TrafficView;
}

/** One virtual service in the daemon's status: kernel state, real servers, traffic. */
export interface ServiceView {
  name: string;
  scheduler?: string;
  /** In the kernel's table. */
  present: boolean;
  quorumUp?: boolean;
  /** The service's own counters in the kernel (absent: not in the table). */
  traffic?: TrafficView;
  realServers: RealServerView[];
}

/** A Balancer's state: VRRP instances, VIPs, services with each real server's health, weight and connections, bans. */
export interface BalancerStatus {
  pid: number;
  config: string;
  startedAtMs: number;
  reloads: number;
  reloadFailures: number;
  /** Each instance; `priority` is the effective one, `basePriority` the configured one, `tracking` the trackers' part (vrrp_script, track_file). */
  instances: (InstanceStatus & { vips: string[]; basePriority?: number; tracking?: InstanceTracking })[];
  services: ServiceView[];
  autoban?: AutobanStatus;
  /** vrrp_script and track_file trackers: each one's state (or value). */
  trackers?: TrackerStatus[];
}
