// layer: behaviour (vrrp)
// job: what a VRRP runner reports, as typed events (one name per kind) and the hooks it calls for what lvskit does not do itself.
import type { DropCounters, DropReason } from './receive.js';
import type { VrrpReconfigureResult } from './reconfigure.js';
import type { NotifyState, TransitionReason, VrrpStateName } from './state.js';

/** An instance changed state (keepalived's "Entering MASTER STATE"). `atMs` is on the runner's clock. */
export interface TransitionEvent {
  type: 'transition';
  instance: string;
  from: VrrpStateName;
  to: NotifyState;
  reason: TransitionReason;
  priority: number;
  atMs: number;
}

/** All members of a sync group reached one state. */
export interface GroupTransitionEvent {
  type: 'group-transition';
  group: string;
  to: VrrpStateName;
  atMs: number;
}

/** A received datagram was dropped; `message` is what keepalived logs for it. */
export interface DropEvent {
  type: 'drop';
  /** Undefined when no instance could be picked (bad IP header, truncated before the VRID). */
  instance?: string;
  interface: string;
  reason: DropReason;
  message: string;
  src?: string;
}

/** A VIP was added or removed (or that failed: `error`). */
export interface VipEvent {
  type: 'vip';
  instance: string;
  op: 'add' | 'remove';
  address: string;
  prefixLength: number;
  dev: string;
  label?: string;
  error?: Error;
}

/** A route, rule or static address was added or removed (or that failed: `error`). */
export interface NetEvent {
  type: 'net';
  /** The instance whose virtual_routes/virtual_rules these are, or `static`. */
  owner: string;
  op: 'add' | 'remove';
  kind: 'route' | 'rule' | 'address';
  /** In `ip route` / `ip rule` / `ip addr` words. */
  what: string;
  error?: Error;
}

/** A round of gratuitous ARPs / unsolicited NAs was sent for a VIP. */
export interface AnnounceEvent {
  type: 'announce';
  instance: string;
  kind: 'garp' | 'na';
  address: string;
  dev: string;
  count: number;
  error?: Error;
}

/** What the IPVS sync daemon should do (`lvs_sync_daemon_interface`). */
export interface SyncDaemonRequest {
  instance: string;
  role: 'master' | 'backup' | 'stop';
  /** The sync daemon's interface. */
  interface: string;
  /** keepalived's default sync id: the instance's VRID. */
  syncId: number;
}

/** A sync-daemon request as reported, and whether a hook handled it. */
export interface SyncDaemonEvent extends SyncDaemonRequest {
  type: 'sync-daemon';
  /** False when no hook was given: nothing was done. */
  handled: boolean;
  error?: Error;
}

/** A notify script finished (or could not start: `error`). */
export interface ScriptEvent {
  type: 'script';
  /** Instance or sync-group name. */
  owner: string;
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  error?: Error;
}

/** Something went wrong that does not stop the runner (a kernel refusal, a send that failed, a config conflict). */
export interface WarningEvent {
  type: 'warning';
  instance?: string;
  /** The setting it is about, as a field path of the runner's input (`instances[2].vmac`), when there is one. */
  field?: string;
  message: string;
  error?: Error;
}

/**
 * The link watcher's socket overflowed (ENOBUFS: a burst of link changes outran the VRRP thread, so
 * notifications were lost) and the links were read again: `changed` links differed from what it
 * knew. Tracking (track_interface, the instances' own links) follows the fresh state.
 */
export interface LinksResyncedEvent {
  type: 'links-resynced';
  overruns: number;
  changed: number;
}

/** A reconfigure was applied. */
export interface ReconfigureEvent extends VrrpReconfigureResult {
  type: 'reconfigure';
  atMs: number;
}

/** Any event of a `VrrpRunner`, with its `type`. */
export type VrrpRunnerEvent =
  | TransitionEvent | GroupTransitionEvent | DropEvent | VipEvent | NetEvent | AnnounceEvent | SyncDaemonEvent | ScriptEvent | WarningEvent
  | ReconfigureEvent | LinksResyncedEvent;

/** The runner's typed events, one name per kind. */
export interface VrrpRunnerEvents {
  transition: [TransitionEvent];
  'group-transition': [GroupTransitionEvent];
  drop: [DropEvent];
  vip: [VipEvent];
  net: [NetEvent];
  announce: [AnnounceEvent];
  'sync-daemon': [SyncDaemonEvent];
  script: [ScriptEvent];
  warning: [WarningEvent];
  reconfigure: [ReconfigureEvent];
  'links-resynced': [LinksResyncedEvent];
  close: [];
}

/** Names of all events an iterator follows. */
export const RUNNER_EVENT_NAMES = ['transition', 'group-transition', 'drop', 'vip', 'net', 'announce', 'sync-daemon', 'script', 'warning', 'reconfigure', 'links-resynced'] as const;

/** Hooks for work lvskit's VRRP does not do itself. */
export interface VrrpHooks {
  /**
   * Start/stop the IPVS sync daemon (the IPVS client is another module; the daemon wires it here).
   * Without it, requests are reported as `sync-daemon` events with `handled: false`.
   */
  syncDaemon?: (request: SyncDaemonRequest) => Promise<void> | void;
  /**
   * Accept_Mode false: block (true) or unblock traffic to the instance's VIPs (keepalived uses
   * iptables/nftables). Required when an instance sets `acceptMode: false`.
   */
  blockVips?: (request: { instance: string; addresses: string[]; block: boolean }) => Promise<void> | void;
}

/** Counters of one instance. */
export interface InstanceStats {
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  becameMaster: number;
  releasedMaster: number;
  drops: DropCounters;
}

/** One instance as `status()` reports it. */
export interface InstanceStatus {
  name: string;
  state: VrrpStateName;
  priority: number;
  vrid: number;
  interface: string;
  /** The master this BACKUP last heard. */
  master?: { address: string; priority: number };
  masterAdverIntervalCs: number;
  stats: InstanceStats;
}
